"""``discipline.absence`` (离岗/脱岗): the seat empty for ``absence_minutes`` of service time.

The family's module docstring (``__init__``) says why the rule looks the way it does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.contract import events as ev
from engine.contract.calendar import CalendarRangeError
from engine.rules.discipline.floor import (
    CameraState,
    StaffState,
    WindowState,
)
from engine.rules.discipline.presence.bases import (
    AbsenceMinutes,
    DisciplineRule,
)
from engine.rules.registry import register

__all__ = ["AbsenceRule"]


@register
class AbsenceRule(DisciplineRule):
    name = "discipline.absence"
    level = "warning"

    def __init__(self, *, absence_minutes: AbsenceMinutes = 15.0) -> None:
        self.absence_minutes = absence_minutes

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
