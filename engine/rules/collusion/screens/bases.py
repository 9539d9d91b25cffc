"""What the screens rules share: their base classes, helpers and threshold types."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Annotated

from msgspec import Meta

from engine.rules.collusion.lattice import find_run
from engine.rules.collusion.screen_stats import screens

__all__ = [
    "CV_THRESHOLD",
    "RD_THRESHOLD",
    "SPD_THRESHOLD",
    "CvThreshold",
    "MinBids",
    "MinRd",
    "PatternAlpha",
    "PatternMinBids",
    "PatternSims",
    "PatternTolerance",
    "RdThreshold",
    "ScoreThreshold",
    "SpdThreshold",
    "combined_score",
    "logistic",
    "price_pattern",
    "tender_seed",
]


MinBids = Annotated[
    int,
    Meta(
        ge=3,
        description=("Screens need a few bids: kurtosis is undefined below 4 (and RD below 3)."),
    ),
]


CvThreshold = Annotated[
    float,
    Meta(
        gt=0,
        description=(
            "Combined screen score = mean of three logistic indicators centred on these thresholds, "
            "each between the medians of competitive and collusive tenders in the Ticino cartel data "
            "(Huber & Imhof 2019; García Rodríguez et al. 2022): CV 0.080 vs 0.030 ..."
        ),
    ),
]


SpdThreshold = Annotated[
    float,
    Meta(
        gt=0,
        description=("... SPD (spread) 0.22 vs 0.08 ..."),
    ),
]


RdThreshold = Annotated[
    float,
    Meta(
        gt=0,
        description=("... RD (Imhof's relative distance of the winner from the covers) 0.25 vs 1.7."),
    ),
]


ScoreThreshold = Annotated[
    float,
    Meta(
        ge=0,
        le=1,
        description=(
            "Flag a tender when the combined score reaches 0.65: on the Ticino data this keeps the "
            "false-positive rate on competitive tenders near 5 % (recall 54 %); 0.5 would flag 24 %."
        ),
    ),
]


MinRd = Annotated[
    float,
    Meta(
        ge=0,
        description=(
            "... and only when the lowest bid is set apart from the covers: RD at least 1.25 (the RD "
            "threshold plus one logistic scale; nan, identical losing bids, counts as reached). Tight "
            "honest bids reach the score on CV and SPD alone; this takes the FPR on clean synthetic "
            "tenders from 5.4 % to 4.3 % (docs/bidding.md)."
        ),
    ),
]


PatternTolerance = Annotated[
    float,
    Meta(
        ge=0,
        le=0.5,
        description=(
            "实施条例 Art. 40 (四) 投标报价呈规律性差异: bids whose steps (or ratios) all lie "
            "within 1 % of the first step, or within one unit of the lattice the bids are written "
            "on (rounding moves a step by up to a unit), form a progression ..."
        ),
    ),
]


PatternMinBids = Annotated[
    int,
    Meta(
        ge=3,
        description=("... of at least 4 consecutive bids (three equal steps) ..."),
    ),
]


PatternAlpha = Annotated[
    float,
    Meta(
        gt=0,
        le=1,
        description=(
            "... and only when honest tenders with the same number of bids, spread and rounding "
            "lattice show a run that long with probability below 0.001 (Monte Carlo null): the "
            "budget of false price-pattern alerts per clean tender. Rounded bids make equal "
            "steps common by chance; a fixed tolerance fired on 2.5 % of clean tenders of the "
            "rounded market (docs/bidding.md)."
        ),
    ),
]


PatternSims = Annotated[
    int,
    Meta(
        ge=100,
        le=100_000,
        description=(
            "Draws of the null per tender that shows a run (the smallest p-value is "
            "1 / (draws + 1), so it must exceed 1 / pattern_alpha)."
        ),
    ),
]


#: Defaults of the three indicator centres, shared by :func:`combined_score` and the rule.
CV_THRESHOLD, SPD_THRESHOLD, RD_THRESHOLD = 0.05, 0.13, 1.0


def logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


def combined_score(
    prices: Sequence[float],
    *,
    cv_threshold: float = CV_THRESHOLD,
    spd_threshold: float = SPD_THRESHOLD,
    rd_threshold: float = RD_THRESHOLD,
) -> tuple[float, dict[str, float]]:
    """``(score in [0, 1], the seven screens)``; higher means more collusion-like."""
    s = screens(prices)
    parts = []
    for value, thr, sign in (
        (s["CV"], cv_threshold, -1.0),
        (s["SPD"], spd_threshold, -1.0),
        (s["RD"], rd_threshold, 1.0),
    ):
        if math.isnan(value) or thr <= 0:
            parts.append(0.5)
        else:  # scale: a quarter of the threshold moves the indicator from 0.5 to 0.73
            parts.append(logistic(sign * (value - thr) / (0.25 * thr)))
    return sum(parts) / len(parts), s


def price_pattern(
    prices: Sequence[float], tolerance: float, min_bids: int = 4, *, unit: float = 0.01
) -> tuple[str, float, int] | None:
    """The longest run of consecutive sorted prices in a progression, if it has ``min_bids``.

    Returns ``("arithmetic", step, length)`` or ``("geometric", ratio, length)``. Steps
    (ratios minus one) count as constant while each lies within ``tolerance`` (relative) of
    the run's first step, or within one lattice ``unit`` of it (:mod:`.lattice`); a zero step
    is not a pattern (identical bids are another signal). Runs rather than all bids: an
    outsider's honest bid must not hide the ring's formula. This is the shape only; the rule
    also asks how often chance makes it (:func:`.lattice.pattern_p_value`).
    """
    run = find_run(prices, tolerance, unit, min_bids)
    return None if run is None else (run[0], run[1], run[3])


def tender_seed(tender_id: str) -> int:
    """A seed for one tender's Monte Carlo null: the same verdict on every run and machine."""
    return int.from_bytes(hashlib.sha256(tender_id.encode("utf-8")).digest()[:8], "big")
