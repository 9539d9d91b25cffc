"""Scoring of one family of rules kept apart from a run's main evaluation, and its summary tables.

Complaints, inspections and the deemed rules each add a section to a run only when their
scenario section is present, so that a run without them reports exactly what it did before.
They score alike: every kind is bounded (the alert must come at the instant that makes the
episode, within the tolerance), the bootstrap is over the units the family's alerts are about,
and look-alikes are counted by kind. What differs between them, the rules, the look-alike
kinds, the bootstrap's clusters and the figures read off the stream, is passed in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence

import msgspec
import numpy as np

from engine.contract.alerts import Alert
from engine.contract.calendar import WorkingCalendar
from reports.evaluation.accuracy import Score, score_matching
from reports.evaluation.matching import lookalike_hits, match_alerts
from reports.evaluation.run import LookalikeScore
from sim.common.truth import Episode

__all__ = ["FamilyScore", "score_family"]


class FamilyScore(msgspec.Struct, frozen=True, kw_only=True):
    """Per-rule and overall scores of a family, and how many of its look-alikes drew an alarm."""

    rules: tuple[Score, ...]
    overall: Score
    lookalikes: tuple[LookalikeScore, ...]
    lookalikes_flagged: int


def score_family(
    alerts: Sequence[Alert],
    truth: Sequence[Episode],
    *,
    rule_to_truth: Mapping[str, str],
    lookalike_kinds: Sequence[str],
    clusters: Collection[str],
    calendar: WorkingCalendar,
    tolerance_s: float,
    bootstrap: int,
    seed: int,
) -> FamilyScore:
    """Match the family's alerts (those of ``rule_to_truth``'s rules) to ``truth`` and score them.

    ``clusters`` are the units the bootstrap resamples (complaints, notices, cases): the
    family's alerts about one unit are not independent of each other.
    """
    mine = [a for a in alerts if a.rule in rule_to_truth]
    matching = match_alerts(
        mine,
        truth,
        tolerance_s=tolerance_s,
        rule_to_truth=rule_to_truth,
        bounded_kinds=rule_to_truth.values(),
    )
    rules, _, overall = score_matching(
        mine,
        truth,
        matching,
        rule_to_truth=rule_to_truth,
        calendar=calendar,
        clusters=clusters,
        n_cases=len(clusters),
        n_resamples=bootstrap,
        rng=np.random.default_rng(seed),
    )
    flagged = Counter(
        truth[j].kind for j in lookalike_hits(mine, truth, matching, rule_to_truth=rule_to_truth)
    )
    looks = Counter(ep.kind for ep in truth if ep.lookalike and ep.kind in lookalike_kinds)
    return FamilyScore(
        rules=rules,
        overall=overall,
        lookalikes=tuple(
            LookalikeScore(kind=k, episodes=looks[k], flagged=flagged[k]) for k in lookalike_kinds
        ),
        lookalikes_flagged=sum(flagged.values()),
    )
