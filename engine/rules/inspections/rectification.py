"""Rectification overdue (整改逾期): a notice not verified as rectified by its working-day deadline.

The clock starts at ``inspection.rectification_issued`` and runs ``deadline_days`` working days
(the notice's own deadline) on the engine's calendar; its timer is one of the engine's calendar
timers, fired by the watermark, so the alert's ``ts`` is the deadline's (latest) instant, as for
the complaint limits. A verification that finds the problem rectified stops it; one that finds it
not rectified does not. A rectification verified in the deadline's last minutes is on time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.contract import events as ev
from engine.rules.base import Rule, RuleContext
from engine.rules.inspections.book import InspectionBook, RectificationState
from engine.rules.registry import register
from engine.runtime.timers import TimerKey

__all__ = ["RectificationOverdue"]


@register
class RectificationOverdue(Rule):
    """A rectification notice still not verified as rectified at its deadline."""

    name = "inspection.rectification_overdue"
    level = "warning"
    section = None  # the deadline is the notice's own, not a threshold of the rulebook
    kinds = ("inspection.rectification_issued", "inspection.rectification_verified")
    timer_family = InspectionBook

    def bind(self, ctx: RuleContext) -> None:
        super().bind(ctx)
        ctx.family(InspectionBook, InspectionBook)

    def reset(self) -> None:
        self._day = self.ctx.day_seconds

    def check_one(self, event: Any, state: Any) -> None:
        key = (self.name, state.rectification_id, "")
        if event.__class__ is ev.RectificationIssued:
            index = self.ctx.to_index(event.ts) + event.deadline_days * self._day
            self.ctx.schedule(key, index, None)
        elif state.rectified is not None:
            self.ctx.cancel(key)

    def timer_one(self, state: RectificationState, key: TimerKey, when: datetime) -> None:
        if state.rectified is not None or state.issued is None:
            return
        self.ctx.emit(
            self,
            state.subject,
            when,
            hall_id=state.hall_id,
            department_id=state.department_id,
            staff_id=None,
            evidence={
                "issued_at": state.issued.isoformat(),
                "deadline_days": state.deadline_days,
                "inspection_id": state.inspection_id,
                "finding_id": state.finding_id,
            },
        )
