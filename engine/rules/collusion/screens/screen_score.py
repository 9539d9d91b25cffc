"""``collusion.screens``: the combined screen score of a tender at or above the threshold."""

from __future__ import annotations

import math
from typing import Any

from engine.rules.collusion.screens.bases import (
    CV_THRESHOLD,
    RD_THRESHOLD,
    SPD_THRESHOLD,
    CvThreshold,
    MinBids,
    MinRd,
    RdThreshold,
    ScoreThreshold,
    SpdThreshold,
    combined_score,
)
from engine.rules.collusion.tenders import TenderState
from engine.rules.collusion.traces import TenderRule
from engine.rules.registry import register

__all__ = ["ScreenRule"]


@register
class ScreenRule(TenderRule):
    """``collusion.screens``: the combined screen score of a tender at or above the threshold."""

    name = "collusion.screens"
    level = "yellow"
    section = "collusion"
    kinds = ("bids.opened",)

    def __init__(
        self,
        *,
        min_bids: MinBids = 4,
        cv_threshold: CvThreshold = CV_THRESHOLD,
        spd_threshold: SpdThreshold = SPD_THRESHOLD,
        rd_threshold: RdThreshold = RD_THRESHOLD,
        score_threshold: ScoreThreshold = 0.65,
        min_rd: MinRd = 1.25,
    ) -> None:
        self.min_bids = min_bids
        self.cv_threshold = cv_threshold
        self.spd_threshold = spd_threshold
        self.rd_threshold = rd_threshold
        self.score_threshold = score_threshold
        self.min_rd = min_rd

    def check_tender(self, event: Any, tender: TenderState) -> None:
        prices = tender.prices()
        if len(prices) < self.min_bids:
            return
        score, s = combined_score(
            prices,
            cv_threshold=self.cv_threshold,
            spd_threshold=self.spd_threshold,
            rd_threshold=self.rd_threshold,
        )
        if score < self.score_threshold or s["RD"] < self.min_rd:
            return
        evidence: dict[str, Any] = {k: (None if math.isnan(v) else round(v, 6)) for k, v in s.items()}
        evidence.update(tender_id=tender.tender_id, score=round(score, 6), bidders=sorted(tender.bids))
        self.emit_subject(tender.subject, event.ts, evidence)
