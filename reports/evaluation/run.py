"""One run's evaluation: accuracy against the truth, look-alikes, hall KPIs and run facts.

:func:`evaluate` is the single entry point the pipeline calls; :class:`Evaluation` is what it
writes to ``metrics.json`` (``msgspec.json.encode``) and what the renderers read. Everything
in it is a deterministic function of the inputs and the seed, with dictionaries built in
sorted order, so the same run encodes to the same bytes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import msgspec
import numpy as np

from engine.contract.alerts import Alert
from engine.contract.calendar import WorkingCalendar
from engine.contract.events import Event
from reports.evaluation.accuracy import CI_LEVEL, Score, score_matching
from reports.evaluation.kpis import HallKpis, hall_kpis
from reports.evaluation.matching import RULE_TO_TRUTH, lookalike_hits, match_alerts
from sim.common.truth import LOOKALIKE_KINDS, Episode

__all__ = ["Evaluation", "LookalikeScore", "RunFacts", "evaluate"]


class LookalikeScore(msgspec.Struct, frozen=True, kw_only=True):
    """Look-alike negatives of one kind and how many drew an alarm of a kind they resemble."""

    kind: str
    episodes: int
    flagged: int


class RunFacts(msgspec.Struct, frozen=True, kw_only=True):
    events: int
    alerts: int
    truth_episodes: int
    violations: int
    lookalikes: int
    cases: int


class Evaluation(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a run's accuracy report says (see ``reports.evaluation.accuracy`` for the conventions)."""

    tolerance_s: float
    bootstrap: int
    seed: int
    ci_level: float
    rules: tuple[Score, ...]
    families: tuple[Score, ...]
    overall: Score
    unscored_alerts: dict[str, int]
    unscored_truth: dict[str, int]
    lookalikes: tuple[LookalikeScore, ...]
    lookalikes_flagged: int
    kpis: HallKpis
    facts: RunFacts


def _case_subjects(events: Sequence[Event]) -> set[str]:
    """``case:<id>`` of every case any event mentions: the bootstrap population."""
    ids = {getattr(ev, "case_id", None) for ev in events}
    ids.discard(None)
    return {f"case:{case_id}" for case_id in ids}


def evaluate(
    events: Sequence[Event],
    alerts: Sequence[Alert],
    truth: Sequence[Episode],
    *,
    calendar: WorkingCalendar,
    tolerance_s: float = 60.0,
    bootstrap: int = 1000,
    seed: int = 0,
    rule_to_truth: Mapping[str, str] = RULE_TO_TRUTH,
) -> Evaluation:
    """Match ``alerts`` to ``truth`` and compute every metric of the report.

    ``tolerance_s`` is the matching window (see ``reports.evaluation.matching``); ``bootstrap`` the
    number of case resamples for the intervals (0 disables them); ``seed`` seeds the
    ``numpy`` generator that draws them. ``rule_to_truth`` must map each rule to its own
    truth kind (no two rules scored against the same kind).
    """
    kinds = list(rule_to_truth.values())
    if len(set(kinds)) != len(kinds):
        dup = sorted(k for k, n in Counter(kinds).items() if n > 1)
        raise ValueError(f"rule_to_truth maps several rules to the same truth kind: {dup}")
    if bootstrap < 0:
        raise ValueError(f"bootstrap must be >= 0, got {bootstrap}")

    matching = match_alerts(alerts, truth, tolerance_s=tolerance_s, rule_to_truth=rule_to_truth)
    cases = _case_subjects(events)
    rules, families, overall = score_matching(
        alerts,
        truth,
        matching,
        rule_to_truth=rule_to_truth,
        calendar=calendar,
        clusters=cases,
        n_cases=len(cases),
        n_resamples=bootstrap,
        rng=np.random.default_rng(seed),
    )

    flagged = Counter(
        truth[j].kind for j in lookalike_hits(alerts, truth, matching, rule_to_truth=rule_to_truth)
    )
    look_counts = Counter(ep.kind for ep in truth if ep.lookalike)
    look_kinds = [*LOOKALIKE_KINDS, *sorted(set(look_counts) - set(LOOKALIKE_KINDS))]
    lookalikes = tuple(
        LookalikeScore(kind=k, episodes=look_counts[k], flagged=flagged[k]) for k in look_kinds
    )
    unscored_alerts = Counter(alerts[i].rule for i in matching.unscored)
    scored_kinds = set(kinds)
    unscored_truth = Counter(ep.kind for ep in truth if not ep.lookalike and ep.kind not in scored_kinds)
    return Evaluation(
        tolerance_s=float(tolerance_s),
        bootstrap=bootstrap,
        seed=seed,
        ci_level=CI_LEVEL,
        rules=rules,
        families=families,
        overall=overall,
        unscored_alerts={k: unscored_alerts[k] for k in sorted(unscored_alerts)},
        unscored_truth={k: unscored_truth[k] for k in sorted(unscored_truth)},
        lookalikes=lookalikes,
        lookalikes_flagged=sum(flagged.values()),
        kpis=hall_kpis(events, alerts, calendar=calendar),
        facts=RunFacts(
            events=len(events),
            alerts=len(alerts),
            truth_episodes=len(truth),
            violations=sum(1 for ep in truth if not ep.lookalike),
            lookalikes=sum(look_counts.values()),
            cases=len(cases),
        ),
    )
