"""``discipline.early_departure``: a clock-out before the rostered end, beyond the tolerance.

The family's module docstring (``__init__``) says why the rule looks the way it does.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.contract import events as ev
from engine.rules.discipline.conduct.bases import (
    AttendanceRule,
    EarlyTolerance,
)
from engine.rules.discipline.floor import StaffState
from engine.rules.registry import register

__all__ = ["EarlyDepartureRule"]


@register
class EarlyDepartureRule(AttendanceRule):
    name = "discipline.early_departure"
    level = "warning"

    def __init__(self, *, early_tolerance_minutes: EarlyTolerance = 5.0) -> None:
        self.early_tolerance_minutes = early_tolerance_minutes

    def attendance(self, event: Any, st: StaffState) -> None:
        roster = st.roster
        if not isinstance(event, ev.StaffClockOut) or roster is None:
            return
        limit = roster.shift_end - timedelta(minutes=self.early_tolerance_minutes)
        if roster.shift_start <= event.ts < limit:
            minutes = (roster.shift_end - event.ts).total_seconds() / 60.0
            self._emit(
                st,
                event.ts,
                {
                    "shift_end": roster.shift_end.isoformat(),
                    "minutes": round(minutes, 1),
                    "event": event.event_id,
                },
            )
