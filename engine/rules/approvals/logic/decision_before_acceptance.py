"""``logic.decision_before_acceptance``: a decision on a case submitted but not yet accepted (受理)."""

from __future__ import annotations

from engine.contract.events import (
    CaseDecided,
)
from engine.rules.base import Rule
from engine.rules.registry import register
from engine.runtime.cases import CaseState

__all__ = ["DecisionBeforeAcceptance"]


@register
class DecisionBeforeAcceptance(Rule):
    """A decision on a case that was submitted but not yet accepted (受理)."""

    name = "logic.decision_before_acceptance"
    kinds = ("case.decided",)

    def check_one(self, event: CaseDecided, case: CaseState) -> None:
        if case.submitted and not case.accepted:
            self.emit_case(
                case,
                event.ts,
                staff_id=event.approver_id,
                evidence={"event_id": event.event_id, "score": 1.0},
            )
