"""Time-limit rules: deadline warning, overdue (yellow), severely overdue (red), step overdue.

All four are timers on a working-time clock (see :mod:`engine.runtime.cases`). A rule arms its
timer when the clock starts (``case.accepted`` / ``step.started``) and re-arms it when a
legally suspended case resumes, because the pause moved the deadline. A timer that fires
while the case is legally suspended does nothing: the resume will arm it again at the
right instant. A closed case is dropped by the engine, which cancels its timers, so a case
closed at or before its deadline never gets the alert.

The alert ``ts`` is the threshold instant itself (``WorkingCalendar.deadline`` semantics:
the *latest* instant at which the elapsed working time equals the threshold), which is
exactly when a supervisor watching the clock could first know.
"""

from __future__ import annotations

from datetime import datetime

from engine.contract.events import CaseResumed, StepCompleted, StepStarted
from engine.rules.base import Rule
from engine.runtime.cases import CaseState
from engine.runtime.timers import TimerKey

__all__ = ["DeadlineOverdue", "DeadlineSevere", "DeadlineWarning", "StepOverdue"]


class _CaseClockRule(Rule):
    """A timer at ``threshold`` working days of effective case time."""

    section = "deadline"
    kinds = ("case.accepted", "case.resumed")

    def reset(self) -> None:
        self._day = self.ctx.day_seconds
        self._schedule = self.ctx.schedule

    def instant_limit(self) -> float | None:
        """Limit for instant cases, in working days; None when the rule ignores them."""
        return None

    def threshold_days(self, limit_days: float, promised: bool) -> float | None:
        raise NotImplementedError

    def _limit(self, case: CaseState) -> tuple[float, bool] | None:
        """(limit in working days, promised?) or None when the item is unknown."""
        item = self.item_of(case)
        if item is None:
            return None
        if case.case_type == "promised" and item.promised_days > 0:
            return float(item.promised_days), True
        # Instant cases (即办件) have no promised limit; the rulebook's instant limit only
        # catches exports from real systems in which they were left open.
        instant = self.instant_limit()
        return None if instant is None else (float(instant), False)

    def check_one(self, event: object, case: CaseState) -> None:
        # ``_limit`` and ``case_due_index`` inlined: every accepted case passes here three times.
        if not case.accepted or case.legal_suspended:
            return
        item_id = case.item_id
        item = None if item_id is None else self._items.get(item_id)
        if item is None:
            return
        if case.case_type == "promised" and item.promised_days > 0:
            threshold = self.threshold_days(float(item.promised_days), True)
        else:
            instant = self.instant_limit()
            if instant is None:
                return
            threshold = self.threshold_days(float(instant), False)
        if threshold is None:
            return
        # Re-arming after an alert (a resume) is harmless: the engine raises each alert once.
        due = case.accept_idx + case.paused + threshold * self._day
        self._schedule(case, (self.name, case.case_id, ""), due)

    def timer_one(self, case: CaseState, key: TimerKey, when: datetime) -> None:
        if case.legal_suspended:
            return
        limit = self._limit(case)
        if limit is None:
            return
        limit_days, promised = limit
        threshold = self.threshold_days(limit_days, promised)
        if threshold is None:
            return
        day = self.ctx.day_seconds
        accepted_at = case.accepted_at.isoformat() if case.accepted_at is not None else None
        self.emit_case(
            case,
            when,
            staff_id=case.holder,
            evidence={
                "accepted_at": accepted_at,
                "case_type": case.case_type,
                "limit_days": limit_days,
                "threshold_days": threshold,
                "paused_days": round(case.paused / day, 6),
                "open_steps": sorted(case.open_steps),
                # How far into the limit the clock is when the alert is raised.
                "score": round(threshold / limit_days, 6),
            },
        )


class DeadlineWarning(_CaseClockRule):
    """时限预警: a promised case is still open ``warning_lead_days`` before its limit.

    Instant cases get no warning. When the lead is not shorter than the limit there is no
    warning either: a warning at acceptance would tell the supervisor nothing.
    """

    name = "deadline.warning"
    level = "warning"

    def __init__(self, *, warning_lead_days: float = 1.0) -> None:
        self.warning_lead_days = warning_lead_days

    def validate(self) -> None:
        if self.warning_lead_days < 0:
            raise ValueError("warning_lead_days must be >= 0")

    def threshold_days(self, limit_days: float, promised: bool) -> float | None:
        if not promised:
            return None
        at = limit_days - self.warning_lead_days
        return at if at > 0 else None


class DeadlineOverdue(_CaseClockRule):
    """超时 (yellow card): the case is still open after its deadline."""

    name = "deadline.overdue"
    level = "yellow"

    def __init__(self, *, instant_limit_days: float = 1.0) -> None:
        self.instant_limit_days = instant_limit_days

    def validate(self) -> None:
        if self.instant_limit_days <= 0:
            raise ValueError("instant_limit_days must be > 0")

    def instant_limit(self) -> float | None:
        return self.instant_limit_days

    def threshold_days(self, limit_days: float, promised: bool) -> float | None:
        return limit_days


class DeadlineSevere(_CaseClockRule):
    """Red card: still open ``severe_overdue_days`` working days after the deadline."""

    name = "deadline.severe"
    level = "red"

    def __init__(self, *, severe_overdue_days: float = 5.0, instant_limit_days: float = 1.0) -> None:
        self.severe_overdue_days = severe_overdue_days
        self.instant_limit_days = instant_limit_days

    def validate(self) -> None:
        if self.severe_overdue_days < 0 or self.instant_limit_days <= 0:
            raise ValueError("severe_overdue_days must be >= 0 and instant_limit_days > 0")

    def instant_limit(self) -> float | None:
        return self.instant_limit_days

    def threshold_days(self, limit_days: float, promised: bool) -> float | None:
        return limit_days + self.severe_overdue_days


class StepOverdue(Rule):
    """A workflow step took longer than its catalogue limit (plus ``grace_days``).

    One alert per (case, step); the step clock excludes legal suspensions during the step.
    """

    name = "step.overdue"
    level = "warning"
    section = "step"
    kinds = ("step.started", "step.completed", "case.resumed")

    def __init__(self, *, grace_days: float = 0.0) -> None:
        self.grace_days = grace_days

    def validate(self) -> None:
        if self.grace_days < 0:
            raise ValueError("grace_days must be >= 0")

    def reset(self) -> None:
        self._day = self.ctx.day_seconds
        self._schedule = self.ctx.schedule
        self._cancel = self.ctx.cancel

    def _limit_days(self, case: CaseState, step: str) -> float | None:
        item = self.item_of(case)
        if item is None:
            return None
        limit = item.step_limit_days.get(step)
        return None if limit is None else limit + self.grace_days

    def _arm(self, case: CaseState, step: str) -> None:
        # ``_limit_days`` and ``step_due_index`` inlined: every step start passes here.
        open_step = case.open_steps.get(step)
        if open_step is None:
            return
        item_id = case.item_id
        item = None if item_id is None else self._items.get(item_id)
        if item is None:
            return
        limit = item.step_limit_days.get(step)
        if limit is None:
            return
        seconds = (limit + self.grace_days) * self._day
        index = open_step.start_idx + (case.paused - open_step.paused_base) + seconds
        self._schedule(case, (self.name, case.case_id, step), index)

    def check_one(self, event: StepStarted | StepCompleted | CaseResumed, case: CaseState) -> None:
        # Events are final structs: an identity test on the class, not an isinstance chain.
        if type(event) is StepStarted:
            if not case.legal_suspended:
                self._arm(case, event.step)
        elif type(event) is StepCompleted:
            self._cancel((self.name, case.case_id, event.step))
        else:  # case.resumed: legal pauses moved every open step's deadline
            for step in sorted(case.open_steps):
                self._arm(case, step)

    def timer_one(self, case: CaseState, key: TimerKey, when: datetime) -> None:
        step = key[2]
        open_step = case.open_steps.get(step)
        limit = self._limit_days(case, step)
        if case.legal_suspended or open_step is None or limit is None:
            return
        self.emit_case(
            case,
            when,
            staff_id=open_step.staff_id,
            discriminator=step,
            evidence={
                "step": step,
                "started_at": open_step.started_at.isoformat(),
                "limit_days": limit,
                "score": 1.0,
            },
        )
