"""``collusion.expert_deviation``: an expert's score far from the panel median (明显偏离).

The family's module docstring (``__init__``) says why the rule looks the way it does.
"""

from __future__ import annotations

from typing import Any

from engine.rules.collusion.parties.bases import (
    ExpertDeviation,
    score_medians,
)
from engine.rules.collusion.tenders import TenderState
from engine.rules.collusion.traces import TenderRule
from engine.rules.registry import register

__all__ = ["ExpertDeviationRule"]


@register
class ExpertDeviationRule(TenderRule):
    name = "collusion.expert_deviation"
    level = "yellow"
    section = "collusion"
    kinds = ("tender.awarded",)

    def __init__(self, *, expert_deviation: ExpertDeviation = 0.30) -> None:
        self.expert_deviation = expert_deviation

    def check_tender(self, event: Any, tender: TenderState) -> None:
        medians = score_medians(tender)
        for expert in sorted(tender.scores):
            for bidder, score in sorted(tender.scores[expert].items()):
                med = medians.get(bidder)
                if med is None or med <= 0:
                    continue
                dev = (score - med) / med
                if abs(dev) >= self.expert_deviation:
                    self.emit_subject(
                        f"expert:{expert}",
                        event.ts,
                        {
                            "tender_id": tender.tender_id,
                            "expert_id": expert,
                            "bidder_id": bidder,
                            "score": score,
                            "panel_median": med,
                            "deviation": round(dev, 6),
                        },
                        discriminator=f"{tender.tender_id}:{bidder}",
                    )
