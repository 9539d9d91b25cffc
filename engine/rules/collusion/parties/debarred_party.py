"""``collusion.debarred_party``: a debarred bidder bids again, or a debarred expert evaluates again."""

from __future__ import annotations

from typing import Any

from engine.contract import events as ev
from engine.rules.collusion.parties.card import CardRule
from engine.rules.collusion.tenders import TenderState
from engine.rules.collusion.traces import TenderRule
from engine.rules.registry import register

__all__ = ["DebarredPartyRule"]


@register
class DebarredPartyRule(TenderRule):
    """A debarred bidder bids again, or a debarred expert evaluates again (needs ``collusion.card``)."""

    name = "collusion.debarred_party"
    level = "red"
    kinds = ("bid.submitted", "expert.scored")

    def reset(self) -> None:
        self._cards: CardRule | None = None

    def _board(self) -> CardRule | None:
        if self._cards is None:
            rules = getattr(self.ctx, "rules", ())
            self._cards = next((r for r in rules if isinstance(r, CardRule)), None)
        return self._cards

    def check_tender(self, event: Any, tender: TenderState) -> None:
        board = self._board()
        if board is None:
            return
        if isinstance(event, ev.BidSubmitted):
            subject, role = f"bidder:{event.bidder_id}", "bidding"
        else:
            subject, role = f"expert:{event.expert_id}", "evaluating"
        until = board.debarred_until.get(subject)
        if until is None or event.ts >= until:
            return
        self.emit_subject(
            subject,
            event.ts,
            {"tender_id": tender.tender_id, "role": role, "debarred_until": until.isoformat()},
            discriminator=tender.tender_id,
        )
