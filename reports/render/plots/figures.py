"""Matplotlib figures of a report, as PNG bytes ready to embed.

Why these choices: a supervision bureau prints its reports, so every figure has labelled
axes with units, a title, a legend that covers no data, and sizes that keep tick labels
apart (long rule names go on the y axis of horizontal bars). Figures are drawn on the Agg
canvas directly (``matplotlib.figure.Figure``), never through ``pyplot``, so no global state
or GUI backend is involved, and PNGs are saved without a ``Software`` tag so the same data
give the same bytes. Labels that come from the data (titles naming a run, rule and family
names, the swept parameter) pass through a :class:`~reports.render.plots.fonts.PlotText`, so
Chinese ones are drawn with a CJK font or, without one, in their non-CJK form, never as boxes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from reports.render.plots.fonts import PlotText

__all__ = [
    "confusion_figure",
    "latency_histograms",
    "scores_figure",
    "threshold_figure",
    "throughput_figure",
]

_DPI = 110
_COLOURS = {"precision": "#1f77b4", "recall": "#ff7f0e", "f1": "#2ca02c"}


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None})
    return buf.getvalue()


def _drawn(draw: Callable[[PlotText], Figure], text: PlotText | None) -> bytes:
    """Draw and save inside the fonts of ``text`` (looked up when not given)."""
    text = text if text is not None else PlotText.lookup()
    with text.fonts():
        return _png(draw(text))


def scores_figure(rows: Sequence[Mapping[str, object]], *, title: str, text: PlotText | None = None) -> bytes:
    """Grouped bars of precision, recall and F1 per row, with the bootstrap 95 % intervals."""
    return _drawn(lambda t: _scores(rows, t(title), t), text)


def _scores(rows: Sequence[Mapping[str, object]], title: str, text: PlotText) -> Figure:
    names = [text(str(r["name"])) for r in rows]
    fig = Figure(figsize=(8.0, 0.9 + 0.55 * max(3, len(names))), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(names))
    h = 0.26
    for k, metric in enumerate(("precision", "recall", "f1")):
        vals = [r.get(metric) for r in rows]
        xs = np.array([np.nan if v is None else float(v) for v in vals])  # type: ignore[arg-type]
        ci = [r.get(f"{metric}_ci") for r in rows]
        err = np.array(
            [
                [0.0, 0.0] if c is None or np.isnan(x) else [max(0.0, x - c[0]), max(0.0, c[1] - x)]  # type: ignore[index]
                for x, c in zip(xs, ci, strict=True)
            ]
        ).T
        ax.barh(y + (k - 1) * h, np.nan_to_num(xs), height=h, xerr=err, capsize=2, label=metric.upper()
                if metric == "f1" else metric, color=_COLOURS[metric])  # fmt: skip
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.05)
    ax.set_xlabel("score (fraction, 0–1); bars: 95 % bootstrap interval")
    ax.set_title(title)
    ax.legend(loc="lower left", bbox_to_anchor=(1.0, 0.0), frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return fig


def confusion_figure(
    rows: Sequence[Mapping[str, object]], *, title: str, text: PlotText | None = None
) -> bytes:
    """Stacked horizontal bars of true positives, false positives and missed episodes per rule."""
    return _drawn(lambda t: _confusion(rows, t(title), t), text)


def _confusion(rows: Sequence[Mapping[str, object]], title: str, text: PlotText) -> Figure:
    names = [text(str(r["name"])) for r in rows]
    fig = Figure(figsize=(8.0, 0.9 + 0.4 * max(3, len(names))), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(names))
    left = np.zeros(len(names))
    for key, label, colour in (("tp", "true positive", "#2ca02c"), ("fp", "false positive", "#d62728"),
                               ("fn", "missed (false negative)", "#7f7f7f")):  # fmt: skip
        vals = np.array([float(r[key]) for r in rows])  # type: ignore[arg-type]
        ax.barh(y, vals, left=left, color=colour, label=label, height=0.6)
        left += vals
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel("count (alerts or truth episodes)")
    ax.set_title(title)
    ax.legend(loc="lower left", bbox_to_anchor=(1.0, 0.0), frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return fig


def latency_histograms(
    latencies: Mapping[str, Sequence[float]], *, title: str, text: PlotText | None = None
) -> bytes:
    """One histogram of detection latency (working hours) per rule family, side by side."""
    return _drawn(lambda t: _latency(latencies, t(title), t), text)


def _latency(latencies: Mapping[str, Sequence[float]], title: str, text: PlotText) -> Figure:
    families = [f for f in latencies if latencies[f]]
    n = max(1, len(families))
    fig = Figure(figsize=(min(4.0 * n, 12.0), 3.4), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, fam in zip(axes, families or ["(no detections)"], strict=False):
        data = np.asarray(latencies.get(fam, []), dtype=np.float64)
        if data.size:
            lo, hi = float(data.min()), float(data.max())
            bins = 20 if hi > lo else 1
            ax.hist(data, bins=bins, range=(lo, hi) if hi > lo else (lo - 0.5, lo + 0.5), color="#1f77b4")
        ax.set_title(f"{text(fam)} (n = {data.size})")
        ax.set_xlabel("latency (working hours)")
        ax.set_ylabel("true positives")
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return fig


def threshold_figure(
    param: str,
    values: Sequence[float],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    text: PlotText | None = None,
) -> bytes:
    """Metrics of a sweep against the swept threshold."""
    return _drawn(lambda t: _threshold(t(param), values, series, t(title)), text)


def _threshold(
    param: str, values: Sequence[float], series: Mapping[str, Sequence[float | None]], title: str
) -> Figure:
    fig = Figure(figsize=(7.5, 3.8), layout="constrained")
    ax = fig.add_subplot()
    for name, ys in series.items():
        arr = np.array([np.nan if v is None else float(v) for v in ys])
        ax.plot(values, arr, marker="o", label=name, color=_COLOURS.get(name))
    ax.set_xlabel(param)
    ax.set_ylabel("score (fraction, 0–1)")
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    ax.legend(loc="lower left", bbox_to_anchor=(1.0, 0.0), frameon=False)
    ax.grid(alpha=0.3)
    return fig


def throughput_figure(
    t_s: Sequence[float],
    rps: Sequence[float],
    p95_ms: Sequence[float | None],
    *,
    title: str,
    text: PlotText | None = None,
) -> bytes:
    """A load test over time: requests per second (left axis) and 95th-percentile response time."""
    return _drawn(lambda t: _throughput(t_s, rps, p95_ms, t(title)), text)


def _throughput(
    t_s: Sequence[float], rps: Sequence[float], p95_ms: Sequence[float | None], title: str
) -> Figure:
    fig = Figure(figsize=(8.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(t_s, rps, color="#1f77b4", label="requests/s")
    ax.set_xlabel("time since start (s)")
    ax.set_ylabel("requests per second", color="#1f77b4")
    ax2 = ax.twinx()
    ax2.plot(t_s, [np.nan if v is None else v for v in p95_ms], color="#ff7f0e", label="p95 response")
    ax2.set_ylabel("95th percentile response time (ms)", color="#ff7f0e")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return fig
