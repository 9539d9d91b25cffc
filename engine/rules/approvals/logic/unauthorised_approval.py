"""``logic.unauthorised_approval`` (越权审批): the approver's authorisation does not include the item."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from engine.contract.events import (
    CaseDecided,
)
from engine.rules.base import Rule
from engine.rules.registry import register
from engine.runtime.cases import CaseState

__all__ = ["UnauthorisedApproval"]


@register
class UnauthorisedApproval(Rule):
    """越权审批: the approver's authorisation does not include the case's item."""

    name = "logic.unauthorised_approval"
    section = "authority"
    kinds = ("case.decided",)

    def __init__(
        self,
        *,
        judge_unknown_items: Annotated[
            bool,
            Meta(
                description="Whether a decision on an item code the catalogue does not know is 越权. Off: "
                "no verdict, since nobody can hold authority for a code the platform never published, and "
                "such a code is usually a department system still on an older catalogue version (reported "
                "once per code by source.unknown_item), not an official exceeding authority."
            ),
        ] = False,
    ) -> None:
        self.judge_unknown_items = judge_unknown_items

    def check_one(self, event: CaseDecided, case: CaseState) -> None:
        if case.item_id is None:
            return
        if not self.judge_unknown_items and case.item_id not in self._items:
            return
        catalogue = self.ctx.catalogue
        if not catalogue.may_decide(event.approver_id, case.item_id):
            self.emit_case(
                case,
                event.ts,
                staff_id=event.approver_id,
                evidence={
                    "event_id": event.event_id,
                    "item_id": case.item_id,
                    "approver_known": event.approver_id in catalogue.staff,
                    "score": 1.0,
                },
            )
