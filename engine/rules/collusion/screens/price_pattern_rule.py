"""``collusion.price_pattern``: bids in a progression that chance and rounding do not explain."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.rules.collusion.lattice import find_run, lattice_unit, pattern_p_value
from engine.rules.collusion.screens.bases import (
    PatternAlpha,
    PatternMinBids,
    PatternSims,
    PatternTolerance,
    tender_seed,
)
from engine.rules.collusion.tenders import TenderState
from engine.rules.collusion.traces import TenderRule
from engine.rules.registry import register

__all__ = ["PricePatternRule"]


@register
class PricePatternRule(TenderRule):
    """``collusion.price_pattern``: bids in a progression that chance and rounding do not explain."""

    name = "collusion.price_pattern"
    level = "red"
    section = "collusion"
    kinds = ("bids.opened",)

    def __init__(
        self,
        *,
        pattern_tolerance: PatternTolerance = 0.01,
        pattern_min_bids: PatternMinBids = 4,
        pattern_alpha: PatternAlpha = 0.001,
        pattern_sims: PatternSims = 4000,
    ) -> None:
        self.pattern_tolerance = pattern_tolerance
        self.pattern_min_bids = pattern_min_bids
        self.pattern_alpha = pattern_alpha
        self.pattern_sims = pattern_sims

    def reset(self) -> None:
        #: The last tender's run, significant or not: ``(tender id, p-value, run bidders)``.
        #: Ring recovery (which runs after this rule on the same event) combines these
        #: p-values across the tenders a pair of firms bid in together.
        self.last_run: tuple[str, float, list[str]] | None = None

    def check_tender(self, event: Any, tender: TenderState) -> None:
        bids = sorted(tender.bids.values(), key=lambda b: (b.price, b.bidder_id))
        prices = [b.price for b in bids]
        unit = lattice_unit(prices)
        found = find_run(prices, self.pattern_tolerance, unit, self.pattern_min_bids)
        if found is None:
            return
        kind, step, start, length = found
        p = pattern_p_value(
            prices,
            length,
            unit=unit,
            rng=np.random.default_rng(tender_seed(tender.tender_id)),
            sims=self.pattern_sims,
        )
        run = bids[start : start + length]
        self.last_run = (tender.tender_id, p, sorted(b.bidder_id for b in run))
        if p >= self.pattern_alpha:
            return
        self.emit_subject(
            tender.subject,
            event.ts,
            {
                "tender_id": tender.tender_id,
                "clause": "art40.4 regular price differences",
                "pattern": kind,
                "step": round(step, 6),
                "run_length": length,
                "unit": round(unit, 2),
                "p_value": round(p, 6),
                # The bidders priced by the formula, not the honest outsiders around them:
                # ring recovery pairs the bidders an alert names.
                "bidders": sorted(b.bidder_id for b in run),
                "tender_bidders": sorted(b.bidder_id for b in bids),
            },
        )
