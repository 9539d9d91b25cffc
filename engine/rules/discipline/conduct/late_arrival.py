"""``discipline.late_arrival``: no clock-in by the rostered start plus the tolerance.

The family's module docstring (``__init__``) says why the rule looks the way it does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.contract import events as ev
from engine.rules.discipline.conduct.bases import (
    AttendanceRule,
    LateTolerance,
)
from engine.rules.discipline.floor import StaffState
from engine.rules.registry import register

__all__ = ["LateArrivalRule"]


@register
class LateArrivalRule(AttendanceRule):
    name = "discipline.late_arrival"
    level = "warning"

    def __init__(self, *, late_tolerance_minutes: LateTolerance = 5.0) -> None:
        self.late_tolerance_minutes = late_tolerance_minutes

    def roster(self, event: ev.StaffRoster, st: StaffState) -> None:
        due = event.shift_start + timedelta(minutes=self.late_tolerance_minutes)
        self.book.schedule(self.name, event.staff_id, due)

    def timer_fired(self, key: str, when: datetime) -> None:
        st = self.book.staff[key]
        roster = st.roster
        if roster is None:
            return
        earliest = roster.shift_start - timedelta(hours=4)
        if st.clock_in is not None and st.clock_in >= earliest:
            return
        self._emit(st, when, {"shift_start": roster.shift_start.isoformat(), "window_id": roster.window_id})
