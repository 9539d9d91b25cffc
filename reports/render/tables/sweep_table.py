"""``supsim sweep``'s table as plain text: a line per variant, the frontier and the recommendation marked."""

from __future__ import annotations

from reports.evaluation.sweeps.table import Estimate, SweepTable, is_delivered
from reports.render.text_table import with_header

__all__ = ["render_sweep"]


def _fmt(e: Estimate, digits: int = 3) -> str:
    if e.mean is None:
        return "—"
    if e.lo is None or e.hi is None:
        return f"{e.mean:.{digits}f}"
    return f"{e.mean:.{digits}f} [{e.lo:.{digits}f}, {e.hi:.{digits}f}]"


def render_sweep(table: SweepTable) -> str:
    """The table as plain text: one line per variant, ``*`` on the frontier, ``>`` recommended."""
    names = list(table.rows[0].params) if table.rows else []
    delivered = bool(table.rows) and is_delivered(table.rows[0])
    figures = (
        ["precision", "recall", "DQ FA/1000 cases", "delay p50 (h)", "delay p90 (h)", "alerts/day"]
        if delivered
        else ["precision", "recall", "F1", "latency p50 (wh)", "alerts/day"]
    )
    rows = []
    for r in table.rows:
        mark = ">" if r.index == table.recommended else ("*" if r.pareto else "")
        cells = [mark, *(f"{r.params[n]:g}" for n in names)]
        if delivered:
            cells += [_fmt(r.precision), _fmt(r.recall)]
            cells += [
                _fmt(e, 2) if isinstance(e, Estimate) else "—"
                for e in (r.data_false_alarms_per_1000, r.delay_p50_h, r.delay_p90_h)
            ]
            cells.append(_fmt(r.alerts_per_day, 2))
        else:
            cells += [_fmt(r.precision), _fmt(r.recall), _fmt(r.f1)]
            cells += [_fmt(r.latency_p50_h, 2), _fmt(r.alerts_per_day, 2)]
        rows.append(cells)
    lines = [
        f"{len(table.rows)} variants x {len(table.seeds)} seeds; "
        "precision, recall: pooled over seeds [95 % Wilson]; others: mean [95 % t, cut to range]",
        *with_header(["", *names, *figures], rows, right=range(1, len(names) + len(figures) + 1)),
    ]
    front = "recall, DQ false alarms, delay p50" if delivered else "precision, recall, latency"
    lines.append(f"* Pareto frontier ({front})   > recommended")
    if table.recommended is None:
        lines.append(f"goal: {table.goal}: no variant meets it")
    else:
        best = table.rows[table.recommended]
        chosen = ", ".join(f"{k}={v:g}" for k, v in best.params.items())
        lines.append(f"goal: {table.goal}: recommend {chosen}")
    return "\n".join(lines)
