"""``logic.certificate_without_approval``: a certificate with no ``approve`` decision recorded before it."""

from __future__ import annotations

from engine.contract.events import CaseDecided, CertificateIssued
from engine.rules.approvals.held import GraceRule
from engine.rules.registry import register
from engine.runtime.cases import CaseState

__all__ = ["CertificateWithoutApproval"]


@register
class CertificateWithoutApproval(GraceRule):
    """A certificate issued when no ``approve`` decision was recorded before it.

    With ``confirm_after_hours`` the verdict waits for an approval typed in late.
    """

    name = "logic.certificate_without_approval"
    kinds = ("certificate.issued",)
    #: Decisions matter only to a held verdict: they reach the rule once it has held one.
    dormant_kinds = ("case.decided",)
    closed_kinds = ("case.decided",)

    def check_one(self, event: CertificateIssued | CaseDecided, case: CaseState) -> None:
        if isinstance(event, CaseDecided):
            self.closed_one(event)
            return
        if not case.approved:
            self.hold(
                case,
                event.ts,
                staff_id=event.staff_id,
                evidence={
                    "event_id": event.event_id,
                    "certificate_no": event.certificate_no,
                    "score": 1.0,
                },
                awaiting=("approval",),
            )

    def closed_one(self, event: CaseDecided) -> None:
        if event.decision == "approve":
            self.arrived(event.case_id, "approval", event)
