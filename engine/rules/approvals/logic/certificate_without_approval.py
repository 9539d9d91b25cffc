"""``logic.certificate_without_approval``: a certificate with no ``approve`` decision recorded before it."""

from __future__ import annotations

from engine.contract.events import (
    CertificateIssued,
)
from engine.rules.base import Rule
from engine.rules.registry import register
from engine.runtime.cases import CaseState

__all__ = ["CertificateWithoutApproval"]


@register
class CertificateWithoutApproval(Rule):
    """A certificate issued when no ``approve`` decision was recorded before it."""

    name = "logic.certificate_without_approval"
    kinds = ("certificate.issued",)

    def check_one(self, event: CertificateIssued, case: CaseState) -> None:
        if not case.approved:
            self.emit_case(
                case,
                event.ts,
                staff_id=event.staff_id,
                evidence={"event_id": event.event_id, "certificate_no": event.certificate_no, "score": 1.0},
            )
