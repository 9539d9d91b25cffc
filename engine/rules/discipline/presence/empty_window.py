"""``discipline.empty_window`` (空岗): the seat empty while the queue stands at the threshold.

The family's module docstring (``__init__``) says why the rule looks the way it does.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from engine.rules.discipline.floor import (
    CameraState,
    WindowState,
)
from engine.rules.discipline.presence.bases import (
    DisciplineRule,
    EmptyMinutes,
    QueueHysteresis,
    QueueOffSeconds,
    QueueThreshold,
    QueueWindow,
)
from engine.rules.registry import register

__all__ = ["EmptyWindowRule"]


@register
class EmptyWindowRule(DisciplineRule):
    name = "discipline.empty_window"
    level = "warning"

    def __init__(
        self,
        *,
        queue_threshold: QueueThreshold = 3,
        queue_hysteresis: QueueHysteresis = 0,
        queue_window: QueueWindow = 3,
        queue_off_seconds: QueueOffSeconds = 30.0,
        empty_minutes: EmptyMinutes = 5.0,
    ) -> None:
        self.queue_threshold = queue_threshold
        self.queue_hysteresis = queue_hysteresis
        self.queue_window = queue_window
        self.queue_off_seconds = queue_off_seconds
        self.empty_minutes = empty_minutes

    def reset(self) -> None:
        super().reset()
        self._on: dict[str, bool] = {}
        self._low_since: dict[str, datetime] = {}
        self._counts: dict[str, deque[int]] = {}
        self._since: dict[str, datetime] = {}
        self._alerted: set[str] = set()

    def _eval(self, win: WindowState, when: datetime) -> None:
        dept = win.department_id
        cond = (
            win.stable is False
            and dept is not None
            and self._on.get(dept, False)
            and self.ctx.calendar.is_working_time(when)
        )
        wid = win.window_id
        if cond and wid not in self._since:
            self._since[wid] = when
            self.book.schedule(self.name, wid, when + timedelta(minutes=self.empty_minutes))
        elif not cond and wid in self._since:
            del self._since[wid]
            self._alerted.discard(wid)
            self.book.cancel(self.name, wid)

    def presence_changed(self, win: WindowState, when: datetime) -> None:
        self._eval(win, when)

    def queue_changed(self, department_id: str, count: int, when: datetime) -> None:
        recent = self._counts.get(department_id)
        if recent is None:
            recent = self._counts[department_id] = deque(maxlen=max(1, self.queue_window))
        recent.append(count)
        count = sorted(recent)[len(recent) // 2]  # running median: one noisy count is not a queue
        on = self._on.get(department_id, False)
        if count >= self.queue_threshold:
            on = True
            self._low_since.pop(department_id, None)
        elif count <= self.queue_threshold - 1 - self.queue_hysteresis:
            # Off only after the smoothed count has stayed low for queue_off_seconds: a
            # queue at the threshold reads one below it now and then (count noise).
            low = self._low_since.setdefault(department_id, when)
            if (when - low).total_seconds() >= self.queue_off_seconds:
                on = False
                del self._low_since[department_id]
        self._on[department_id] = on
        for wid in sorted(self.book.dept_windows.get(department_id, ())):
            self._eval(self.book.windows[wid], when)

    def camera_resumed(self, cam: CameraState, when: datetime) -> None:
        for wid in sorted(cam.windows):
            self._eval(self.book.windows[wid], when)

    def timer_fired(self, key: str, when: datetime) -> None:
        win = self.book.windows[key]
        since = self._since.get(key)
        if since is None or key in self._alerted or not self.ctx.calendar.is_working_time(when):
            return
        if not self.book.camera_healthy(win.camera_id, when):
            return
        self._alerted.add(key)
        self.emit_for(
            win.subject,
            when,
            win,
            {
                "window_id": key,
                "since": since.isoformat(),
                "queue": self.book.queues.get(win.department_id or "", 0),
            },
            self.next_tag(key, since),
        )
