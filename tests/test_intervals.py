"""Intervals over replications stay in the quantity's range and cover, where they are reported."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.evaluation.calibration.table import calibrate_figures, value_range
from reports.evaluation.calibration.targets import METRICS, decode_targets
from reports.evaluation.intervals import (
    RANGES,
    ValueRange,
    dispersion,
    mean_interval,
    proportion_interval,
    t_interval,
    wilson_interval,
)
from reports.evaluation.sweeps.grid import Goal
from reports.evaluation.sweeps.score import SeedResult, SeedScore
from reports.evaluation.sweeps.table import build_table, estimate
from sim.common.scenario import load_scenario
from supsim.experiments.staffing_plan import parse_target, run_plan

SMOKE = Path(__file__).resolve().parents[1] / "scenarios" / "smoke.yaml"

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
nonneg = st.floats(min_value=0.0, max_value=1e9, allow_nan=False)
real = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)
signed_unit = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)
STRATEGY: dict[ValueRange, st.SearchStrategy[float]] = {
    "proportion": unit,
    "nonnegative": nonneg,
    "real": real,
    "agreement": signed_unit,
}


def _check(values: list[float], kind: ValueRange) -> None:
    mean, ci = mean_interval(values, kind)
    assert ci is not None
    low, high = RANGES[kind]
    assert low <= ci[0] <= mean <= ci[1] <= high
    assert mean_interval(values, kind) == (mean, ci)  # no random state: the same answer again


@pytest.mark.parametrize("kind", ["proportion", "nonnegative", "real", "agreement"])
@given(data=st.data())
def test_interval_in_range_contains_the_mean_and_is_deterministic(
    kind: ValueRange, data: st.DataObject
) -> None:
    _check(data.draw(st.lists(STRATEGY[kind], min_size=2, max_size=30)), kind)


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([1.0, 1.0, 1.0], "proportion"),
        ([0.0, 0.0, 0.0], "proportion"),
        ([0.0, 0.0, 0.0], "nonnegative"),
        ([1.0, 1.0, 1.0, 1.0, 0.0], "proportion"),  # one outlier pulls the t interval past 1
        ([0.0, 0.0, 0.0, 0.0, 1.0], "proportion"),  # ... and below 0
        ([0.0, 0.0, 0.0, 0.0, 500.0], "nonnegative"),
        ([1.0, 1e-300], "proportion"),
        ([1.0, 1.0, -0.5], "agreement"),
        ([-0.5, -0.5, 1.0], "agreement"),
    ],
)
def test_extreme_inputs_stay_in_range(values: list[float], kind: ValueRange) -> None:
    _check(values, kind)


def test_agreeing_replications_give_a_point_and_one_gives_none() -> None:
    assert mean_interval([1.0, 1.0, 1.0], "proportion") == (1.0, (1.0, 1.0))
    assert mean_interval([0.0, 0.0], "nonnegative") == (0.0, (0.0, 0.0))
    assert mean_interval([0.7], "proportion") == (0.7, None)


def test_inside_the_range_it_is_the_t_interval() -> None:
    """The cut only ever moves a bound that left the range."""
    values = [0.4, 0.5, 0.6, 0.55]
    assert mean_interval(values, "proportion")[1] == t_interval(values)
    _, ci = mean_interval([0.0, 0.0, 0.0, 0.0, 500.0], "nonnegative")
    t = t_interval([0.0, 0.0, 0.0, 0.0, 500.0])
    assert t is not None and ci is not None
    assert t[0] < 0 and ci == (0.0, t[1])


@pytest.mark.parametrize(
    ("values", "kind", "message"),
    [
        ([0.5, 1.2], "proportion", "recall: replication 2 is 1.2, outside the proportion range"),
        ([-0.1, 2.0], "nonnegative", "recall: replication 1 is -0.1, outside the nonnegative range"),
        ([0.5, math.nan], "real", "recall: replication 2 is nan, not a finite number"),
        ([], "real", "recall: no values"),
    ],
)
def test_bad_values_are_refused_by_name(values: list[float], kind: ValueRange, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        mean_interval(values, kind, what="recall")


def _score(tp: int, fn: int) -> SeedScore:
    return SeedScore(
        alerts=tp,
        tp=tp,
        fp=0,
        fn=fn,
        precision=1.0,
        recall=tp / (tp + fn),
        f1=2 * tp / (2 * tp + fn),
        latency_p50_h=-3.0 + fn,
        alerts_per_day=0.0 if fn == 2 else 0.1 * fn,
    )


def test_sweep_recall_near_1_over_three_seeds_is_pooled_with_a_wilson_interval() -> None:
    """Recall 38, 39, 40 of 40 over three seeds: the t interval was [0.913, 1.037]."""
    results = [SeedResult(seed=s, scores=(_score(40 - fn, fn),)) for s, fn in ((1, 2), (2, 1), (3, 0))]
    row = build_table([{"r": {"p": 1.0}}], results, Goal(min_precision=0.5)).rows[0]
    t = t_interval([0.95, 0.975, 1.0])
    assert t is not None and t[1] > 1.0
    pooled = proportion_interval([38, 39, 40], [40, 40, 40])
    assert pooled is not None and pooled[0] == pytest.approx(117 / 120)
    assert (row.recall.mean, row.recall.lo, row.recall.hi) == (
        round(pooled[0], 6),
        round(pooled[1][0], 6),
        round(pooled[1][1], 6),
    )
    assert row.recall.lo is not None and row.recall.hi is not None
    assert 0.9 < row.recall.lo < 0.975 < row.recall.hi < 1.0 and row.recall.n == 3
    # every alert right on 117 alerts: the figure is 1, its interval not the point (1, 1)
    assert row.precision.mean == row.precision.hi == 1.0
    assert row.precision.lo is not None and 0.95 < row.precision.lo < 1.0
    f1 = t_interval([2 * 38 / 78, 2 * 39 / 79, 1.0])
    assert f1 is not None and row.f1.hi == 1.0 and row.f1.lo == round(f1[0], 6)  # F1: cut t
    assert row.alerts_per_day.lo == 0.0  # 0, 0.1, 0: the t interval reached below 0
    assert row.latency_p50_h.lo is not None and row.latency_p50_h.lo < -3.0  # signed: not cut


def test_sweep_precision_pools_counts_and_skips_seeds_without_alerts() -> None:
    quiet = SeedScore(
        alerts=0, tp=0, fp=0, fn=5, precision=None, recall=0.0, f1=0.0, latency_p50_h=None, alerts_per_day=0.0
    )
    busy = SeedScore(
        alerts=10, tp=9, fp=1, fn=1, precision=0.9, recall=0.9, f1=0.9, latency_p50_h=1.0, alerts_per_day=1.0
    )
    results = [SeedResult(seed=1, scores=(quiet,)), SeedResult(seed=2, scores=(busy,))]
    row = build_table([{"r": {"p": 1.0}}], results, Goal(min_precision=0.5)).rows[0]
    assert row.precision.mean == 0.9 and row.precision.n == 1  # the quiet seed adds no trials
    assert row.recall.mean == 0.6 and row.recall.n == 2  # 9 of 15, not the mean of 0 and 0.9


def test_sweep_estimate_names_the_metric_of_a_bad_value() -> None:
    with pytest.raises(ValueError, match=re.escape("variant 0 recall: replication 1 is 1.5")):
        estimate([1.5, 1.0], "proportion", what="variant 0 recall")


def test_plan_wait_whose_t_interval_went_negative() -> None:
    """county_hall at 36 windows, 3 replications: wait p90 2.32 min had the t interval [-1.46, 6.10]."""
    sc = load_scenario("scenarios/county_hall.yaml")
    table = run_plan(sc, "windows", [36], parse_target("wait_p90<=15min"), replications=3)
    p90 = table.rows[0].metrics["wait_p90"]
    assert p90.mean == pytest.approx(2.318492, abs=1e-6)
    assert p90.lo == 0.0
    assert p90.hi == pytest.approx(6.099778, abs=1e-6)  # the planner's side is the t interval's
    for e in table.rows[0].metrics.values():
        assert e.lo is not None and e.hi is not None and e.mean is not None
        assert 0.0 <= e.lo <= e.mean <= e.hi


def test_calibration_intervals_keep_rates_in_0_1_and_counts_above_0() -> None:
    targets = decode_targets(
        "place: p\nfigures:\n"
        "  - {id: r, metric: completion_rate, value: 0.98, basis: rate}\n"
        "  - {id: c, metric: red_cards, value: 1, basis: per_cases, cases: 100}\n"
        "  - {id: d, metric: award_discount_mean, value: 0.05, basis: rate}\n"
    )
    runs: list[dict[str, float | None]] = [
        {"completion_rate": 1.0, "red_cards": 0.0, "award_discount_mean": -0.01},
        {"completion_rate": 1.0, "red_cards": 0.0, "award_discount_mean": 0.02},
        {"completion_rate": 0.9, "red_cards": 3.0, "award_discount_mean": 0.0},
    ]
    rows = {r.id: r for r in calibrate_figures(load_scenario(SMOKE), targets, runs).rows}
    rate, count, discount = rows["r"].ci, rows["c"].ci, rows["d"].ci
    assert rate is not None and count is not None and discount is not None
    assert 0.0 < rate[0] < rate[1] == 1.0
    assert count[0] == 0.0 < count[1]
    assert discount[0] < -0.01  # a discount is signed: its t interval is kept as it is


def test_calibration_refuses_a_rate_above_1_by_name() -> None:
    targets = decode_targets(
        "place: p\nfigures:\n  - {id: r, metric: on_time_rate, value: 0.9, basis: rate}\n"
    )
    with pytest.raises(ValueError, match=re.escape("simulated 'on_time_rate': replication 2 is 1.1")):
        calibrate_figures(load_scenario(SMOKE), targets, [{"on_time_rate": 0.9}, {"on_time_rate": 1.1}])


def test_every_calibration_metric_has_a_range() -> None:
    kinds = {m: value_range(m) for m in METRICS}
    assert kinds["completion_rate"] == kinds["instant_item_share"] == "proportion"
    assert kinds["yellow_cards"] == kinds["open_cases"] == "nonnegative"
    assert kinds["award_discount_max"] == "real"


def _study_row(ari: float) -> dict[str, object]:
    """A seed of the bidding-market seed study, reduced to what its summary reads."""
    zero = dict.fromkeys(["clean", "fp_clean", "pattern_clean", "cards_honest", "debarred_party_honest"], 0)
    counts = dict.fromkeys(["flagged_collusive", "collusive", "firm_ring_flagged", "firm_ring_tenders"], 0)
    rings = {"ari": ari, "ring_firm_precision": 1.0, "ring_firm_recall": 1.0}
    return zero | counts | rings | {"by_strategy": {}}


def test_seed_study_ari_interval_uses_the_number_of_seeds_and_stays_in_range() -> None:
    from supsim.experiments.collusion_sweep import summarise_study

    # three seeds, two rings recovered worse than chance: the t quantile of 12 seeds (2.201)
    # gave [-1.10, 1.00], below the ARI's least value and too narrow for three seeds (4.303)
    s = summarise_study([_study_row(a) for a in (-0.5, -0.5, 1.0)])
    assert s["ari_interval"] == [-1.0, 1.0]  # the t interval, +-2.151, cut to the ARI's range
    assert s["ari_mean"] == pytest.approx(0.0, abs=1e-12)
    s = summarise_study([_study_row(a) for a in (1.0, 1.0, 0.6)])  # 2.201 gave a lower end of 0.573
    lo, hi = s["ari_interval"]
    assert hi == 1.0 and lo == pytest.approx(0.8667 - 4.3027 * 0.2309 / math.sqrt(3), abs=1e-3)
    assert summarise_study([_study_row(0.9)])["ari_interval"] is None


# --- proportions from counts: Wilson on the pooled trials, widened for dispersion ---------


@given(
    data=st.lists(
        st.tuples(st.integers(0, 500), st.integers(0, 500)).map(lambda t: (min(t), max(t))),
        min_size=1,
        max_size=8,
    )
)
def test_proportion_interval_is_inside_0_1_and_contains_the_pooled_proportion(
    data: list[tuple[int, int]],
) -> None:
    s, n = [d[0] for d in data], [d[1] for d in data]
    res = proportion_interval(s, n)
    if sum(n) == 0:
        assert res is None
        return
    assert res is not None
    p, (lo, hi) = res
    assert p == sum(s) / sum(n)
    assert 0.0 <= lo <= p <= hi <= 1.0
    assert lo < hi  # never a point: a finite number of trials always leaves doubt
    assert proportion_interval(s, n) == res  # deterministic


def test_all_successes_reach_1_and_no_successes_reach_0() -> None:
    res = proportion_interval([40, 40, 40], [40, 40, 40])
    assert res is not None
    p, (lo, hi) = res
    assert p == 1.0 and hi == 1.0 and lo == pytest.approx(120 / (120 + 1.959964**2), abs=1e-6)
    res = proportion_interval([0, 0], [10, 30])
    assert res is not None and res[0] == 0.0 and res[1][0] == 0.0 < res[1][1] < 0.1
    one = proportion_interval([1], [1])  # one trial, one success: almost nothing is known
    assert one is not None and one[1][1] == 1.0 and one[1][0] < 0.25


def test_one_replication_is_the_plain_wilson_interval() -> None:
    res = proportion_interval([30], [40])
    assert res is not None and res[1] == wilson_interval(0.75, 40)
    assert res[1] == pytest.approx((0.5981, 0.8581), abs=1e-4)  # Wilson, 30 of 40


def test_disagreeing_seeds_widen_the_interval() -> None:
    """The same pooled 60 of 120, once binomial-like and once far apart."""
    calm = proportion_interval([19, 20, 21], [40, 40, 40])
    wild = proportion_interval([5, 20, 35], [40, 40, 40])
    assert calm is not None and wild is not None
    assert dispersion([19, 20, 21], [40, 40, 40]) < 1 < dispersion([5, 20, 35], [40, 40, 40])
    assert calm[1] == wilson_interval(0.5, 120)  # no excess dispersion: nothing widened
    assert wild[1][0] < calm[1][0] - 0.1 and wild[1][1] > calm[1][1] + 0.1


def test_no_trials_at_all_is_no_interval() -> None:
    assert proportion_interval([0, 0, 0], [0, 0, 0]) is None


@pytest.mark.parametrize(
    ("successes", "trials", "message"),
    [
        ([3, -1], [5, 5], "recall: replication 2 has -1 successes, not a count >= 0"),
        ([3, 1], [5, -5], "recall: replication 2 has -5 trials, not a count >= 0"),
        ([3, 6], [5, 5], "recall: replication 2 has 6 successes out of 5 trials"),
        ([1.5], [3], "recall: replication 1 has 1.5 successes, not a count >= 0"),
        ([1, 2], [3], "recall: successes (2,) and trials (1,)"),
        ([], [], "recall: no replications"),
    ],
)
def test_bad_counts_are_refused_by_name(successes: list[float], trials: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        proportion_interval(successes, trials, what="recall")  # type: ignore[arg-type]


def _coverage(p: float, icc: float, rng: np.random.Generator, draws: int) -> tuple[float, float, float]:
    """Wilson-on-counts coverage, cut-t coverage and how often the plain t interval leaves
    [0, 1], for three replications of 40 trials whose true rates are beta-distributed about
    ``p`` with intraclass correlation ``icc`` (0: binomial; the variance of a replication's
    count is ``1 + 39 · icc`` times binomial)."""
    k, n = 3, 40
    wilson = cut = left = 0
    for _ in range(draws):
        rates = np.full(k, p) if icc == 0 else rng.beta(p * (1 / icc - 1), (1 - p) * (1 / icc - 1), size=k)
        s = rng.binomial(n, rates)
        res = proportion_interval(s, [n] * k)
        assert res is not None
        wilson += res[1][0] <= p <= res[1][1]
        _, ci = mean_interval(s / n, "proportion")
        assert ci is not None
        cut += ci[0] <= p <= ci[1]
        t = t_interval(s / n)
        left += t is not None and (t[0] < 0 or t[1] > 1)
    return wilson / draws, cut / draws, left / draws


@pytest.mark.parametrize("icc", [0.0, 0.03])
def test_wilson_on_counts_covers_near_1_where_the_t_interval_fails(icc: float) -> None:
    """p = 0.97, three seeds of 40: measured 0.977 / 0.964 (binomial / icc 0.03) against
    cut-t's 0.918 / 0.891, whose uncut t interval left [0, 1] in 83 % / 87 % of draws."""
    wilson, cut, left = _coverage(0.97, icc, np.random.default_rng(20261205), 1000)
    assert wilson >= 0.93
    assert cut < 0.93 and cut < wilson - 0.04
    assert left > 0.5


@pytest.mark.parametrize("icc", [0.0, 0.03])
def test_wilson_on_counts_covers_at_one_half(icc: float) -> None:
    """p = 0.5: measured 0.963 / 0.928; the dispersion factor is what holds the second (plain
    Wilson on all 120 trials, ignoring the seeds' disagreement, covers 0.825)."""
    wilson, _, _ = _coverage(0.5, icc, np.random.default_rng(20261206), 1000)
    assert wilson >= 0.90
