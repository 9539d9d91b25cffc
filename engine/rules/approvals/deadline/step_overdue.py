"""``step.overdue``: A workflow step took longer than its catalogue limit (plus ``grace_days``)."""

from __future__ import annotations

from datetime import datetime

from engine.contract.events import CaseResumed, StepCompleted, StepStarted
from engine.rules.approvals.deadline.case_clock import (
    StepGrace,
)
from engine.rules.base import Rule
from engine.rules.registry import register
from engine.runtime.cases import CaseState
from engine.runtime.timers import TimerKey

__all__ = ["StepOverdue"]


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
