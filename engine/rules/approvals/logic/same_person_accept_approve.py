"""``logic.same_person_accept_approve``: one person accepted and decided a case (no separation of duties)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from engine.contract.events import (
    CaseDecided,
)
from engine.rules.base import Rule
from engine.rules.registry import register
from engine.runtime.cases import CaseState

__all__ = ["SamePersonAcceptApprove"]


@register
class SamePersonAcceptApprove(Rule):
    """The person who accepted a case also decided it (no separation of duties)."""

    name = "logic.same_person_accept_approve"
    section = "same_person"
    kinds = ("case.decided",)

    def __init__(
        self,
        *,
        promised_only: Annotated[
            bool,
            Meta(
                description="Separation of duties applies to promised cases; an instant case is by design "
                "accepted and decided on the spot by the window officer."
            ),
        ] = True,
    ) -> None:
        self.promised_only = promised_only

    def check_one(self, event: CaseDecided, case: CaseState) -> None:
        if self.promised_only and case.case_type != "promised":
            return
        if case.acceptor is not None and case.acceptor == event.approver_id:
            self.emit_case(
                case,
                event.ts,
                staff_id=event.approver_id,
                evidence={"event_id": event.event_id, "score": 1.0},
            )
