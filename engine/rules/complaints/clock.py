"""What the complaint rules share: the complaint book, and a limit timer per handling round.

A limit is a number of working days on the engine's calendar from an instant (the hand-off,
the answer); its timer is one of the engine's calendar timers, keyed ``(rule, complaint id,
round)``, so it fires once the watermark passes the limit's instant, exactly like a deadline
rule's, and the alert's ``ts`` is that instant.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from engine.contract.alerts import Evidence
from engine.rules.base import Rule, RuleContext
from engine.rules.complaints.book import ComplaintBook, ComplaintState

__all__ = ["ComplaintRule"]


class ComplaintRule(Rule):
    """Base of the complaint rules: binds the shared :class:`ComplaintBook`; limit timers."""

    section: ClassVar[str | None] = "complaints"
    timer_family = ComplaintBook

    def bind(self, ctx: RuleContext) -> None:
        super().bind(ctx)
        ctx.family(ComplaintBook, ComplaintBook)

    def reset(self) -> None:
        self._day = self.ctx.day_seconds

    def arm(self, state: ComplaintState, since: datetime, days: float) -> None:
        """(Re-)arm this rule's timer for the current round at ``days`` working days after ``since``."""
        index = self.ctx.to_index(since) + days * self._day
        self.ctx.schedule((self.name, state.complaint_id, str(state.round)), index, None)

    def disarm(self, state: ComplaintState) -> None:
        self.ctx.cancel((self.name, state.complaint_id, str(state.round)))

    def emit_complaint(
        self,
        state: ComplaintState,
        when: datetime,
        *,
        staff_id: str | None,
        evidence: Evidence,
        discriminator: str = "",
    ) -> None:
        self.ctx.emit(
            self,
            state.subject,
            when,
            hall_id=state.hall_id,
            department_id=state.department_id,
            staff_id=staff_id,
            evidence=evidence,
            discriminator=discriminator,
        )
