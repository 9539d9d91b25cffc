"""Accuracy of the complaint rules against the complaints layer's truth, and the complaint figures.

The same matching and the same conventions as the approval rules (``reports.evaluation.matching``
and ``reports.evaluation.accuracy``), with the complaint kinds bounded (an alert must come at the
limit's instant, or at the record that makes the pattern, within the tolerance) and the bootstrap
over complaints and the units and officials the repeat alerts are about. Kept apart from the run's
main evaluation so that a run without complaints reports exactly what it did before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import msgspec

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.contract.calendar import WorkingCalendar
from reports.evaluation.accuracy import CI_LEVEL, Score
from reports.evaluation.families.scoring import score_family
from reports.evaluation.run import LookalikeScore
from sim.common.truth import Episode

__all__ = [
    "COMPLAINT_RULE_TO_TRUTH",
    "ComplaintFigures",
    "ComplaintReport",
    "evaluate_complaints",
]

COMPLAINT_RULE_TO_TRUTH: Mapping[str, str] = {
    "complaint.overdue": "complaint_overdue",
    "complaint.feedback_overdue": "complaint_feedback_overdue",
    "complaint.repeat": "repeat_complaints",
    "complaint.substantiated": "substantiated_complaint",
}
_LOOKALIKES = ("complaint_extended", "answered_on_last_day", "feedback_on_last_day")


class ComplaintFigures(msgspec.Struct, frozen=True, kw_only=True):
    """What the stream says about the complaints, in the terms of the published figures."""

    received: int
    by_channel: dict[str, int]
    answered: int
    substantiated: int
    closed: int
    reopened: int
    extended: int


class ComplaintReport(msgspec.Struct, frozen=True, kw_only=True):
    tolerance_s: float
    ci_level: float
    rules: tuple[Score, ...]
    overall: Score
    lookalikes: tuple[LookalikeScore, ...]
    lookalikes_flagged: int
    figures: ComplaintFigures


def complaint_figures(events: Sequence[ev.Event]) -> ComplaintFigures:
    received = [e for e in events if isinstance(e, ev.ComplaintReceived)]
    first_answer: dict[str, str] = {}
    closed: set[str] = set()
    n_reopened = n_extended = 0
    for e in events:
        if isinstance(e, ev.ComplaintAnswered):
            first_answer.setdefault(e.complaint_id, e.finding)
        elif isinstance(e, ev.ComplaintClosed):
            closed.add(e.complaint_id)
        elif isinstance(e, ev.ComplaintReopened):
            closed.discard(e.complaint_id)
            n_reopened += 1
        elif isinstance(e, ev.ComplaintExtended):
            n_extended += 1
    channels = Counter(e.channel for e in received)
    return ComplaintFigures(
        received=len(received),
        by_channel={c: channels[c] for c in sorted(channels)},
        answered=len(first_answer),
        substantiated=sum(1 for f in first_answer.values() if f == "substantiated"),
        closed=len(closed),
        reopened=n_reopened,
        extended=n_extended,
    )


def evaluate_complaints(
    events: Sequence[ev.Event],
    alerts: Sequence[Alert],
    truth: Sequence[Episode],
    *,
    calendar: WorkingCalendar,
    tolerance_s: float = 60.0,
    bootstrap: int = 1000,
    seed: int = 0,
) -> ComplaintReport:
    """Score the complaint rules' alerts against the truth (see the module docstring)."""
    complaints = {f"complaint:{e.complaint_id}" for e in events if isinstance(e, ev.ComplaintReceived)}
    scored = score_family(
        alerts,
        truth,
        rule_to_truth=COMPLAINT_RULE_TO_TRUTH,
        lookalike_kinds=_LOOKALIKES,
        clusters=complaints,
        calendar=calendar,
        tolerance_s=tolerance_s,
        bootstrap=bootstrap,
        seed=seed,
    )
    return ComplaintReport(
        tolerance_s=float(tolerance_s),
        ci_level=CI_LEVEL,
        rules=scored.rules,
        overall=scored.overall,
        lookalikes=scored.lookalikes,
        lookalikes_flagged=scored.lookalikes_flagged,
        figures=complaint_figures(events),
    )
