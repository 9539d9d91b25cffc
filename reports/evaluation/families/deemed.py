"""Accuracy of the opt-in deemed rules (超时默认, 缺席默认) against the ``deemed:`` section's truth.

The same matching and conventions as the approval rules (``reports.evaluation.matching``):
both kinds are bounded (the alert must come at the timer's instant, within the tolerance).
A deemed consent is about one department of one review, and several departments of one case
may be absent: its alerts and episodes are matched on ``case:<id>#<department>`` (the alert's
and the episode's ``department_id``), so one department's alert cannot match another's episode.
Kept apart from the run's main evaluation so that a run without the section reports exactly
what it did before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.contract.calendar import WorkingCalendar
from reports.evaluation.accuracy import CI_LEVEL, Score
from reports.evaluation.families.scoring import score_family
from reports.evaluation.run import LookalikeScore
from sim.common.truth import Episode

__all__ = ["DEEMED_RULE_TO_TRUTH", "DeemedReport", "evaluate_deemed"]

DEEMED_RULE_TO_TRUTH: Mapping[str, str] = {
    "deemed.approval": "deemed_approval",
    "deemed.consent": "deemed_consent",
}
_LOOKALIKES = ("decided_on_last_day", "written_opinion_absent")
#: Kinds keyed by department as well as subject (see the module docstring).
_PER_DEPARTMENT = frozenset({"deemed_consent", "written_opinion_absent"})


class DeemedReport(msgspec.Struct, frozen=True, kw_only=True):
    tolerance_s: float
    ci_level: float
    rules: tuple[Score, ...]
    overall: Score
    lookalikes: tuple[LookalikeScore, ...]
    lookalikes_flagged: int
    joint_reviews: int
    absences: int


def _keyed_alert(a: Alert) -> Alert:
    if a.rule == "deemed.consent":
        return msgspec.structs.replace(a, subject=f"{a.subject}#{a.department_id}")
    return a


def _keyed_episode(ep: Episode) -> Episode:
    if ep.kind in _PER_DEPARTMENT:
        return msgspec.structs.replace(ep, subject=f"{ep.subject}#{ep.department_id}")
    return ep


def evaluate_deemed(
    events: Sequence[ev.Event],
    alerts: Sequence[Alert],
    truth: Sequence[Episode],
    *,
    calendar: WorkingCalendar,
    tolerance_s: float = 60.0,
    bootstrap: int = 1000,
    seed: int = 0,
) -> DeemedReport:
    """Score the deemed rules' alerts against the truth (see the module docstring)."""
    cases = {f"case:{e.case_id}" for e in events if isinstance(e, ev.CaseAccepted)}
    scored = score_family(
        [_keyed_alert(a) for a in alerts if a.rule in DEEMED_RULE_TO_TRUTH],
        [_keyed_episode(ep) for ep in truth],
        rule_to_truth=DEEMED_RULE_TO_TRUTH,
        lookalike_kinds=_LOOKALIKES,
        clusters=cases,
        calendar=calendar,
        tolerance_s=tolerance_s,
        bootstrap=bootstrap,
        seed=seed,
    )
    return DeemedReport(
        tolerance_s=float(tolerance_s),
        ci_level=CI_LEVEL,
        rules=scored.rules,
        overall=scored.overall,
        lookalikes=scored.lookalikes,
        lookalikes_flagged=scored.lookalikes_flagged,
        joint_reviews=sum(1 for e in events if isinstance(e, ev.JointReviewConvened)),
        absences=sum(1 for e in events if isinstance(e, ev.JointReviewAbsent)),
    )
