"""What the conduct rules share: their base classes, helpers and threshold types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from msgspec import Meta

from engine.contract.alerts import Alert
from engine.rules.discipline.floor import StaffState
from engine.rules.discipline.presence import DisciplineRule

__all__ = [
    "VIOLATION_RULES",
    "AttendanceRule",
    "BlueAfter",
    "DisputeCooldown",
    "DisputeMinAlerts",
    "DisputeMinConfidence",
    "DisputeWindow",
    "EarlyTolerance",
    "LadderCardRule",
    "LateTolerance",
    "RedAfter",
    "YellowAfter",
    "staff_subject",
]


LateTolerance = Annotated[
    float,
    Meta(
        ge=0,
        description=("Attendance against the roster: 5 minutes of tolerance after the shift start."),
    ),
]


EarlyTolerance = Annotated[
    float,
    Meta(
        ge=0,
        description=("The same tolerance before the end of the shift."),
    ),
]


DisputeMinAlerts = Annotated[
    int,
    Meta(
        ge=1,
        description=(
            "Disputes: 2 raised-voice detections (confidence >= dispute_min_confidence) within "
            "dispute_window_minutes route the window for review; one alert per burst."
        ),
    ),
]


DisputeWindow = Annotated[
    float,
    Meta(
        gt=0,
        description=("Window of those detections, minutes."),
    ),
]


DisputeMinConfidence = Annotated[
    float,
    Meta(
        ge=0,
        le=1,
        description=("Raised-voice detections below this confidence are ignored."),
    ),
]


DisputeCooldown = Annotated[
    float,
    Meta(
        ge=0,
        description=("Quiet minutes before the same window can raise a new dispute."),
    ),
]


BlueAfter = Annotated[
    int,
    Meta(
        ge=1,
        description=(
            "Ladder per staff member and calendar month: blue card on the 1st violation (提醒 → 黄牌 → "
            "红牌, the escalation of DOMAIN.md) ..."
        ),
    ),
]


YellowAfter = Annotated[
    int,
    Meta(
        ge=1,
        description=("... yellow card on the 2nd violation of the month ..."),
    ),
]


RedAfter = Annotated[
    int,
    Meta(
        ge=1,
        description=("... red card on the 3rd."),
    ),
]


#: The rules whose alerts count as a staff member's discipline violations.
VIOLATION_RULES = ("discipline.absence", "discipline.late_arrival", "discipline.early_departure")


def staff_subject(st: StaffState) -> str:
    return f"staff:{st.staff_id}"


class AttendanceRule(DisciplineRule):
    def _emit(self, st: StaffState, when: datetime, evidence: dict[str, Any]) -> None:
        roster = st.roster
        assert roster is not None
        win = self.book.windows.get(roster.window_id)
        self.emit_for(staff_subject(st), when, win, evidence, f"{roster.shift_start:%Y%m%d}")


class LadderCardRule(DisciplineRule):
    """A ladder step: the ``after``-th violation of a staff member in a calendar month."""

    observes_alerts = True
    _param = ""

    def reset(self) -> None:
        super().reset()
        self._counts: dict[tuple[str, str], int] = {}

    def alert_one(self, alert: Alert) -> None:
        if alert.rule not in VIOLATION_RULES or alert.staff_id is None:
            return
        month = f"{alert.ts:%Y-%m}"
        key = (alert.staff_id, month)
        n = self._counts.get(key, 0) + 1
        self._counts[key] = n
        if n == getattr(self, self._param):
            self.ctx.emit(
                self,
                f"staff:{alert.staff_id}",
                alert.ts,
                hall_id=alert.hall_id,
                department_id=alert.department_id,
                staff_id=alert.staff_id,
                evidence={"month": month, "violations": n, "last_alert": alert.alert_id},
                discriminator=month,
            )
