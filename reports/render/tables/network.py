"""Readable renderings of a network run (terminal table and Markdown), from its report.

One row per group (the network, each level, each unit of the second level): halls, how
many have cameras, cases, alerts, the pooled precision / recall / F1 of the approval rules,
the early-completion and overdue rates, warnings per 10,000 cases and, where the group has
camera halls, the pooled F1 of the discipline rules.
"""

from __future__ import annotations

from collections.abc import Sequence

from reports.evaluation.network import Group, NetworkReport, RuleRow
from reports.render.text_table import fixed_width, markdown_table

__all__ = ["render_network_markdown", "render_network_table"]

_HEADER = (
    "group",
    "halls",
    "cams",
    "cases",
    "alerts",
    "P",
    "R",
    "F1",
    "early",
    "overdue",
    "warn/10k",
    "disc F1",
)


def _f(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def _pooled_f1(rows: Sequence[RuleRow]) -> float | None:
    tp = sum(r.tp for r in rows)
    fp = sum(r.fp for r in rows)
    fn = sum(r.fn for r in rows)
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None


def _cells(g: Group) -> list[str]:
    o = g.overall
    return [
        g.label,
        f"{g.halls:,}",
        f"{g.camera_halls:,}",
        f"{g.kpis.cases_seen:,}",
        f"{g.alerts:,}",
        _f(o.precision),
        _f(o.recall),
        _f(o.f1),
        _pct(g.rates.early_completion_rate),
        _pct(g.rates.overdue_rate),
        _f(g.rates.warnings_per_10k, 1),
        _f(_pooled_f1(g.discipline)) if g.discipline else "–",
    ]


def _sections(report: NetworkReport) -> list[tuple[str, list[Group]]]:
    out = [("network", [report.total]), ("by level", list(report.levels))]
    if report.unit_level is not None:
        out.append((f"by {report.unit_level}", list(report.units)))
    return out


def render_network_table(report: NetworkReport) -> str:
    """Fixed-width tables for the terminal."""
    lines: list[str] = []
    for title, groups in _sections(report):
        lines.append(title)
        lines += fixed_width([list(_HEADER), *(_cells(g) for g in groups)], right=range(1, len(_HEADER)))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_network_markdown(report: NetworkReport, *, title: str) -> str:
    """Markdown: the same tables, and the per-rule counts of the whole network."""
    lines = [f"# {title}", ""]
    lines.append(
        "Pooled over halls: counts are summed, ratios recomputed from the sums. P, R, F1: approval "
        "rules (all rules pooled); early / overdue: among promised cases closed; disc F1: discipline "
        "rules of the camera halls."
    )
    for name, groups in _sections(report):
        lines += ["", f"## {name.capitalize()}", ""]
        lines += markdown_table(_HEADER, [_cells(g) for g in groups], right=range(1, len(_HEADER)))
    lines += [
        "",
        "## Rules over the whole network",
        "",
    ]
    rows = [
        [
            r.name,
            *(f"{n:,}" for n in (r.episodes, r.alerts, r.tp, r.fp, r.fn)),
            *(_f(x) for x in (r.precision, r.recall, r.f1)),
        ]
        for r in (*report.total.rules, *report.total.discipline)
    ]
    head = ["rule", "episodes", "alerts", "tp", "fp", "fn", "P", "R", "F1"]
    lines += markdown_table(head, rows, right=range(1, len(head)))
    return "\n".join(lines) + "\n"
