"""A sweep's table: each variant's metrics across seeds, the Pareto frontier, the recommendation.

Seeds are the replications (:mod:`reports.evaluation.intervals`). Precision and recall are
ratios of counts, so a variant's figure is the pooled ratio over seeds (``Σ tp / Σ (tp + fp)``,
``Σ tp / Σ (tp + fn)``) with a Wilson 95 % interval widened for seed-to-seed dispersion: it
stays in [0, 1] and does not collapse to a point at a recall of 1. The other columns are
the mean over seeds with a Student-t 95 % interval cut to the metric's range (F1 in [0, 1],
alerts per day and the delivered-stream figures at or above 0, latency signed); seeds where
a metric is undefined, e.g. latency without any hit, are left out of that metric, and a seed
without alerts adds no trials to precision. The Pareto frontier and the recommendation read
the same rows the table prints, so the recommended variant is always the one the table shows
as best.

Recommendation: among variants meeting the goal's constraint (precision at least
``min_precision``, or mean alerts per working day at most ``max_alerts_per_day``), the highest
recall; ties go to the lower (earlier) median latency, then the higher precision, then fewer
alerts per day, then grid order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import msgspec

from reports.evaluation.intervals import ValueRange, mean_interval, proportion_interval
from reports.evaluation.sweeps.grid import Goal, Variant
from reports.evaluation.sweeps.score import SeedResult, SeedScore

__all__ = [
    "COUNTED",
    "DELIVERED_RANGES",
    "METRICS",
    "METRIC_RANGES",
    "Estimate",
    "Row",
    "SweepTable",
    "build_table",
    "estimate",
    "is_delivered",
    "pooled_estimate",
    "recommend",
]

#: Columns of the table, in order.
METRICS: tuple[str, ...] = ("precision", "recall", "f1", "latency_p50_h", "alerts_per_day")
#: The range of each column: a warning's latency is negative when it comes before the onset.
METRIC_RANGES: dict[str, ValueRange] = {
    "precision": "proportion",
    "recall": "proportion",
    "f1": "proportion",
    "latency_p50_h": "real",
    "alerts_per_day": "nonnegative",
}
#: Columns that are a ratio of counts: their figure is pooled over seeds (:func:`pooled_estimate`),
#: successes and trials from a seed's score.
COUNTED: dict[str, Callable[[SeedScore], tuple[int, int]]] = {
    "precision": lambda s: (s.tp, s.tp + s.fp),
    "recall": lambda s: (s.tp, s.tp + s.fn),
}
#: Columns measured only on the delivered stream (see :class:`Row`).
DELIVERED_RANGES: dict[str, ValueRange] = {
    "data_false_alarms_per_1000": "nonnegative",
    "delay_p50_h": "nonnegative",
    "delay_p90_h": "nonnegative",
}


class Estimate(msgspec.Struct, frozen=True, kw_only=True):
    """A figure over seeds: the mean (pooled ratio for a :data:`COUNTED` column) and its 95 %
    interval; ``n`` seeds where the figure was defined (had trials, for a pooled one)."""

    mean: float | None
    lo: float | None
    hi: float | None
    n: int


class Row(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    params: dict[str, float]
    precision: Estimate
    recall: Estimate
    f1: Estimate
    latency_p50_h: Estimate
    alerts_per_day: Estimate
    pareto: bool = False
    #: Only in a sweep scored on the delivered stream (engine settings, or ``data_quality:``);
    #: absent otherwise, so other sweeps' tables are unchanged.
    data_false_alarms_per_1000: Estimate | msgspec.UnsetType = msgspec.UNSET
    delay_p50_h: Estimate | msgspec.UnsetType = msgspec.UNSET
    delay_p90_h: Estimate | msgspec.UnsetType = msgspec.UNSET


class SweepTable(msgspec.Struct, frozen=True, kw_only=True):
    seeds: tuple[int, ...]
    goal: str
    rows: tuple[Row, ...]
    recommended: int | None


def estimate(values: Sequence[float | None], value_range: ValueRange, *, what: str = "values") -> Estimate:
    """Mean and 95 % interval of the defined values (replications, not batch means).

    The interval is the Student-t one cut to ``value_range``
    (:func:`reports.evaluation.intervals.mean_interval`), so a recall never reads above 1.
    """
    xs = [v for v in values if v is not None]
    if not xs:
        return Estimate(mean=None, lo=None, hi=None, n=0)
    mean, ci = mean_interval(xs, value_range, what=what)
    if ci is None:
        return Estimate(mean=round(mean, 6), lo=None, hi=None, n=len(xs))
    return Estimate(mean=round(mean, 6), lo=round(ci[0], 6), hi=round(ci[1], 6), n=len(xs))


def pooled_estimate(successes: Sequence[int], trials: Sequence[int], *, what: str = "proportion") -> Estimate:
    """Pooled proportion of per-seed counts and its Wilson interval widened for dispersion
    (:func:`reports.evaluation.intervals.proportion_interval`): undefined without any trial."""
    res = proportion_interval(successes, trials, what=what)
    if res is None:
        return Estimate(mean=None, lo=None, hi=None, n=0)
    p, (lo, hi) = res
    return Estimate(mean=round(p, 6), lo=round(lo, 6), hi=round(hi, 6), n=sum(1 for t in trials if t > 0))


def _column(scores: Sequence[SeedScore], name: str, what: str) -> Estimate:
    if name in COUNTED:
        counts = [COUNTED[name](s) for s in scores]
        return pooled_estimate([c[0] for c in counts], [c[1] for c in counts], what=what)
    return estimate([getattr(s, name) for s in scores], METRIC_RANGES[name], what=what)


def _flat(variant: Variant) -> dict[str, float]:
    return {f"{rule}.{k}": float(v) for rule, ps in variant.items() for k, v in ps.items()}


def _key(row: Row) -> tuple[float, float, float, float]:
    """Larger is better on every component (see the module docstring)."""

    def m(e: Estimate, default: float) -> float:
        return default if e.mean is None else e.mean

    return (
        m(row.recall, -1.0),
        -m(row.latency_p50_h, math.inf),
        m(row.precision, -1.0),
        -m(row.alerts_per_day, math.inf),
    )


def _dominates(a: Row, b: Row) -> bool:
    """``a`` is no worse than ``b`` on precision, recall and latency, and better on one.

    On the delivered stream the trade-off is recall, false alarms caused by data quality and
    the median alert delay (the latency to the onset means little there).
    """
    ka, kb = _front_key(a), _front_key(b)
    return all(x >= y for x, y in zip(ka, kb, strict=True)) and ka != kb


def _front_key(r: Row) -> tuple[float, ...]:
    if isinstance(r.data_false_alarms_per_1000, Estimate) and isinstance(r.delay_p50_h, Estimate):
        return (_m(r.recall), -_m(r.data_false_alarms_per_1000, math.inf), -_m(r.delay_p50_h, math.inf))
    return (_m(r.precision), _m(r.recall), -_m(r.latency_p50_h, math.inf))


def is_delivered(r: Row) -> bool:
    """Whether the row scored delivered (impaired) streams: it carries data-quality figures."""
    return isinstance(r.data_false_alarms_per_1000, Estimate)


def _m(e: Estimate, missing: float = -1.0) -> float:
    return missing if e.mean is None else e.mean


def recommend(rows: Sequence[Row], goal: Goal) -> int | None:
    """Index of the best row meeting ``goal`` (``None`` when none does)."""
    if goal.min_precision is not None:
        ok = [r for r in rows if r.precision.mean is not None and r.precision.mean >= goal.min_precision]
    elif goal.max_data_false_alarms_per_1000 is not None:
        limit = goal.max_data_false_alarms_per_1000
        ok = [
            r
            for r in rows
            if isinstance(e := r.data_false_alarms_per_1000, Estimate)
            and e.mean is not None
            and e.mean <= limit
        ]
    else:
        limit = goal.max_alerts_per_day if goal.max_alerts_per_day is not None else math.inf
        ok = [r for r in rows if r.alerts_per_day.mean is not None and r.alerts_per_day.mean <= limit]
    if not ok:
        return None
    best = max(ok, key=lambda r: (_key(r), -r.index))
    return best.index


def build_table(variants: Sequence[Variant], results: Sequence[SeedResult], goal: Goal) -> SweepTable:
    rows: list[Row] = []
    for v, variant in enumerate(variants):
        scores = [r.scores[v] for r in results]
        est = {name: _column(scores, name, f"variant {v} {name}") for name in METRICS}
        row = Row(
            index=v,
            params=_flat(variant),
            precision=est["precision"],
            recall=est["recall"],
            f1=est["f1"],
            latency_p50_h=est["latency_p50_h"],
            alerts_per_day=est["alerts_per_day"],
        )
        if any(s.delay_p50_h is not None or s.data_false_alarms_per_1000 is not None for s in scores):
            extra = {
                name: estimate([getattr(s, name) for s in scores], rng, what=f"variant {v} {name}")
                for name, rng in DELIVERED_RANGES.items()
            }
            row = msgspec.structs.replace(row, **extra)
        rows.append(row)
    frontier = {r.index for r in rows if not any(_dominates(o, r) for o in rows if o is not r)}
    rows = [msgspec.structs.replace(r, pareto=r.index in frontier) for r in rows]
    return SweepTable(
        seeds=tuple(r.seed for r in results),
        goal=goal.describe(),
        rows=tuple(rows),
        recommended=recommend(rows, goal),
    )
