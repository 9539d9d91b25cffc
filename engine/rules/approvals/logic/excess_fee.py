"""``logic.excess_fee``: fees charged on a case exceed the item's standard (any fee on a free item)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from engine.contract.events import (
    FeeCharged,
)
from engine.rules.base import Rule
from engine.rules.registry import register
from engine.runtime.cases import CaseState

__all__ = ["ExcessFee"]


@register
class ExcessFee(Rule):
    """Fees charged on a case exceed the item's standard (any fee on a free item).

    Charges are summed per case, so splitting an excess into small charges does not hide
    it. ``epsilon`` (yuan) absorbs rounding in the source system.
    """

    name = "logic.excess_fee"
    section = "fee"
    kinds = ("fee.charged",)

    def __init__(
        self,
        *,
        epsilon: Annotated[
            float,
            Meta(
                ge=0,
                description="Yuan; absorbs rounding to the fen (0.01) in source systems. Any fee above the "
                "standard (or any fee on a free item) beyond this is an excess fee.",
            ),
        ] = 0.005,
    ) -> None:
        self.epsilon = epsilon

    def check_one(self, event: FeeCharged, case: CaseState) -> None:
        item = self.item_of(case)
        if item is None:
            return
        excess = case.fee_total - item.fee_standard
        if excess > self.epsilon:
            self.emit_case(
                case,
                event.ts,
                staff_id=event.staff_id,
                evidence={
                    "event_id": event.event_id,
                    "charged": round(case.fee_total, 2),
                    "fee_standard": item.fee_standard,
                    "score": round(excess, 2),
                },
            )
