"""A sweep's table: each variant's metrics across seeds, the Pareto frontier, the recommendation.

Seeds are the replications, so a variant's figure is the mean over seeds with a Student-t
95 % interval cut to the metric's range (:mod:`reports.evaluation.intervals`: precision,
recall and F1 stay in [0, 1], alerts per day at or above 0, latency is signed); seeds where a
metric is undefined, e.g. precision without any alert, are left out of that metric. The
Pareto frontier and the recommendation read the same rows the table prints, so the
recommended variant is always the one the table shows as best.

Recommendation: among variants meeting the goal's constraint (mean precision at least
``min_precision``, or mean alerts per working day at most ``max_alerts_per_day``), the
highest mean recall; ties go to the lower (earlier) median latency, then the higher
precision, then fewer alerts per day, then grid order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec

from reports.evaluation.intervals import ValueRange, mean_interval
from reports.evaluation.sweeps.grid import Goal, Variant
from reports.evaluation.sweeps.score import SeedResult

__all__ = [
    "METRICS",
    "METRIC_RANGES",
    "Estimate",
    "Row",
    "SweepTable",
    "build_table",
    "estimate",
    "recommend",
    "render_sweep",
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


class Estimate(msgspec.Struct, frozen=True, kw_only=True):
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
    """``a`` is no worse than ``b`` on precision, recall and latency, and better on one."""
    ka = (_m(a.precision), _m(a.recall), -_m(a.latency_p50_h, math.inf))
    kb = (_m(b.precision), _m(b.recall), -_m(b.latency_p50_h, math.inf))
    return all(x >= y for x, y in zip(ka, kb, strict=True)) and ka != kb


def _m(e: Estimate, missing: float = -1.0) -> float:
    return missing if e.mean is None else e.mean


def recommend(rows: Sequence[Row], goal: Goal) -> int | None:
    """Index of the best row meeting ``goal`` (``None`` when none does)."""
    if goal.min_precision is not None:
        ok = [r for r in rows if r.precision.mean is not None and r.precision.mean >= goal.min_precision]
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
        est = {
            name: estimate(
                [getattr(s, name) for s in scores], METRIC_RANGES[name], what=f"variant {v} {name}"
            )
            for name in METRICS
        }
        rows.append(
            Row(
                index=v,
                params=_flat(variant),
                precision=est["precision"],
                recall=est["recall"],
                f1=est["f1"],
                latency_p50_h=est["latency_p50_h"],
                alerts_per_day=est["alerts_per_day"],
            )
        )
    frontier = {r.index for r in rows if not any(_dominates(o, r) for o in rows if o is not r)}
    rows = [msgspec.structs.replace(r, pareto=r.index in frontier) for r in rows]
    return SweepTable(
        seeds=tuple(r.seed for r in results),
        goal=goal.describe(),
        rows=tuple(rows),
        recommended=recommend(rows, goal),
    )


def _fmt(e: Estimate, digits: int = 3) -> str:
    if e.mean is None:
        return "—"
    if e.lo is None or e.hi is None:
        return f"{e.mean:.{digits}f}"
    return f"{e.mean:.{digits}f} [{e.lo:.{digits}f}, {e.hi:.{digits}f}]"


def render_sweep(table: SweepTable) -> str:
    """The table as plain text: one line per variant, ``*`` on the frontier, ``>`` recommended."""
    names = list(table.rows[0].params) if table.rows else []
    head = [*names, "precision", "recall", "F1", "latency p50 (wh)", "alerts/day"]
    lines = [
        f"{len(table.rows)} variants x {len(table.seeds)} seeds; "
        "mean [95 % t-interval across seeds, cut to range]",
        "  ".join(head),
    ]
    for r in table.rows:
        mark = ">" if r.index == table.recommended else ("*" if r.pareto else " ")
        cells = [f"{r.params[n]:g}" for n in names]
        cells += [
            _fmt(r.precision),
            _fmt(r.recall),
            _fmt(r.f1),
            _fmt(r.latency_p50_h, 2),
            _fmt(r.alerts_per_day, 2),
        ]
        lines.append(mark + " " + "  ".join(cells))
    lines.append("* Pareto frontier (precision, recall, latency)   > recommended")
    if table.recommended is None:
        lines.append(f"goal: {table.goal}: no variant meets it")
    else:
        best = table.rows[table.recommended]
        chosen = ", ".join(f"{k}={v:g}" for k, v in best.params.items())
        lines.append(f"goal: {table.goal}: recommend {chosen}")
    return "\n".join(lines)
