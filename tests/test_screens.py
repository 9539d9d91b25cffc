"""Screen formulas against hand-computed values and scipy, and the price-pattern check."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from engine.rules.collusion.screen_stats import (
    SCREEN_NAMES,
    cv,
    diffp,
    ks_uniform,
    kurtosis,
    rd,
    rd_alt,
    rd_nor,
    screens,
    skewness,
    spd,
)
from engine.rules.collusion.screens import combined_score, price_pattern

BIDS = [100.0, 110.0, 120.0, 150.0]


def test_hand_computed_values() -> None:
    # mean 120, deviations -20, -10, 0, 30: sum of squares 1400, sample variance 1400/3.
    assert cv(BIDS) == pytest.approx(math.sqrt(1400 / 3) / 120)
    assert spd(BIDS) == pytest.approx(0.5)
    assert diffp(BIDS) == pytest.approx(0.1)
    # losing bids 110, 120, 150: mean 126.67, sample sd = sqrt(((-16.67)^2+(-6.67)^2+23.33^2)/2)
    sd_losers = math.sqrt((16.666666**2 + 6.666666**2 + 23.333333**2) / 2)
    assert rd(BIDS) == pytest.approx(10 / sd_losers, rel=1e-6)
    # rescaled 0, 0.2, 0.4, 1: i/n - x = 0.25, 0.3, 0.35, 0 and x - (i-1)/n <= 0.25, so D = 0.35
    assert ks_uniform(BIDS) == pytest.approx(0.35)
    # m2 = 350, m3 = (-8000 - 1000 + 0 + 27000)/4 = 4500, G1 = sqrt(12)/2 * 4500/350^1.5
    assert skewness(BIDS) == pytest.approx(math.sqrt(12) / 2 * 4500 / 350**1.5)


def test_order_does_not_matter_and_names_are_complete() -> None:
    assert screens(BIDS[::-1]) == screens(BIDS)
    assert tuple(screens(BIDS)) == SCREEN_NAMES


def test_undefined_screens_are_nan() -> None:
    assert math.isnan(kurtosis([1.0, 2.0, 3.0]))  # needs 4 bids
    assert math.isnan(rd([1.0, 2.0]))
    assert math.isnan(ks_uniform([5.0, 5.0, 5.0]))
    assert math.isnan(cv([7.0]))


def test_equal_bids_give_no_float_noise() -> None:
    """Identical cover bids are the cartel's own pattern. Before: a computed sd of ~1e-16 gave
    CV 1.5e-16, RD 4.96e14, kurtosis -3 and skewness 1.3 for them, depending on the amount."""
    assert cv([6515930.08] * 7) == 0.0
    assert all(math.isnan(f([6515930.08] * 7)) for f in (skewness, kurtosis))
    for amount in (5487352.77, 5487352.00):  # one amount gave 4.96e14, the other nan
        assert math.isnan(rd([5e6, *[amount] * 10]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=1e3, max_value=1e7), min_size=4, max_size=30))
def test_moments_and_ks_match_scipy(bids: list[float]) -> None:
    b = np.asarray(bids)
    if np.ptp(b) < 1e-6 * b.mean():
        return
    assert kurtosis(b) == pytest.approx(stats.kurtosis(b, bias=False), rel=1e-6, abs=1e-6)
    assert skewness(b) == pytest.approx(stats.skew(b, bias=False), rel=1e-6, abs=1e-6)
    x = (b - b.min()) / np.ptp(b)
    assert ks_uniform(b) == pytest.approx(stats.kstest(x, "uniform").statistic, rel=1e-9)
    assert cv(b) == pytest.approx(stats.variation(b, ddof=1), rel=1e-9)


def test_combined_score_ranks_cover_bidding_above_competition() -> None:
    competitive = [850.0, 880.0, 905.0, 930.0, 990.0, 1010.0]
    covered = [880.0, 920.0, 925.0, 928.0, 931.0, 934.0]  # winner apart, covers tight
    s_comp, _ = combined_score(competitive)
    s_cover, _ = combined_score(covered)
    assert s_cover > 0.65 > s_comp


def test_price_pattern_finds_constant_steps_and_ratios() -> None:
    assert price_pattern([100.0, 101.5, 103.0, 104.5], 0.01) == ("arithmetic", pytest.approx(1.5), 4)
    kind, ratio, n = price_pattern([100.0, 102.0, 104.04, 106.1208, 130.0], 0.001)  # type: ignore[misc]
    assert (kind, n) == ("geometric", 4) and ratio == pytest.approx(1.02)
    # an honest outsider in the middle of the spread does not hide a run of four
    assert price_pattern([90.0, 100.0, 101.0, 102.0, 103.0, 111.0], 0.01) is not None
    assert price_pattern([100.0, 101.0, 103.5, 104.0, 109.0], 0.01) is None
    assert price_pattern([100.0, 100.0, 100.0, 100.0], 0.01) is None  # identical bids are not a step


def test_relative_distance_variants_by_hand() -> None:
    # b2 - b1 = 10; mean adjacent gap of all bids (150 - 100) / 3; of the losers (150 - 110) / 2.
    assert rd_nor(BIDS) == pytest.approx(10 / (50 / 3))
    assert rd_alt(BIDS) == pytest.approx(10 / 20)
    assert math.isnan(rd_nor([100.0, 100.0, 100.0])) and math.isnan(rd_alt([90.0, 100.0, 100.0]))
    assert math.isnan(rd_nor([100.0, 110.0]))
