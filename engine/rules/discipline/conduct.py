"""Attendance, disputes and the discipline card ladder.

* ``discipline.late_arrival`` / ``discipline.early_departure``: against the published roster,
  with a tolerance; late is known at ``shift_start + tolerance`` without a clock-in (the
  engine does not wait for the person to turn up), early at the clock-out itself.
* ``discipline.dispute``: ``dispute_min_alerts`` raised-voice detections of at least
  ``dispute_min_confidence`` at one window within ``dispute_window_minutes`` route the
  window for review (no verdict, no deduction: a human listens to the recording).
  One alert per burst: a new one needs ``dispute_cooldown_minutes`` of quiet.
* ``discipline.blue_card`` / ``yellow_card`` / ``red_card``: a ladder per staff member and
  calendar month, on the *n*-th violation (absence, late arrival, early departure). The
  blue rung is raised at level ``warning`` so that card boards rank it below yellow.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Annotated, Any

from msgspec import Meta

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.rules.discipline.floor import StaffState, WindowState
from engine.rules.discipline.presence import DisciplineRule
from engine.rules.registry import register

__all__ = [
    "VIOLATION_RULES",
    "BlueCardRule",
    "DisputeRule",
    "EarlyDepartureRule",
    "LadderCardRule",
    "LateArrivalRule",
    "RedCardRule",
    "YellowCardRule",
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


def _subject(st: StaffState) -> str:
    return f"staff:{st.staff_id}"


class _AttendanceRule(DisciplineRule):
    def _emit(self, st: StaffState, when: datetime, evidence: dict[str, Any]) -> None:
        roster = st.roster
        assert roster is not None
        win = self.book.windows.get(roster.window_id)
        self.emit_for(_subject(st), when, win, evidence, f"{roster.shift_start:%Y%m%d}")


@register
class LateArrivalRule(_AttendanceRule):
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


@register
class EarlyDepartureRule(_AttendanceRule):
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


@register
class DisputeRule(DisciplineRule):
    name = "discipline.dispute"
    level = "warning"

    def __init__(
        self,
        *,
        dispute_min_alerts: DisputeMinAlerts = 2,
        dispute_window_minutes: DisputeWindow = 3.0,
        dispute_min_confidence: DisputeMinConfidence = 0.6,
        dispute_cooldown_minutes: DisputeCooldown = 10.0,
    ) -> None:
        self.dispute_min_alerts = dispute_min_alerts
        self.dispute_window_minutes = dispute_window_minutes
        self.dispute_min_confidence = dispute_min_confidence
        self.dispute_cooldown_minutes = dispute_cooldown_minutes

    def reset(self) -> None:
        super().reset()
        self._recent: dict[str, deque[datetime]] = {}
        self._last: dict[str, datetime] = {}

    def audio(self, event: ev.AudioAlert, win: WindowState | None) -> None:
        if win is None or event.confidence < self.dispute_min_confidence:
            return
        wid = win.window_id
        recent = self._recent.setdefault(wid, deque())
        last = self._last.get(wid)
        cooling = last is not None and event.ts - last < timedelta(minutes=self.dispute_cooldown_minutes)
        recent.append(event.ts)
        while recent and event.ts - recent[0] > timedelta(minutes=self.dispute_window_minutes):
            recent.popleft()
        if cooling:
            self._last[wid] = event.ts
            return
        if len(recent) >= self.dispute_min_alerts:
            self._last[wid] = event.ts
            self.emit_for(
                win.subject,
                event.ts,
                win,
                {"window_id": wid, "detections": len(recent), "first": recent[0].isoformat()},
                self.next_tag(wid, event.ts),
            )


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


@register
class BlueCardRule(LadderCardRule):
    """The blue rung (提醒, a reminder) travels at level ``warning``, the lowest card rank."""

    name = "discipline.blue_card"
    level = "warning"
    _param = "blue_after"

    def __init__(self, *, blue_after: BlueAfter = 1) -> None:
        self.blue_after = blue_after


@register
class YellowCardRule(LadderCardRule):
    name = "discipline.yellow_card"
    level = "yellow"
    _param = "yellow_after"

    def __init__(self, *, yellow_after: YellowAfter = 2) -> None:
        self.yellow_after = yellow_after


@register
class RedCardRule(LadderCardRule):
    name = "discipline.red_card"
    level = "red"
    _param = "red_after"

    def __init__(self, *, red_after: RedAfter = 3) -> None:
        self.red_after = red_after
