"""Accuracy of the inspection rules against the inspections layer's truth, and the inspection figures.

The same matching and the same conventions as the complaint rules (``families.complaints``):
the inspection kinds are bounded (an alert must come at the deadline's instant, or at the naming that
makes the count, within the tolerance), and the bootstrap is over rectification notices and the units
the naming alerts are about. Kept apart from the run's main evaluation so that a run without
inspections reports exactly what it did before.
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
    "INSPECTION_RULE_TO_TRUTH",
    "InspectionFigures",
    "InspectionReport",
    "evaluate_inspections",
    "inspection_figures",
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
    #: supervision suggestions (监察建议) written to units after visits
    suggestions: int = 0


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
        suggestions=len({e.suggestion_id for e in events if isinstance(e, ev.SupervisionSuggested)}),
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
    notices = {f"rectification:{e.rectification_id}" for e in events if isinstance(e, ev.RectificationIssued)}
    units = {f"department:{e.department_id}" for e in events if isinstance(e, ev.InspectionPerformed)}
    scored = score_family(
        alerts,
        truth,
        rule_to_truth=INSPECTION_RULE_TO_TRUTH,
        lookalike_kinds=_LOOKALIKES,
        clusters=notices | units,
        calendar=calendar,
        tolerance_s=tolerance_s,
        bootstrap=bootstrap,
        seed=seed,
    )
    return InspectionReport(
        tolerance_s=float(tolerance_s),
        ci_level=CI_LEVEL,
        rules=scored.rules,
        overall=scored.overall,
        lookalikes=scored.lookalikes,
        lookalikes_flagged=scored.lookalikes_flagged,
        figures=inspection_figures(events),
    )
