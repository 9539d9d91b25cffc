"""Scoring one rulebook variant on one seed, cheaply enough to do it hundreds of times.

A sweep scores every variant of the swept rules against the same truth, so this scorer
works on arrays (alert subject, alert time, alert calendar index) rather than on
:class:`engine.contract.alerts.Alert` records, and both the batch path and the streaming path feed
it the same arrays: one definition of a hit for the whole sweep.

What counts as a hit follows :mod:`reports.evaluation.matching` (same subject, onset within the
tolerance window, one-to-one, greedy by time difference) with one addition a sweep needs:
a *target* may declare ``early: unbounded``. A deadline warning is a forecast, so when the
rule designer asks "how much lead does a warning buy?", a warning is scored against the
``overdue`` episode of its case and may come any time before it; its latency is then
negative and its magnitude is the lead in working hours. With ``early: bounded`` (the
default) scoring is the report's own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import msgspec
import numpy as np

from engine.contract.calendar import WorkingCalendar
from reports.evaluation.accuracy import prf
from reports.evaluation.matching import BOUNDED_KINDS, RULE_TO_TRUTH
from sim.common.truth import Episode

__all__ = [
    "RuleScore",
    "SeedResult",
    "SeedScore",
    "Target",
    "TruthIndex",
    "score_arrays",
    "target_for",
    "working_days",
]


class Target(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a swept rule is scored against: a truth kind and whether early alerts count."""

    truth: str
    early: str = "bounded"  # "bounded" or "unbounded"


def target_for(rule: str, overrides: Mapping[str, Target]) -> Target:
    """The grid's target for ``rule``, else the report's own truth kind (bounded)."""
    if rule in overrides:
        return overrides[rule]
    try:
        return Target(truth=RULE_TO_TRUTH[rule])
    except KeyError:
        raise ValueError(
            f"rule {rule!r} has no truth kind to be scored against; give one in `score`"
        ) from None


@dataclass(frozen=True, slots=True)
class TruthIndex:
    """The real episodes of one kind: subject -> list of (onset POSIX, onset calendar index)."""

    kind: str
    by_subject: dict[str, list[tuple[float, float]]]
    total: int

    @classmethod
    def build(cls, truth: Sequence[Episode], kind: str, calendar: WorkingCalendar) -> TruthIndex:
        by_subject: dict[str, list[tuple[float, float]]] = {}
        n = 0
        for ep in truth:
            if ep.kind == kind and not ep.lookalike:
                by_subject.setdefault(ep.subject, []).append(
                    (ep.onset.timestamp(), calendar.to_index(ep.onset))
                )
                n += 1
        return cls(kind=kind, by_subject=by_subject, total=n)


@dataclass(frozen=True, slots=True)
class RuleScore:
    """One scored rule of a variant whose impairments were swept: precision and recall on the
    delivered stream, and its family's median alert delay in hours (``None``: undefined)."""

    rule: str
    precision: float | None
    recall: float | None
    delay_p50_h: float | None


@dataclass(frozen=True, slots=True)
class SeedScore:
    """Counts and metrics of one variant on one seed.

    ``None`` marks an undefined metric (see :mod:`reports.evaluation.accuracy`).
    """

    alerts: int
    tp: int
    fp: int
    fn: int
    precision: float | None
    recall: float | None
    f1: float | None
    latency_p50_h: float | None
    alerts_per_day: float
    #: Measured only on the delivered (impaired) stream of a scenario with ``data_quality:``
    #: (:mod:`supsim.experiments.sweep_delivered`): false alarms caused by data quality per
    #: 1,000 cases, and the alert delay (newest record's event time when the alert came out,
    #: minus the alert's time), median and 90th percentile, hours.
    data_false_alarms_per_1000: float | None = None
    delay_p50_h: float | None = None
    delay_p90_h: float | None = None
    #: Per scored rule, only when the grid sweeps impairment strengths (``data_quality.*``).
    rules: tuple[RuleScore, ...] = ()


def working_days(calendar: WorkingCalendar, start: date, end: date) -> int:
    """Working days in ``[start, end)`` (the denominator of "alerts per day")."""
    n = 0
    day = start
    while day < end:
        n += calendar.is_working_day(day)
        day += timedelta(days=1)
    return n


def score_arrays(
    subjects: Sequence[str],
    ts: np.ndarray | Callable[[int], float],
    index: np.ndarray,
    truth: TruthIndex,
    *,
    early: str,
    tolerance_s: float,
    days: int,
) -> SeedScore:
    """Score one variant's alerts (parallel arrays: subject, POSIX time, calendar index).

    ``ts`` may be a function of the alert position: the batch path knows alerts by calendar
    index and only pays for the instant of the few alerts whose subject has an episode.
    """
    ts_of = ts if callable(ts) else (lambda i: float(ts[i]))
    bounded_late = truth.kind in BOUNDED_KINDS
    pairs: list[tuple[float, int, int, str, float]] = []
    for i, subject in enumerate(subjects):
        eps = truth.by_subject.get(subject)
        if not eps:
            continue
        t = ts_of(i)
        for j, (onset, onset_idx) in enumerate(eps):
            dt = t - onset
            if dt < -tolerance_s and early != "unbounded":
                continue
            if bounded_late and dt > tolerance_s:
                continue
            pairs.append((abs(dt), i, j, subject, float(index[i]) - onset_idx))
    pairs.sort(key=lambda p: (p[0], p[1], p[2]))
    used_a: set[int] = set()
    used_e: set[tuple[str, int]] = set()
    lat: list[float] = []
    for _, i, j, subject, dx in pairs:
        if i in used_a or (subject, j) in used_e:
            continue
        used_a.add(i)
        used_e.add((subject, j))
        lat.append(dx / 3600.0)
    tp = len(lat)
    n = len(subjects)
    fp = n - tp
    fn = truth.total - tp
    precision, recall, f1 = prf(tp, fp, fn)
    return SeedScore(
        alerts=n,
        tp=tp,
        fp=fp,
        fn=fn,
        precision=precision,
        recall=recall,
        f1=f1,
        latency_p50_h=float(np.median(lat)) if lat else None,
        alerts_per_day=n / days if days else 0.0,
    )


@dataclass(frozen=True, slots=True)
class SeedResult:
    """``scores[v]`` is variant ``v``'s score (all swept rules pooled) on this seed."""

    seed: int
    scores: tuple[SeedScore, ...]
