"""``collusion.expert_pairing``: the same expert favours the same bidder in several tenders.

The family's module docstring (``__init__``) says why the rule looks the way it does.
"""

from __future__ import annotations

from typing import Any

from engine.rules.collusion.parties.bases import (
    FavourMargin,
    PairingMin,
    score_medians,
)
from engine.rules.collusion.tenders import TenderState
from engine.rules.collusion.traces import TenderRule
from engine.rules.registry import register

__all__ = ["ExpertPairingRule"]


@register
class ExpertPairingRule(TenderRule):
    name = "collusion.expert_pairing"
    level = "yellow"
    section = "collusion"
    kinds = ("tender.awarded",)

    def __init__(self, *, favour_margin: FavourMargin = 0.10, pairing_min: PairingMin = 3) -> None:
        self.favour_margin = favour_margin
        self.pairing_min = pairing_min

    def reset(self) -> None:
        self._pairs: dict[tuple[str, str], list[str]] = {}

    def check_tender(self, event: Any, tender: TenderState) -> None:
        medians = score_medians(tender)
        for expert in sorted(tender.scores):
            for bidder, score in sorted(tender.scores[expert].items()):
                med = medians.get(bidder)
                if med is None or score < med * (1 + self.favour_margin):
                    continue
                seen = self._pairs.setdefault((expert, bidder), [])
                seen.append(tender.tender_id)
                if len(seen) >= self.pairing_min:
                    self.emit_subject(
                        f"expert:{expert}",
                        event.ts,
                        {
                            "expert_id": expert,
                            "bidder_id": bidder,
                            "tenders": list(seen),
                            "bidders": [bidder],
                        },
                        discriminator=f"{bidder}:{tender.tender_id}",
                    )
