"""The summary sections of the complaint, inspection and deemed-rule families (Markdown).

The figures are :mod:`reports.evaluation.families`'; how they read is decided here.
"""

from __future__ import annotations

from collections.abc import Sequence

from reports.evaluation.accuracy import Score
from reports.evaluation.families.complaints import ComplaintReport
from reports.evaluation.families.deemed import DeemedReport
from reports.evaluation.families.inspections import InspectionReport
from reports.evaluation.run import LookalikeScore
from reports.render.text_table import markdown_table

__all__ = ["render_complaints", "render_deemed", "render_inspections", "rule_tables"]


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def rule_tables(
    title: str, rules: Sequence[Score], overall: Score, lookalikes: Sequence[LookalikeScore]
) -> list[str]:
    """The section's heading, its rules' table and its look-alikes' table (Markdown lines)."""
    head = ["rule", "truth kind", "episodes", "alerts", "TP", "FP", "FN", "precision", "recall"]
    rows = [
        [
            s.name,
            s.truth_kind or "",
            *(str(n) for n in (s.episodes, s.alerts, s.tp, s.fp, s.fn)),
            *(_num(x) for x in (s.precision, s.recall)),
        ]
        for s in (*rules, overall)
    ]
    looks = [[lk.kind, str(lk.episodes), str(lk.flagged)] for lk in lookalikes]
    return [
        f"## {title}",
        "",
        *markdown_table(head, rows, right=range(2, len(head))),
        "",
        *markdown_table(["look-alike", "episodes", "flagged"], looks, right=(1, 2)),
    ]


def _section(title: str, report: ComplaintReport | InspectionReport | DeemedReport, summary: str) -> str:
    """The family's tables, then one paragraph of its own figures."""
    lines = rule_tables(title, report.rules, report.overall, report.lookalikes)
    return "\n".join([*lines, "", summary, ""])


def render_complaints(report: ComplaintReport) -> str:
    """The complaint section of a run's summary (Markdown)."""
    f = report.figures
    channels = ", ".join(f"{c} {n}" for c, n in f.by_channel.items())
    return _section(
        "Complaints",
        report,
        f"Complaints received: {f.received} ({channels}); answered {f.answered}, "
        f"substantiated {f.substantiated}, closed at the end of the run {f.closed}, "
        f"reopened {f.reopened}, extended {f.extended}.",
    )


def render_inspections(report: InspectionReport) -> str:
    """The inspection section of a run's summary (Markdown)."""
    f = report.figures
    return _section(
        "Inspections",
        report,
        f"Inspections: {f.visits} visits, {f.problems} problems found, {f.units_named} namings of a unit, "
        f"{f.rectification_notices} rectification notices ({f.rectified} verified rectified), "
        f"{f.suggestions} supervision suggestions.",
    )


def render_deemed(report: DeemedReport) -> str:
    """The deemed rules' section of a run's summary (Markdown)."""
    return _section(
        "Deemed approval and deemed consent",
        report,
        f"Joint reviews: {report.joint_reviews}, with {report.absences} absences.",
    )
