"""Tender state: what the engine knows about each tender from the tendering events.

Why a separate state family: approval rules key on cases, collusion rules key on tenders
(and, across tenders, on firms, experts and agents). The runtime applies each tendering
event to :class:`TenderBook` first and then hands the updated :class:`TenderState` to the
rules that watch that event kind, exactly as it does for cases. A tender's state is
dropped once it is awarded and every rule has seen the award: cross-tender memory (who bid
with whom, who won what) is the rules' own business and is kept compactly there.

Bids are sealed until ``bids.opened``: rules that compare prices wait for that event, as
a regulator can only compare bids after the opening.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.contract import events as ev

__all__ = ["TenderBook", "TenderState"]


@dataclass(slots=True)
class TenderState:
    tender_id: str
    category: str = ""
    control_price: float = 0.0
    tenderer_id: str = ""
    agent_id: str | None = None
    region: str = ""
    published: datetime | None = None
    #: bidder id → its (latest) bid; insertion order is arrival order.
    bids: dict[str, ev.BidSubmitted] = field(default_factory=dict)
    opened: datetime | None = None
    #: expert id → bidder id → score.
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    winner_id: str | None = None
    award_price: float | None = None

    @property
    def subject(self) -> str:
        return f"tender:{self.tender_id}"

    def prices(self) -> list[float]:
        return [b.price for b in self.bids.values()]


class TenderBook:
    """Open tenders by id; :meth:`apply` updates one and returns it (``None`` after award)."""

    event_types: tuple[type, ...] = (
        ev.TenderPublished,
        ev.BidSubmitted,
        ev.BidsOpened,
        ev.ExpertScored,
        ev.TenderAwarded,
    )

    def __init__(self) -> None:
        self.tenders: dict[str, TenderState] = {}
        self.awarded: set[str] = set()
        self.after_award = 0

    def apply(self, event: Any) -> TenderState | None:
        tid = event.tender_id
        if tid in self.awarded:
            self.after_award += 1
            return None
        t = self.tenders.get(tid)
        if t is None:
            t = self.tenders[tid] = TenderState(tid)
        if isinstance(event, ev.TenderPublished):
            t.category = event.category
            t.control_price = event.control_price
            t.tenderer_id = event.tenderer_id
            t.agent_id = event.agent_id
            t.region = event.region
            t.published = event.ts
        elif isinstance(event, ev.BidSubmitted):
            t.bids[event.bidder_id] = event
        elif isinstance(event, ev.BidsOpened):
            t.opened = event.ts
        elif isinstance(event, ev.ExpertScored):
            t.scores.setdefault(event.expert_id, {})[event.bidder_id] = event.score
        elif isinstance(event, ev.TenderAwarded):
            t.winner_id = event.winner_id
            t.award_price = event.price
        return t

    def after_rules(self, event: Any, state: TenderState) -> None:
        """Called by the runtime after the rules saw ``event``: forget awarded tenders."""
        if isinstance(event, ev.TenderAwarded):
            del self.tenders[state.tender_id]
            self.awarded.add(state.tender_id)
