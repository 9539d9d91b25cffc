"""Why each false alarm and each miss of a run with impaired data happened.

A run whose scenario has ``data_quality:`` is judged twice: the engine reads the stream as
delivered (impaired) and, for comparison, the world's own stream (clean), against the same
violation truth. Every false alarm and every miss of the impaired run is then given one
cause:

* ``rule`` / ``misconduct``: the clean run makes the same error (same rule, subject and step
  for a false alarm; same episode for a miss), so the data are not to blame. A false alarm
  is ``misconduct`` when its subject has a real violation (one kind of misconduct read as
  another), ``rule`` otherwise (the rule's own limit, e.g. a look-alike); a miss the clean
  run shares is always ``rule``.
* ``impairment:<kind>``: new in the impaired run, and the subject's own records were impaired.
  When several kinds touched the case, the first in :data:`PRECEDENCE` is named: a lost or
  undelivered record explains more than a copy, a copy or a backfill more than a wait, and a
  wait more than a shift of the clock. ``combinations`` keeps the full sets.
* ``impairment:watermark``: new, the subject's records were not impaired, yet some of them
  were set aside (late, after close): other sources' delays or skews moved the engine's
  watermark past them.
* ``unexplained``: new, and none of the above. Reported as such, not hidden.

The per-rule precision and recall of both runs are given side by side, and the false
alarms caused by data quality per 1,000 and 10,000 cases (the issue's target is stated per
1,000).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from statistics import median

import msgspec

from engine.contract.alerts import Alert
from reports.evaluation.accuracy import prf
from reports.evaluation.matching import RULE_TO_TRUTH, STEP_KEYED_KINDS, Matching, match_alerts
from sim.common.truth import Episode
from sim.quality.records import Impairment

__all__ = ["PRECEDENCE", "Attribution", "RuleFigures", "RunFigures", "attribute", "clock_shifts"]

#: Which impairment a false alarm or miss is put down to when several touched its case.
PRECEDENCE: tuple[str, ...] = (
    "missing",
    "old_catalogue",
    "status_mapping",
    "beyond_horizon",
    "duplicate",
    "backfill",
    "outage",
    "sync_delay",
    "clock_skew",
)

_DIGITS = 4


class RunFigures(msgspec.Struct, frozen=True, kw_only=True):
    tp: int
    fp: int
    fn: int
    precision: float | None
    recall: float | None


class RuleFigures(msgspec.Struct, frozen=True, kw_only=True):
    """One rule on the clean and on the impaired stream, and the causes of the impaired run's errors."""

    rule: str
    clean: RunFigures
    impaired: RunFigures
    false_alarms: dict[str, int]
    misses: dict[str, int]


class Attribution(msgspec.Struct, frozen=True, kw_only=True):
    """Causes of the impaired run's false alarms and misses (see the module docstring)."""

    precedence: tuple[str, ...]
    false_alarms: dict[str, int]
    misses: dict[str, int]
    rules: tuple[RuleFigures, ...]
    #: Impairment sets (``+``-joined) behind the errors put down to an impairment.
    combinations: dict[str, int]
    data_false_alarms_per_1000_cases: float | None
    data_false_alarms_per_10000_cases: float | None


def _step(alert: Alert) -> str | None:
    step = alert.evidence.get("step")
    return None if step is None else str(step)


def _alert_key(alert: Alert, rule_to_truth: Mapping[str, str]) -> tuple[str, str, str | None]:
    step = _step(alert) if rule_to_truth[alert.rule] in STEP_KEYED_KINDS else None
    return (alert.rule, alert.subject, step)


def _figures(alerts: Sequence[Alert], truth: Sequence[Episode], m: Matching, rule: str) -> RunFigures:
    kind = RULE_TO_TRUTH[rule]
    tp = sum(1 for i, _ in m.pairs if alerts[i].rule == rule)
    fp = sum(1 for i in m.false_alarms if alerts[i].rule == rule)
    fn = sum(1 for j in m.missed if truth[j].kind == kind)
    precision, recall, _ = prf(tp, fp, fn)
    rnd = lambda x: None if x is None else round(x, _DIGITS)  # noqa: E731
    return RunFigures(tp=tp, fp=fp, fn=fn, precision=rnd(precision), recall=rnd(recall))


class _Causes:
    """What is known about each subject: its impairments, set-aside records and real violations."""

    def __init__(self, impairments: Iterable[Impairment], set_aside: Iterable[str], truth: Sequence[Episode]):
        self.kinds: dict[str, set[str]] = defaultdict(set)
        for r in impairments:
            self.kinds[f"case:{r.case_id}"].add(r.impairment)
        self.set_aside = set(set_aside)
        self.violations = {ep.subject for ep in truth if not ep.lookalike}
        self.combinations: Counter[str] = Counter()

    def of(self, subject: str, *, in_clean: bool, miss: bool = False) -> str:
        if in_clean:  # a miss always has a violation: the one missed; only the rule is to blame
            return "misconduct" if subject in self.violations and not miss else "rule"
        kinds = self.kinds.get(subject)
        if kinds:
            self.combinations["+".join(k for k in PRECEDENCE if k in kinds)] += 1
            return "impairment:" + next(k for k in PRECEDENCE if k in kinds)
        if subject in self.set_aside:
            return "impairment:watermark"
        return "unexplained"


def clock_shifts(impairments: Iterable[Impairment]) -> dict[str, float]:
    """Each case's source-clock shift (s, the median over its skewed records), by alert subject.

    A case's records come from one system, so they share its skew; drift moves them apart by
    seconds a day, which the median smooths.
    """
    shifts: dict[str, list[float]] = defaultdict(list)
    for r in impairments:
        if r.impairment == "clock_skew":
            shifts[f"case:{r.case_id}"].append(r.amount_s)
    return {subject: float(median(xs)) for subject, xs in sorted(shifts.items())}


def attribute(
    alerts: Sequence[Alert],
    clean_alerts: Sequence[Alert],
    truth: Sequence[Episode],
    impairments: Iterable[Impairment],
    *,
    set_aside: Iterable[str],
    n_cases: int,
    tolerance_s: float = 60.0,
    on_source_clock: bool = False,
) -> Attribution:
    """Match both runs' alerts to ``truth`` and give every impaired-run error its cause.

    ``set_aside``: subjects of records the engine set aside in the impaired run (late, after
    close); ``n_cases``: cases seen, the denominator of the per-case rates. ``on_source_clock``:
    the impaired run's alerts are matched on each case's source clock
    (:func:`clock_shifts`, :func:`~reports.evaluation.matching.match_alerts`); the clean run
    has no skew and is matched as it is.
    """
    impairments = list(impairments)
    shifts = clock_shifts(impairments) if on_source_clock else None
    m = match_alerts(alerts, truth, tolerance_s=tolerance_s, clock_shift_s=shifts)
    c = match_alerts(clean_alerts, truth, tolerance_s=tolerance_s)
    clean_false = {_alert_key(clean_alerts[i], RULE_TO_TRUTH) for i in c.false_alarms}
    clean_missed = set(c.missed)
    causes = _Causes(impairments, set_aside, truth)
    fa_by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    miss_by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    for i in m.false_alarms:
        a = alerts[i]
        cause = causes.of(a.subject, in_clean=_alert_key(a, RULE_TO_TRUTH) in clean_false)
        fa_by_rule[a.rule][cause] += 1
    truth_rule = {kind: rule for rule, kind in RULE_TO_TRUTH.items()}
    for j in m.missed:
        ep = truth[j]
        miss_by_rule[truth_rule[ep.kind]][causes.of(ep.subject, in_clean=j in clean_missed, miss=True)] += 1
    rules = tuple(
        RuleFigures(
            rule=rule,
            clean=_figures(clean_alerts, truth, c, rule),
            impaired=_figures(alerts, truth, m, rule),
            false_alarms=dict(sorted(fa_by_rule[rule].items())),
            misses=dict(sorted(miss_by_rule[rule].items())),
        )
        for rule in RULE_TO_TRUTH
    )
    fa_total = sum((fa_by_rule[r] for r in RULE_TO_TRUTH), Counter[str]())
    miss_total = sum((miss_by_rule[r] for r in RULE_TO_TRUTH), Counter[str]())
    by_data = sum(n for cause, n in fa_total.items() if cause.startswith("impairment:"))
    return Attribution(
        precedence=PRECEDENCE,
        false_alarms=dict(sorted(fa_total.items())),
        misses=dict(sorted(miss_total.items())),
        rules=rules,
        combinations=dict(sorted(causes.combinations.items())),
        data_false_alarms_per_1000_cases=round(by_data * 1000 / n_cases, 2) if n_cases else None,
        data_false_alarms_per_10000_cases=round(by_data * 10000 / n_cases, 1) if n_cases else None,
    )
