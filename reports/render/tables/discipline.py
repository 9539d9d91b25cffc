"""The hall-discipline section of a run's summary (Markdown, also readable as plain text)."""

from __future__ import annotations

from reports.evaluation.discipline import DisciplineReport
from reports.render.text_table import markdown_table

__all__ = ["render_discipline"]


def render_discipline(report: DisciplineReport) -> str:
    """The discipline rules' table, then the outage and break figures."""
    head = ["rule", "truth", "positives", "alerts", "TP", "FP", "FN", "grey", "P", "R", "F1"]
    rows = [
        [s.rule, s.kind, *(str(n) for n in (s.positives, s.alerts, s.tp, s.fp, s.fn, s.grey))]
        + [f"{x:.3f}" for x in (s.precision, s.recall, s.f1)]
        + ["–" if s.latency_median_s is None else f"{s.latency_median_s:.0f} / {s.latency_p90_s:.0f}"]
        for s in report.rules
    ]
    lines = [
        "## Hall discipline (camera streams)",
        "",
        *markdown_table([*head, "latency p50 / p90 s"], rows, right=range(2, len(head))),
        "",
        f"Absence alerts during camera outages: {report.absence_alerts_during_outages}. "
        f"Legitimate breaks flagged: {report.breaks_flagged} of {report.breaks}. "
        f"Matching tolerance {report.tolerance_s:.0f} s; "
        f"grey band {report.grey_s:.0f} s below the absence threshold.",
        "",
    ]
    return "\n".join(lines)
