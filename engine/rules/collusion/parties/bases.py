"""What the parties rules share: their base classes, helpers and threshold types."""

from __future__ import annotations

import statistics
from typing import Annotated

from msgspec import Meta

from engine.rules.collusion.tenders import TenderState

__all__ = [
    "DEEMED_RULES",
    "EVIDENCE_KINDS",
    "EXPERT_RULES",
    "AgentCloseGap",
    "CardMinKinds",
    "CorroborationDays",
    "DebarDays",
    "DocumentsMinKinds",
    "ExpertCardAfter",
    "ExpertDeviation",
    "FavourMargin",
    "PairingMin",
    "score_medians",
]


ExpertDeviation = Annotated[
    float,
    Meta(
        gt=0,
        description=(
            "评分明显偏离: an expert score 30 % or more away from the panel median for that bidder."
        ),
    ),
]


FavourMargin = Annotated[
    float,
    Meta(
        ge=0,
        description=('An expert "favours" a bidder when scoring 10 % above the panel median for it ...'),
    ),
]


#: Shared by the expert and agent pairing rules (one section field).
PairingMin = Annotated[
    int,
    Meta(
        ge=2,
        description=("... and a pairing (expert-bidder, agent-winner) is repeated from the 3rd time."),
    ),
]


AgentCloseGap = Annotated[
    float,
    Meta(
        ge=0,
        description=(
            "A win by at most 0.5 % over the runner-up (or by one unit of the lattice the bids are "
            "written on; a tie is not a win by a hair) counts towards agent-winner pairing."
        ),
    ),
]


DebarDays = Annotated[
    float,
    Meta(
        ge=0,
        description=(
            "招标投标法 Art. 53: debarment of one to two years for collusive bidders; one year here."
        ),
    ),
]


ExpertCardAfter = Annotated[
    int,
    Meta(
        ge=1,
        description=(
            "实施条例 Art. 72: an expert is carded (and barred) on the 2nd deviation or pairing alert."
        ),
    ),
]


CardMinKinds = Annotated[
    int,
    Meta(
        ge=1,
        le=3,
        description=(
            "A bidder named by a price pattern (or a pairing) is carded only once this many "
            "independent evidence kinds (documents, prices, parties) have named it: 2, so a price "
            "pattern alone never debars (the false-debarment budget, docs/bidding.md) ..."
        ),
    ),
]


DocumentsMinKinds = Annotated[
    int,
    Meta(
        ge=1,
        le=3,
        description=(
            "... while a documentary trace clause (Art. 40, Fujian, Daqing) needs 1: the regulation "
            "deems collusion on it (视为串通投标); 2 would ask corroboration of those too ..."
        ),
    ),
]


CorroborationDays = Annotated[
    float,
    Meta(
        gt=0,
        description=("... counting the evidence that named the bidder within the last 365 days."),
    ),
]


#: The evidence kind of each alert that can ground a bidder's card.
EVIDENCE_KINDS: dict[str, str] = {
    "collusion.art40": "documents",
    "collusion.fujian": "documents",
    "collusion.daqing": "documents",
    "collusion.price_pattern": "prices",
    "collusion.expert_pairing": "parties",
    "collusion.agent_pairing": "parties",
}


#: Alerts that deem collusion by themselves (a card for every bidder they name, by default).
DEEMED_RULES = tuple(r for r, k in EVIDENCE_KINDS.items() if k == "documents")


EXPERT_RULES = ("collusion.expert_deviation", "collusion.expert_pairing")


def score_medians(tender: TenderState) -> dict[str, float]:
    by_bidder: dict[str, list[float]] = {}
    for scores in tender.scores.values():
        for bidder, s in scores.items():
            by_bidder.setdefault(bidder, []).append(s)
    return {b: statistics.median(v) for b, v in by_bidder.items() if len(v) >= 3}
