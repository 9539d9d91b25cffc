"""``logic.decision_before_acceptance``: a decision on a case submitted but not yet accepted (受理)."""

from __future__ import annotations

from engine.contract.events import CaseAccepted, CaseDecided
from engine.rules.approvals.held import GraceRule
from engine.rules.registry import register
from engine.runtime.cases import CaseState

__all__ = ["DecisionBeforeAcceptance"]


@register
class DecisionBeforeAcceptance(GraceRule):
    """A decision on a case that was submitted but not yet accepted (受理).

    With ``confirm_after_hours`` the verdict waits for an acceptance typed in late.
    """

    name = "logic.decision_before_acceptance"
    kinds = ("case.decided",)
    #: Acceptances matter only to a held verdict: they reach the rule once it has held one.
    dormant_kinds = ("case.accepted",)
    closed_kinds = ("case.accepted",)

    def check_one(self, event: CaseDecided | CaseAccepted, case: CaseState) -> None:
        if isinstance(event, CaseAccepted):
            self.arrived(case.case_id, "acceptance", event)
            return
        if case.submitted and not case.accepted:
            self.hold(
                case,
                event.ts,
                staff_id=event.approver_id,
                evidence={"event_id": event.event_id, "score": 1.0},
                awaiting=("acceptance",),
            )

    def closed_one(self, event: CaseAccepted) -> None:
        self.arrived(event.case_id, "acceptance", event)
