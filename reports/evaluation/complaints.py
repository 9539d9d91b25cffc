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
import numpy as np

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.contract.calendar import WorkingCalendar
from reports.evaluation.accuracy import CI_LEVEL, Score, score_matching
from reports.evaluation.matching import lookalike_hits, match_alerts
from reports.evaluation.run import LookalikeScore
from sim.common.truth import Episode

__all__ = [
    "COMPLAINT_RULE_TO_TRUTH",
    "ComplaintFigures",
    "ComplaintReport",
    "evaluate_complaints",
    "render_complaints",
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
    mine = [a for a in alerts if a.rule in COMPLAINT_RULE_TO_TRUTH]
    matching = match_alerts(
        mine,
        truth,
        tolerance_s=tolerance_s,
        rule_to_truth=COMPLAINT_RULE_TO_TRUTH,
        bounded_kinds=COMPLAINT_RULE_TO_TRUTH.values(),
    )
    complaints = {f"complaint:{e.complaint_id}" for e in events if isinstance(e, ev.ComplaintReceived)}
    rules, _, overall = score_matching(
        mine,
        truth,
        matching,
        rule_to_truth=COMPLAINT_RULE_TO_TRUTH,
        calendar=calendar,
        clusters=complaints,
        n_cases=len(complaints),
        n_resamples=bootstrap,
        rng=np.random.default_rng(seed),
    )
    flagged = Counter(
        truth[j].kind for j in lookalike_hits(mine, truth, matching, rule_to_truth=COMPLAINT_RULE_TO_TRUTH)
    )
    looks = Counter(ep.kind for ep in truth if ep.lookalike and ep.kind in _LOOKALIKES)
    return ComplaintReport(
        tolerance_s=float(tolerance_s),
        ci_level=CI_LEVEL,
        rules=rules,
        overall=overall,
        lookalikes=tuple(LookalikeScore(kind=k, episodes=looks[k], flagged=flagged[k]) for k in _LOOKALIKES),
        lookalikes_flagged=sum(flagged.values()),
        figures=complaint_figures(events),
    )


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def render_complaints(report: ComplaintReport) -> str:
    """The complaint section of a run's summary (Markdown)."""
    lines = [
        "## Complaints",
        "",
        "| rule | truth kind | episodes | alerts | TP | FP | FN | precision | recall |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in (*report.rules, report.overall):
        lines.append(
            f"| {s.name} | {s.truth_kind or ''} | {s.episodes} | {s.alerts} | {s.tp} | {s.fp} | {s.fn} "
            f"| {_num(s.precision)} | {_num(s.recall)} |"
        )
    lines += ["", "| look-alike | episodes | flagged |", "|---|---:|---:|"]
    lines += [f"| {lk.kind} | {lk.episodes} | {lk.flagged} |" for lk in report.lookalikes]
    f = report.figures
    channels = ", ".join(f"{c} {n}" for c, n in f.by_channel.items())
    lines += [
        "",
        f"Complaints received: {f.received} ({channels}); answered {f.answered}, "
        f"substantiated {f.substantiated}, closed at the end of the run {f.closed}, "
        f"reopened {f.reopened}, extended {f.extended}.",
        "",
    ]
    return "\n".join(lines)
