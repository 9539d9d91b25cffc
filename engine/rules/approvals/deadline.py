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

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

import numpy as np
import numpy.typing as npt
from msgspec import Meta

from engine.contract.events import CaseResumed, StepCompleted, StepStarted
from engine.rules.base import Rule
from engine.rules.registry import register
from engine.runtime.cases import CaseState
from engine.runtime.catalogue import ItemInfo
from engine.runtime.timers import TimerKey

__all__ = [
    "DeadlineOverdue",
    "DeadlineSevere",
    "DeadlineWarning",
    "InstantLimit",
    "StepOverdue",
    "case_limit",
]

WarningLead = Annotated[
    float,
    Meta(
        ge=0, description="时限预警: warn one working day before the promised limit (the usual 提前一天预警)."
    ),
]
SevereOverdue = Annotated[
    float,
    Meta(
        ge=0,
        description="Red card when still open five working days past the limit (severe 超时; county rules "
        "escalate serious delays, five working days is a common threshold).",
    ),
]
#: Shared by the overdue and severe rules (one section field).
InstantLimit = Annotated[
    float,
    Meta(
        gt=0,
        description="Instant cases (即办件) must close the same day; one working day catches cases that a "
        "real system left open without flagging same-day closures late in the afternoon.",
    ),
]
StepGrace = Annotated[
    float,
    Meta(
        ge=0,
        description="Extra working days beyond a step's catalogue limit before step.overdue; 0 applies "
        "the catalogue limit exactly, as the fixed flow (流程固化) prescribes.",
    ),
]


class _CaseClockRule(Rule):
    """A timer at ``threshold`` working days of effective case time."""

    section = "deadline"
    kinds = ("case.accepted", "case.resumed")

    def reset(self) -> None:
        self._day = self.ctx.day_seconds
        self._schedule = self.ctx.schedule
        #: Read once per binding, like every parameter-derived value (parameters set later
        #: take effect at the next ``bind``, as an estimator's take effect at the next fit).
        self._instant = self.instant_limit()

    def instant_limit(self) -> float | None:
        """Limit for instant cases, in working days; None when the rule ignores them."""
        return None

    def threshold_days(self, limit_days: float, promised: bool) -> float | None:
        """Working days of effective case time at which the timer fires; None: no timer."""
        raise NotImplementedError

    def thresholds_many(
        self, limit_days: npt.NDArray[np.float64], promised: npt.NDArray[np.bool_]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """:meth:`threshold_days` and the limit for many arms at once (``nan``: no timer).

        ``limit_days`` is the item's promised limit where ``promised``; an instant case takes
        the rule's instant limit, as :meth:`_limit` does. The vectorised sweep path
        (:mod:`engine.vectorised.thresholds`) calls this; a generic test holds it equal to
        the scalar method.
        """
        instant = self.instant_limit()
        limit = np.where(promised, limit_days, np.nan if instant is None else instant)
        return self._thresholds_many(limit, promised), limit

    def _thresholds_many(
        self, limit: npt.NDArray[np.float64], promised: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.float64]:
        raise NotImplementedError

    def _limit(self, case: CaseState) -> tuple[float, bool] | None:
        """(limit in working days, promised?) or None when the item is unknown."""
        return case_limit(case, self._items, self.instant_limit())

    def check_one(self, event: object, case: CaseState) -> None:
        if not case.accepted or case.legal_suspended:
            return
        limit = case_limit(case, self._items, self._instant)
        if limit is None:
            return
        threshold = self.threshold_days(limit[0], limit[1])
        if threshold is None:
            return
        # The case clock: working time since acceptance, minus legal pauses. Re-arming after
        # an alert (a resume) is harmless: the engine raises each alert once.
        due = case.accept_idx + case.paused + threshold * self._day
        self._schedule((self.name, case.case_id, ""), due, case.timer_keys)

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


def case_limit(
    case: CaseState, items: Mapping[str, ItemInfo], instant: float | None
) -> tuple[float, bool] | None:
    """(limit in working days, promised?) of ``case``; None when its item is unknown.

    Instant cases (即办件) have no promised limit: they take ``instant`` (a rule's instant limit,
    which only catches exports from real systems that left them open), or None without one.
    """
    item = None if case.item_id is None else items.get(case.item_id)
    if item is None:
        return None
    if case.case_type == "promised" and item.promised_days > 0:
        return float(item.promised_days), True
    return None if instant is None else (float(instant), False)


@register
class DeadlineWarning(_CaseClockRule):
    """时限预警: a promised case is still open ``warning_lead_days`` before its limit.

    Instant cases get no warning. When the lead is not shorter than the limit there is no
    warning either: a warning at acceptance would tell the supervisor nothing.
    """

    name = "deadline.warning"
    level = "warning"

    def __init__(self, *, warning_lead_days: WarningLead = 1.0) -> None:
        self.warning_lead_days = warning_lead_days

    def threshold_days(self, limit_days: float, promised: bool) -> float | None:
        if not promised:
            return None
        at = limit_days - self.warning_lead_days
        return at if at > 0 else None

    def _thresholds_many(
        self, limit: npt.NDArray[np.float64], promised: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.float64]:
        at = limit - self.warning_lead_days
        with np.errstate(invalid="ignore"):
            return np.where(promised & (at > 0), at, np.nan)


@register
class DeadlineOverdue(_CaseClockRule):
    """超时 (yellow card): the case is still open after its deadline."""

    name = "deadline.overdue"
    level = "yellow"

    def __init__(self, *, instant_limit_days: InstantLimit = 1.0) -> None:
        self.instant_limit_days = instant_limit_days

    def instant_limit(self) -> float | None:
        return self.instant_limit_days

    def threshold_days(self, limit_days: float, promised: bool) -> float | None:
        return limit_days

    def _thresholds_many(
        self, limit: npt.NDArray[np.float64], promised: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.float64]:
        return limit


@register
class DeadlineSevere(_CaseClockRule):
    """Red card: still open ``severe_overdue_days`` working days after the deadline."""

    name = "deadline.severe"
    level = "red"

    def __init__(
        self, *, severe_overdue_days: SevereOverdue = 5.0, instant_limit_days: InstantLimit = 1.0
    ) -> None:
        self.severe_overdue_days = severe_overdue_days
        self.instant_limit_days = instant_limit_days

    def instant_limit(self) -> float | None:
        return self.instant_limit_days

    def threshold_days(self, limit_days: float, promised: bool) -> float | None:
        return limit_days + self.severe_overdue_days

    def _thresholds_many(
        self, limit: npt.NDArray[np.float64], promised: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.float64]:
        return limit + self.severe_overdue_days


@register
class StepOverdue(Rule):
    """A workflow step took longer than its catalogue limit (plus ``grace_days``).

    One alert per (case, step); the step clock excludes legal suspensions during the step.
    """

    name = "step.overdue"
    level = "warning"
    section = "step"
    kinds = ("step.started", "step.completed", "case.resumed")

    def __init__(self, *, grace_days: StepGrace = 0.0) -> None:
        self.grace_days = grace_days

    def reset(self) -> None:
        self._day = self.ctx.day_seconds
        self._schedule = self.ctx.schedule
        self._cancel = self.ctx.cancel

    def _limit_days(self, case: CaseState, step: str) -> float | None:
        """The step's catalogue limit plus the grace, in working days; None: no limit known."""
        item = self.item_of(case)
        if item is None:
            return None
        limit = item.step_limit_days.get(step)
        return None if limit is None else limit + self.grace_days

    def _arm(self, case: CaseState, step: str) -> None:
        open_step = case.open_steps.get(step)
        if open_step is None:
            return
        limit = self._limit_days(case, step)
        if limit is None:
            return
        # The step clock: working time since the step started, minus legal pauses during it.
        index = open_step.start_idx + (case.paused - open_step.paused_base) + limit * self._day
        self._schedule((self.name, case.case_id, step), index, case.timer_keys)

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
