"""Sweep figures: the precision-recall trade-off and each metric against the swept value.

Drawn with matplotlib's Agg backend (no display, identical files on every machine); the
recommended variant is marked so the figure and the table tell the same story. The swept
parameter's name and the goal are drawn through :class:`~reports.render.plots.fonts.PlotText`
(a CJK font when one is installed, else their non-CJK form and a logged warning).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from reports.evaluation.sweeps.table import Estimate, SweepTable
from reports.render.plots.fonts import PlotText

__all__ = ["plot_sweep"]


def _mean(e: Estimate) -> float:
    return float("nan") if e.mean is None else e.mean


def plot_sweep(table: SweepTable, out: Path, *, text: PlotText | None = None) -> Path:
    """Write ``out`` (PNG): PR curve on the left, metrics against the first parameter on the right."""
    text = text if text is not None else PlotText.lookup()
    with text.fonts():
        _plot(table, out, text)
    text.warn(str(out))
    return out


def _plot(table: SweepTable, out: Path, text: PlotText) -> None:
    rows = table.rows
    name = next(iter(rows[0].params)) if rows else "variant"
    x = [r.params.get(name, float(r.index)) for r in rows]
    fig, (ax_pr, ax_m) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax_pr.plot([_mean(r.recall) for r in rows], [_mean(r.precision) for r in rows], "o-", ms=3, lw=1)
    front = [r for r in rows if r.pareto]
    ax_pr.plot([_mean(r.recall) for r in front], [_mean(r.precision) for r in front], "s", ms=5, mfc="none")
    ax_pr.set_xlabel("recall")
    ax_pr.set_ylabel("precision")
    ax_pr.set_title("precision vs recall (squares: Pareto frontier)")
    for label in ("precision", "recall", "f1"):
        ax_m.plot(x, [_mean(getattr(r, label)) for r in rows], lw=1, label=label)
    ax_m.set_xlabel(text(name))
    ax_m.set_ylabel("mean across seeds")
    ax_lat = ax_m.twinx()
    ax_lat.plot(x, [_mean(r.alerts_per_day) for r in rows], "k:", lw=1, label="alerts/day")
    ax_lat.set_ylabel("alerts per working day")
    if table.recommended is not None:
        best = rows[table.recommended]
        ax_pr.plot([_mean(best.recall)], [_mean(best.precision)], "r*", ms=12)
        ax_m.axvline(best.params.get(name, float(best.index)), color="r", lw=0.8, ls="--")
    ax_m.legend(loc="lower left", fontsize=8)
    ax_lat.legend(loc="lower right", fontsize=8)
    fig.suptitle(text(f"sweep over {len(table.seeds)} seeds — {table.goal}"), fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, metadata={"Software": None})
    plt.close(fig)
