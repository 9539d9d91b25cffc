"""Hall discipline rules on camera streams: leaving the post, dead cameras, empty windows.

Why these rules look the way they do (docs/cameras.md has the measurements):

* ``discipline.absence`` (离岗/脱岗): the debounced seat has been empty for
  ``absence_minutes`` of *service time* while the staff member is clocked in. The absence
  starts at the first raw "absent" verdict of the run (see :mod:`engine.rules.discipline.floor`);
  scheduled rests from the roster and declared breaks (暂离) push the start to their end,
  so only the overstay counts. No alert while the window's camera is unhealthy: a silent
  camera proves nothing, and the equipment rule speaks instead.
* ``discipline.camera_offline``: no event at all (heartbeats included) from a camera for
  ``offline_minutes`` during working time. Outside working time the check waits for the
  next working period, since halls switch analytics off at night.
* ``discipline.empty_window`` (空岗): the seat is (debounced) empty while the department's
  queue camera counts at least ``queue_threshold`` people, continuously for
  ``empty_minutes``. The queue side is smoothed (running median of the last
  ``queue_window`` counts) and has hysteresis: on at the threshold, off only when the
  smoothed count falls ``queue_hysteresis`` below it and stays there for
  ``queue_off_seconds`` (a queue standing at the threshold reads one below it now and then
  through count noise, which used to restart the ``empty_minutes``).

The family (:class:`engine.rules.discipline.floor.DisciplineBook`) is attached to the engine by the
first discipline rule bound to it, so the runtime needs no knowledge of it.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Any

from engine.contract import events as ev
from engine.contract.calendar import CalendarRangeError
from engine.rules.base import Rule
from engine.rules.discipline.floor import (
    HOOK_NAMES,
    CameraState,
    DisciplineBook,
    FloorHooks,
    StaffState,
    WindowState,
)

__all__ = ["AbsenceRule", "CameraOfflineRule", "DisciplineRule", "EmptyWindowRule", "hook_names"]


def hook_names() -> tuple[str, ...]:
    """The hooks the book calls (``timer_fired`` is called by name)."""
    return HOOK_NAMES


class DisciplineRule(Rule, FloorHooks):
    """Base of the discipline rules: hooks called by the book, and a per-day alert counter."""

    section = "discipline"
    book: DisciplineBook

    def bind(self, ctx: Any) -> None:
        super().bind(ctx)
        book = getattr(ctx, "discipline", None)
        if book is None:
            d = ctx.rulebook.rules.discipline
            book = DisciplineBook(
                ctx.calendar.tz,
                min_confidence=d.min_confidence,
                leave_debounce_s=d.leave_debounce_s,
                return_debounce_s=d.return_debounce_s,
                heartbeat_grace_s=d.heartbeat_grace_s,
            )
            ctx.discipline = book
            ctx.families = (*ctx.families, book)
        self.book = book
        book.register(self)

    def reset(self) -> None:
        self._seq: dict[str, int] = {}

    def next_tag(self, key: str, when: datetime) -> str:
        """``key:YYYYMMDD:n``: stable under clock offsets and duplicates (counts, not instants)."""
        day = f"{key}:{when:%Y%m%d}"
        n = self._seq.get(day, 0) + 1
        self._seq[day] = n
        return f"{day}:{n}"

    def emit_for(
        self, subject: str, when: datetime, win: WindowState | None, evidence: dict[str, Any], tag: str
    ) -> None:
        self.ctx.emit(
            self,
            subject,
            when,
            hall_id=None if win is None else win.hall_id,
            department_id=None if win is None else win.department_id,
            staff_id=None if win is None else win.staff_id,
            evidence=evidence,
            discriminator=tag,
        )

    def finish_one(self, when: datetime) -> None:
        self.book.finish(when)

    # hooks: no-ops inherited from FloorHooks unless a rule overrides them


class AbsenceRule(DisciplineRule):
    name = "discipline.absence"
    level = "warning"

    def __init__(self, *, absence_minutes: float = 15.0) -> None:
        self.absence_minutes = absence_minutes

    def validate(self) -> None:
        if self.absence_minutes <= 0:
            raise ValueError(f"absence_minutes must be > 0, got {self.absence_minutes}")

    def _start(self, win: WindowState, st: StaffState, when: datetime) -> datetime | None:
        """The absence's excused-adjusted start, or None when it cannot be counted."""
        if win.since is None or st.clock_in is None:
            return None
        start = max(win.since, st.clock_in)
        moved = True
        while moved:
            moved = False
            for a, b in st.breaks:
                if a <= when and b > start:
                    start, moved = b, True
        return start

    def _due(self, start: datetime) -> datetime | None:
        cal = self.ctx.calendar
        try:
            return cal.from_index(cal.to_index(start) + 60.0 * self.absence_minutes)
        except CalendarRangeError:
            return None

    def _arm(self, win: WindowState, when: datetime) -> None:
        st = self.book.staff.get(win.staff_id or "")
        if st is None or win.stable is not False:
            return
        start = self._start(win, st, when)
        due = None if start is None else self._due(start)
        if due is not None:
            self.book.schedule(self.name, win.window_id, max(due, when))

    def presence_changed(self, win: WindowState, when: datetime) -> None:
        if win.stable is False:
            self._arm(win, when)
        else:
            self.book.cancel(self.name, win.window_id)

    def camera_resumed(self, cam: CameraState, when: datetime) -> None:
        for wid in cam.windows:
            self.book.cancel(self.name, wid)

    def attendance(self, event: Any, st: StaffState) -> None:
        if isinstance(event, ev.StaffClockIn) and event.window_id is not None:
            win = self.book.windows.get(event.window_id)
            if win is not None:
                self._arm(win, event.ts)

    def timer_fired(self, key: str, when: datetime) -> None:
        win = self.book.windows[key]
        st = self.book.staff.get(win.staff_id or "")
        if win.stable is not False or st is None or not st.on_duty(when):
            return
        start = self._start(win, st, when)
        due = None if start is None else self._due(start)
        if start is None or due is None:
            return
        if due.timestamp() > when.timestamp() + 1e-3:  # a break or the clock-in moved the start
            self.book.schedule(self.name, key, due)
            return
        if not self.book.camera_healthy(win.camera_id, when):
            return
        self.emit_for(
            f"staff:{st.staff_id}",
            when,
            win,
            {
                "window_id": win.window_id,
                "camera_id": win.camera_id,
                "since": start.isoformat(),
                "minutes": self.absence_minutes,
            },
            self.next_tag(key, start),
        )


class CameraOfflineRule(DisciplineRule):
    name = "discipline.camera_offline"
    level = "warning"

    def __init__(self, *, offline_minutes: float = 5.0) -> None:
        self.offline_minutes = offline_minutes

    def camera_seen(self, cam: CameraState, when: datetime) -> None:
        if (self.name, cam.camera_id) not in self.book._live:
            self._arm(cam, cam.last_seen)

    def _arm(self, cam: CameraState, base: float) -> None:
        due = datetime.fromtimestamp(base + 60.0 * self.offline_minutes, self.book.tz)
        self.book.schedule(self.name, cam.camera_id, due)

    def timer_fired(self, key: str, when: datetime) -> None:
        cam = self.book.cameras[key]
        silent = when.timestamp() - cam.last_seen
        if silent < 60.0 * self.offline_minutes - 1e-3:
            self._arm(cam, cam.last_seen)
            return
        cal = self.ctx.calendar
        try:
            working = cal.is_working_time(when)
            nxt = None if working else cal.next_working_start(when)
        except CalendarRangeError:
            return
        if nxt is not None:
            self._arm(cam, nxt.timestamp())
            return
        last = datetime.fromtimestamp(cam.last_seen, self.book.tz)
        self.emit_for(
            f"camera:{key}",
            when,
            None,
            {"camera_id": key, "hall_id": cam.hall_id, "last_seen": last.isoformat()},
            f"{key}:{int(cam.last_seen)}",
        )


class EmptyWindowRule(DisciplineRule):
    name = "discipline.empty_window"
    level = "warning"

    def __init__(
        self,
        *,
        queue_threshold: int = 3,
        queue_hysteresis: int = 0,
        queue_window: int = 3,
        queue_off_seconds: float = 30.0,
        empty_minutes: float = 5.0,
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
