"""Accuracy of the inspection rules against the inspections layer's truth, and the inspection figures.

The same matching and the same conventions as the complaint rules (``reports.evaluation.complaints``):
the inspection kinds are bounded (an alert must come at the deadline's instant, or at the naming that
makes the count, within the tolerance), and the bootstrap is over rectification notices and the units
the naming alerts are about. Kept apart from the run's main evaluation so that a run without
inspections reports exactly what it did before.
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
    "INSPECTION_RULE_TO_TRUTH",
    "InspectionFigures",
    "InspectionReport",
    "evaluate_inspections",
    "inspection_figures",
    "render_inspections",
]

INSPECTION_RULE_TO_TRUTH: Mapping[str, str] = {
    "inspection.rectification_overdue": "rectification_overdue",
    "inspection.named_twice": "unit_named_twice",
}
_LOOKALIKES = ("rectified_on_last_day", "named_13_months_apart")


class InspectionFigures(msgspec.Struct, frozen=True, kw_only=True):
    """What the stream says about the inspections, in the terms of the published figures."""

    visits: int
    problems: int
    by_problem: dict[str, int]
    #: visits that named their unit in the bulletin (a visit's findings name it once)
    units_named: int
    rectification_notices: int
    rectified: int


class InspectionReport(msgspec.Struct, frozen=True, kw_only=True):
    tolerance_s: float
    ci_level: float
    rules: tuple[Score, ...]
    overall: Score
    lookalikes: tuple[LookalikeScore, ...]
    lookalikes_flagged: int
    figures: InspectionFigures


def inspection_figures(events: Sequence[ev.Event]) -> InspectionFigures:
    findings = [e for e in events if isinstance(e, ev.InspectionFinding)]
    problems = Counter(e.problem for e in findings)
    return InspectionFigures(
        visits=sum(1 for e in events if isinstance(e, ev.InspectionPerformed)),
        problems=len(findings),
        by_problem={p: problems[p] for p in sorted(problems)},
        units_named=len({e.inspection_id for e in findings if e.named}),
        rectification_notices=sum(1 for e in events if isinstance(e, ev.RectificationIssued)),
        rectified=len(
            {e.rectification_id for e in events if isinstance(e, ev.RectificationVerified) and e.rectified}
        ),
    )


def evaluate_inspections(
    events: Sequence[ev.Event],
    alerts: Sequence[Alert],
    truth: Sequence[Episode],
    *,
    calendar: WorkingCalendar,
    tolerance_s: float = 60.0,
    bootstrap: int = 1000,
    seed: int = 0,
) -> InspectionReport:
    """Score the inspection rules' alerts against the truth (see the module docstring)."""
    mine = [a for a in alerts if a.rule in INSPECTION_RULE_TO_TRUTH]
    matching = match_alerts(
        mine,
        truth,
        tolerance_s=tolerance_s,
        rule_to_truth=INSPECTION_RULE_TO_TRUTH,
        bounded_kinds=INSPECTION_RULE_TO_TRUTH.values(),
    )
    notices = {f"rectification:{e.rectification_id}" for e in events if isinstance(e, ev.RectificationIssued)}
    units = {f"department:{e.department_id}" for e in events if isinstance(e, ev.InspectionPerformed)}
    rules, _, overall = score_matching(
        mine,
        truth,
        matching,
        rule_to_truth=INSPECTION_RULE_TO_TRUTH,
        calendar=calendar,
        clusters=notices | units,
        n_cases=len(notices | units),
        n_resamples=bootstrap,
        rng=np.random.default_rng(seed),
    )
    flagged = Counter(
        truth[j].kind for j in lookalike_hits(mine, truth, matching, rule_to_truth=INSPECTION_RULE_TO_TRUTH)
    )
    looks = Counter(ep.kind for ep in truth if ep.lookalike and ep.kind in _LOOKALIKES)
    return InspectionReport(
        tolerance_s=float(tolerance_s),
        ci_level=CI_LEVEL,
        rules=rules,
        overall=overall,
        lookalikes=tuple(LookalikeScore(kind=k, episodes=looks[k], flagged=flagged[k]) for k in _LOOKALIKES),
        lookalikes_flagged=sum(flagged.values()),
        figures=inspection_figures(events),
    )


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def render_inspections(report: InspectionReport) -> str:
    """The inspection section of a run's summary (Markdown)."""
    lines = [
        "## Inspections",
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
    lines += [
        "",
        f"Inspections: {f.visits} visits, {f.problems} problems found, {f.units_named} namings of a unit, "
        f"{f.rectification_notices} rectification notices ({f.rectified} verified rectified).",
        "",
    ]
    return "\n".join(lines)
