"""Detection accuracy per rule, per family and overall, with latency and bootstrap intervals.

Conventions, chosen so a report never claims more than the data show:

* ``precision = TP / (TP + FP)``: ``None`` when the rule raised no alert (0/0);
* ``recall = TP / P`` with ``P = TP + FN`` real episodes: ``None`` when there was nothing to
  find (0/0);
* ``F1 = 2 TP / (2 TP + FP + FN)``, which equals the harmonic mean when both are defined and
  is 0 when there was something to find or something flagged but no hit; ``None`` only when
  there was nothing to find *and* nothing flagged. A fake 1.0 for an empty row would inflate
  every average it enters.

Latency is ``alert.ts - onset`` counted in *working* hours on the calendar (the unit the
deadlines are in): an alert that fires at 13:30 for a 12:00 onset is on time, not 1.5 h
late. It is negative when the alert came early within the tolerance.

Intervals come from :mod:`reports.evaluation.bootstrap` (cases resampled with replacement), percentile
method, at the 95 % level.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import msgspec
import numpy as np

from engine.contract.alerts import Alert
from engine.contract.calendar import WorkingCalendar
from reports.evaluation.bootstrap import ratio_interval, resample_sums
from reports.evaluation.matching import Matching, family_of
from sim.common.truth import Episode

__all__ = [
    "CI_LEVEL",
    "OVERALL",
    "Latency",
    "Score",
    "latency_summary",
    "prf",
    "score_matching",
    "working_latency_h",
]

CI_LEVEL = 0.95
#: Name of the row that pools every scored rule.
OVERALL = "all"
_DIGITS = 6

Interval = tuple[float, float]


class Latency(msgspec.Struct, frozen=True, kw_only=True):
    """Detection latency of the true positives, in working hours."""

    n: int
    p50_h: float
    p95_h: float
    max_h: float
    min_h: float


class Score(msgspec.Struct, frozen=True, kw_only=True):
    """Counts and metrics of one rule, one family (``truth_kind`` is ``None``) or all rules."""

    name: str
    truth_kind: str | None
    episodes: int
    alerts: int
    tp: int
    fp: int
    fn: int
    precision: float | None
    recall: float | None
    f1: float | None
    precision_ci: Interval | None = None
    recall_ci: Interval | None = None
    f1_ci: Interval | None = None
    prevalence: float | None = None
    latency: Latency | None = None


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), _DIGITS)


def _round_ci(ci: Interval | None) -> Interval | None:
    return None if ci is None else (round(ci[0], _DIGITS), round(ci[1], _DIGITS))


def prf(tp: int, fp: int, fn: int) -> tuple[float | None, float | None, float | None]:
    """Precision, recall and F1 with ``None`` for the undefined 0/0 cases (see module doc)."""
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    return precision, recall, f1


def working_latency_h(alert_ts: datetime, onset: datetime, calendar: WorkingCalendar) -> float:
    """Signed working hours from the truth onset to the alert."""
    if alert_ts >= onset:
        return calendar.working_seconds(onset, alert_ts) / 3600.0
    return -calendar.working_seconds(alert_ts, onset) / 3600.0


def latency_summary(hours: Iterable[float]) -> Latency | None:
    """Median, 95th percentile (linear interpolation), max and min; ``None`` without data."""
    arr = np.fromiter(hours, dtype=np.float64)
    if arr.size == 0:
        return None
    p50, p95 = np.percentile(arr, [50.0, 95.0])
    return Latency(
        n=int(arr.size),
        p50_h=round(float(p50), _DIGITS),
        p95_h=round(float(p95), _DIGITS),
        max_h=round(float(arr.max()), _DIGITS),
        min_h=round(float(arr.min()), _DIGITS),
    )


def score_matching(
    alerts: Sequence[Alert],
    truth: Sequence[Episode],
    matching: Matching,
    *,
    rule_to_truth: Mapping[str, str],
    calendar: WorkingCalendar,
    clusters: Iterable[str],
    n_cases: int,
    n_resamples: int,
    rng: np.random.Generator,
) -> tuple[tuple[Score, ...], tuple[Score, ...], Score]:
    """Scores per rule (in ``rule_to_truth`` order), per family (first-seen order) and overall.

    ``clusters`` are the bootstrap units that exist in the run (``case:<id>`` subjects of
    every case seen in the events, so cases with nothing to report are resampled too);
    subjects of alerts and episodes are added to them. ``n_cases`` is the prevalence
    denominator.
    """
    rules = list(rule_to_truth)
    kind_to_rule = {kind: rule for rule, kind in rule_to_truth.items()}
    families = list(dict.fromkeys(family_of(r) for r in rules))
    # row layout: rules, then families, then overall; columns (tp, fp, fn) per row
    row_of_rule = {r: i for i, r in enumerate(rules)}
    row_of_family = {f: len(rules) + i for i, f in enumerate(families)}
    overall_row = len(rules) + len(families)
    n_rows = overall_row + 1

    counts: dict[str, np.ndarray] = {}

    def add(subject: str, rule: str, col: int) -> None:
        vec = counts.get(subject)
        if vec is None:
            vec = counts[subject] = np.zeros(3 * n_rows, dtype=np.float64)
        for row in (row_of_rule[rule], row_of_family[family_of(rule)], overall_row):
            vec[3 * row + col] += 1.0

    totals = np.zeros(3 * n_rows, dtype=np.int64)
    alert_counts = dict.fromkeys(rules, 0)
    episode_counts = dict.fromkeys(rules, 0)
    latencies: dict[str, list[float]] = {r: [] for r in rules}
    matched = dict(matching.pairs)
    for i in matching.scored:
        alert = alerts[i]
        alert_counts[alert.rule] += 1
        j = matched.get(i)
        if j is None:
            add(alert.subject, alert.rule, 1)
        else:
            add(alert.subject, alert.rule, 0)
            latencies[alert.rule].append(working_latency_h(alert.ts, truth[j].onset, calendar))
    for ep in truth:
        rule = kind_to_rule.get(ep.kind)
        if rule is not None and not ep.lookalike:
            episode_counts[rule] += 1
    for j in matching.missed:
        ep = truth[j]
        add(ep.subject, kind_to_rule[ep.kind], 2)
    for vec in counts.values():
        totals += vec.astype(np.int64)

    n_clusters = len(set(clusters).union(counts))
    values = np.array([counts[s] for s in sorted(counts)], dtype=np.float64).reshape(-1, 3 * n_rows)
    sums = resample_sums(values, n_clusters, n_resamples=n_resamples, rng=rng)

    def make(row: int, name: str, kind: str | None, n_alerts: int, n_eps: int, lat: list[float]) -> Score:
        tp, fp, fn = (int(x) for x in totals[3 * row : 3 * row + 3])
        precision, recall, f1 = prf(tp, fp, fn)
        cis: list[Interval | None] = [None, None, None]
        if n_resamples > 0:
            b_tp, b_fp, b_fn = sums[:, 3 * row], sums[:, 3 * row + 1], sums[:, 3 * row + 2]
            cis = [
                ratio_interval(b_tp, b_tp + b_fp, level=CI_LEVEL),
                ratio_interval(b_tp, b_tp + b_fn, level=CI_LEVEL),
                ratio_interval(2 * b_tp, 2 * b_tp + b_fp + b_fn, level=CI_LEVEL),
            ]
        return Score(
            name=name,
            truth_kind=kind,
            episodes=n_eps,
            alerts=n_alerts,
            tp=tp,
            fp=fp,
            fn=fn,
            precision=_round(precision),
            recall=_round(recall),
            f1=_round(f1),
            precision_ci=_round_ci(cis[0]),
            recall_ci=_round_ci(cis[1]),
            f1_ci=_round_ci(cis[2]),
            prevalence=_round(n_eps / n_cases) if n_cases else None,
            latency=latency_summary(lat),
        )

    rule_scores = tuple(
        make(row_of_rule[r], r, rule_to_truth[r], alert_counts[r], episode_counts[r], latencies[r])
        for r in rules
    )
    family_scores = tuple(
        make(
            row_of_family[f],
            f,
            None,
            sum(alert_counts[r] for r in rules if family_of(r) == f),
            sum(episode_counts[r] for r in rules if family_of(r) == f),
            [h for r in rules if family_of(r) == f for h in latencies[r]],
        )
        for f in families
    )
    overall = make(
        overall_row,
        OVERALL,
        None,
        sum(alert_counts.values()),
        sum(episode_counts.values()),
        [h for r in rules for h in latencies[r]],
    )
    return rule_scores, family_scores, overall
