"""Impairment figures: heat maps of each rule's recall and precision by impairment kind and
strength, and the alert delay of each rule family against the sync interval.

Drawn with matplotlib's Agg backend, like the other sweep figures (:mod:`reports.render.plots.sweep`),
from an :class:`~reports.evaluation.sweeps.impairments.ImpairmentSummary`; the delay is also
written as a Markdown table so the numbers can be read without the figure.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from reports.evaluation.sweeps.impairments import ImpairmentSummary
from reports.render.text_table import markdown_table

__all__ = ["delay_table", "plot_delay", "plot_heatmaps", "write_impairment_report"]


def _grid(summary: ImpairmentSummary, rule: str, metric: str) -> np.ndarray:
    """Rows: kinds; columns: strength levels in grid order (NaN where a kind has fewer levels)."""
    kinds = list(summary.kinds)
    width = max(len(v) for v in summary.kinds.values())
    out = np.full((len(kinds), width), np.nan)
    for c in summary.cells:
        if c.rule == rule and (value := getattr(c, metric)) is not None:
            out[kinds.index(c.kind), summary.kinds[c.kind].index(c.strength)] = value
    return out


def plot_heatmaps(summary: ImpairmentSummary, out_dir: Path) -> list[Path]:
    """One PNG per rule (``heatmap-<rule>.png``): recall and precision, kind x strength, values printed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    kinds = list(summary.kinds)
    for rule in summary.rules:
        fig, axes = plt.subplots(1, 2, figsize=(10, 1.2 + 0.7 * len(kinds)))
        for ax, metric in zip(axes, ("recall", "precision"), strict=True):
            data = _grid(summary, rule, metric)
            ax.imshow(data, vmin=0.0, vmax=1.0, cmap="RdYlGn", aspect="auto")
            for (i, j), value in np.ndenumerate(data):
                if j < len(summary.kinds[kinds[i]]):
                    label = "n/a" if np.isnan(value) else f"{value:.2f}"
                    ax.text(
                        j, i, f"{summary.kinds[kinds[i]][j]:g}\n{label}", ha="center", va="center", fontsize=7
                    )
            ax.set_yticks(range(len(kinds)), kinds, fontsize=8)
            ax.set_xticks(range(data.shape[1]), [f"level {k + 1}" for k in range(data.shape[1])], fontsize=8)
            ax.set_title(f"{metric} (cell: strength, value)", fontsize=9)
        fig.suptitle(f"{rule} — {len(summary.seeds)} seeds, other impairments averaged", fontsize=10)
        fig.tight_layout()
        path = out_dir / f"heatmap-{rule}.png"
        fig.savefig(path, dpi=100, metadata={"Software": None})
        plt.close(fig)
        paths.append(path)
    return paths


def plot_delay(summary: ImpairmentSummary, out: Path) -> Path:
    """``out`` (PNG): median alert delay (h) of each rule family against ``sync.every_minutes``."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for family in dict.fromkeys(r.family for r in summary.delay):
        rows = [r for r in summary.delay if r.family == family]
        y = [np.nan if r.delay_p50_h is None else r.delay_p50_h for r in rows]
        ax.plot([r.every_minutes for r in rows], y, "o-", label=family)
    ax.set_xlabel("sync.every_minutes")
    ax.set_ylabel("median alert delay (h)")
    ax.set_title(f"alert delay against sync interval — {len(summary.seeds)} seeds", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return out


def delay_table(summary: ImpairmentSummary) -> str:
    """Markdown: one row per family, one column per sync interval, median delay in hours."""
    syncs = list(dict.fromkeys(r.every_minutes for r in summary.delay))
    rows = []
    for family in dict.fromkeys(r.family for r in summary.delay):
        cells = {r.every_minutes: r.delay_p50_h for r in summary.delay if r.family == family}
        rows.append([family, *("n/a" if cells.get(s) is None else f"{cells[s]:.2f} h" for s in syncs)])
    head = ["family", *(f"sync {s:g} min" for s in syncs)]
    return "\n".join(markdown_table(head, rows, right=range(1, len(head)))) + "\n"


def write_impairment_report(summary: ImpairmentSummary, out_dir: Path) -> Path:
    """``impairments.md`` in ``out_dir``, linking every heat map and the delay figure, with the table."""
    maps = plot_heatmaps(summary, out_dir)
    parts = [
        "# Accuracy by impairment kind and strength\n",
        f"Seeds: {', '.join(str(s) for s in summary.seeds)}. A cell is the mean over seeds and over the "
        "variants holding that strength (other swept impairments averaged).\n",
    ]
    parts += [f"![{p.stem}]({p.name})\n" for p in maps]
    if summary.delay:
        plot_delay(summary, out_dir / "delay_vs_sync.png")
        parts += [
            "## Alert delay against sync interval\n",
            "![delay](delay_vs_sync.png)\n",
            delay_table(summary),
        ]
    report = out_dir / "impairments.md"
    report.write_text("\n".join(parts), encoding="utf-8")
    return report
