"""``report.html`` (self-contained, figures embedded), ``report.md`` and ``report.json``.

What each section holds is decided here (:func:`_blocks`: paragraphs, headings, tables and
figures); how it looks is the templates' (``templates/report.html.j2`` and its style sheet,
``templates/report.md.j2``).

The report is for a supervision bureau's reader, not only for us: each section says what it
shows in one sentence, numbers carry units, intervals are stated, and the provenance block at
the end is enough to rerun every figure. The HTML has no external reference at all (inline
CSS, PNGs as data URIs), so it can be mailed or archived as one file, and prints cleanly.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from reports.render.plots import figures
from reports.render.plots.fonts import PlotText, plain_form
from reports.render.report.load_tables import loadtest_summary_table, loadtest_table, slo_table
from reports.render.report.market_tables import market_facts_table, market_rules_table, market_scores_table
from reports.render.report.model import build_report
from reports.render.report.run_calendar import calendar_note
from reports.render.report.tables import (
    bench_table,
    confusion_table,
    facts_table,
    kpi_table,
    provenance_table,
    scores_table,
    sweep_table,
)

__all__ = ["SECTIONS", "render_html", "render_markdown", "write_report"]

#: Section headings, in order (tests and readers look for them).
SECTIONS = (
    "Scenario in brief",
    "Hall KPIs",
    "Accuracy per rule family",
    "Confusion counts",
    "Detection latency",
    "Threshold curves",
    "Throughput and load",
    "Provenance",
)

_INTRO = {
    "Scenario in brief": "What was simulated, with which seed, and how big the run was.",
    "Hall KPIs": "The figures a bureau's work report publishes, computed from the events and alerts only.",
    "Accuracy per rule family": "Alerts matched to the ground truth; 95 % intervals from a case bootstrap.",
    "Confusion counts": "Per rule: alerts matching a real episode (TP), false alarms (FP), misses (FN).",
    "Detection latency": "Working hours from the onset of a violation to the alert that caught it.",
    "Threshold curves": "Precision, recall and F1 across the values of a swept threshold.",
    "Throughput and load": "Engine speed in this run, and load-test and benchmark results when present.",
    "Provenance": "Everything needed to reproduce the runs above.",
}  # fmt: skip


@cache
def _templates() -> jinja2.Environment:
    """The report's templates (``reports/render/report/templates``), loaded once.

    Why jinja2: the HTML escapes every value by default (scenario names, hall and rule ids come
    from users' files), and a bureau can restyle its report by editing a template, not Python.
    StrictUndefined makes a misspelt field an error instead of an empty cell.
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reports.render.report", "templates"),
        autoescape=lambda name: name is not None and name.endswith(".html.j2"),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["anchor"] = lambda section: section.lower().replace(" ", "-")
    env.filters["b64"] = lambda png: base64.b64encode(png).decode()
    env.filters["cell"] = lambda c: c.replace("|", "\\|")
    return env


def _run_label(run: dict[str, Any]) -> tuple[str, str]:
    """A run's heading, and its non-CJK form for a figure drawn without a CJK font."""
    label = f"{run['scenario']} — seed {run['seed']} ({run['name']})"
    name = plain_form(str(run["name"]))
    plain = f"{plain_form(str(run['scenario'])) or 'scenario'} — seed {run['seed']}" + (
        f" ({name})" if name else ""
    )
    return label, plain


def _blocks(report: dict[str, Any], with_figures: bool) -> list[tuple[str, list[tuple[str, Any]]]]:
    """Section → list of ``("p", text)``, ``("table", Table)`` or ``("img", (png, alt))`` blocks.

    The figures share one :class:`PlotText`: one CJK font lookup per report, and one note
    (at the top, and logged) when labels had to be drawn without their Chinese part."""
    runs = report["runs"]
    out: dict[str, list[tuple[str, Any]]] = {s: [("p", _INTRO[s])] for s in SECTIONS}
    text = PlotText.lookup() if with_figures else None
    for run in runs:
        label, plain = _run_label(run)
        out["Scenario in brief"] += [("h3", label), ("table", facts_table(run))]
        out["Hall KPIs"] += [("h3", label), ("table", kpi_table(run))]
        fam = [*run["families"], run["overall"]]
        out["Accuracy per rule family"] += [("h3", label), ("table", scores_table(fam))]
        out["Confusion counts"] += [("h3", label), ("table", confusion_table(run["rules"]))]
        if text is not None:
            _run_figures(out, run, fam, (label, plain), text)
        else:
            out["Detection latency"].append(("p", f"{label}: histograms in report.html."))
        out["Detection latency"].append(("p", f"{label}: working hours counted on {run.get('calendar')}."))
        if cal_note := calendar_note(run.get("calendar_coverage")):
            out["Scenario in brief"].append(("p", f"{label}: {cal_note}"))
            out["Detection latency"].append(("p", f"{label}: {cal_note}"))
        if note := _instant_note(run):
            out["Detection latency"].append(("p", f"{label}: {note}"))
        _sweep_blocks(out["Threshold curves"], run, (label, plain), text)
        _load_blocks(out["Throughput and load"], run, (label, plain), text)
    for market in report.get("markets", []):
        label = f"{market['scenario']} — seed {market['seed']} ({market['name']}; bidding market)"
        out["Scenario in brief"] += [("h3", label), ("table", market_facts_table(market))]
        out["Accuracy per rule family"] += [("h3", label), ("table", market_scores_table(market))]
        out["Confusion counts"] += [("h3", label), ("table", market_rules_table(market))]
    for extra in report.get("sweeps", []):
        _sweep_blocks(out["Threshold curves"], extra, _folder_label(extra, "sweep"), text)
    for extra in report.get("loadtests", []):
        _load_blocks(out["Throughput and load"], extra, _folder_label(extra, "load-test"), text)
    if report.get("bench"):
        out["Throughput and load"] += [("h3", "benchmarks"), ("table", bench_table(report["bench"]))]
    out["Provenance"].append(("table", provenance_table(report["provenance"])))
    if text is not None and (note := text.note()):
        out[SECTIONS[0]].insert(1, ("p", note))
        text.warn("report figures")
    return [(s, out[s]) for s in SECTIONS]


def _run_figures(
    out: dict[str, list[tuple[str, Any]]],
    run: dict[str, Any],
    fam: list[Any],
    labels: tuple[str, str],
    text: PlotText,
) -> None:
    """A run's accuracy, confusion and latency figures, titled with its label."""
    label, plain = labels

    def title(what: str) -> str:
        return text(f"{what}: {label}", f"{what}: {plain}")

    png = figures.scores_figure(fam, title=title("Accuracy per rule family"), text=text)
    out["Accuracy per rule family"].append(("img", (png, "accuracy")))
    png = figures.confusion_figure(run["rules"], title=title("Confusion counts"), text=text)
    out["Confusion counts"].append(("img", (png, "confusion")))
    png = figures.latency_histograms(run["latencies_h"], title=title("Detection latency"), text=text)
    out["Detection latency"].append(("img", (png, "latency histograms")))


def _folder_label(folder: dict[str, Any], kind: str) -> tuple[str, str]:
    """A sweep or load-test folder's heading, and its non-CJK form (module :func:`_run_label`)."""
    return (
        f"{folder['name']} ({kind} folder)",
        f"{plain_form(str(folder['name'])) or 'unnamed'} ({kind} folder)",
    )


def _instant_note(run: dict[str, Any]) -> str | None:
    """Say so when every detection is at its onset: a histogram of zeros is not a finding."""
    lat = run["latencies_h"]
    n = sum(len(v) for v in lat.values())
    top = max((max(v) for v in lat.values() if v), default=0.0)
    if not n or top * 3600 > float(run["tolerance_s"]):
        return None
    return (
        f"all {n} detections are at the violation's own instant (within the {run['tolerance_s']:g} s "
        "matching tolerance): deadline timers and logic checks fire by definition when the violation "
        "starts, so each histogram is one bar at 0 h."
    )


def _sweep_blocks(
    blocks: list[tuple[str, Any]], run: dict[str, Any], labels: tuple[str, str], text: PlotText | None
) -> None:
    """A run's sweep table and, when ``text`` is given (figures wanted), its threshold figure."""
    label, plain = labels
    sweep = run.get("sweep")
    if not sweep:
        blocks.append(("p", f"{label}: a single rulebook, not a sweep (no sweep.json in the run folder)."))
        return
    blocks += [("h3", label), ("table", sweep_table(sweep))]
    if sweep.get("recommended") is not None:
        blocks.append(("p", f"recommended (the sweep's goal): {sweep['param']} = {sweep['recommended']:g}"))
    if text is not None:
        rows = sweep["rows"]
        series = {m: [r.get(m) for r in rows] for m in ("precision", "recall", "f1")}
        title = text(f"Threshold sweep: {label}", f"Threshold sweep: {plain}")
        png = figures.threshold_figure(
            sweep["param"], [r["value"] for r in rows], series, title=title, text=text
        )
        blocks.append(("img", (png, "threshold curves")))


def _load_blocks(
    blocks: list[tuple[str, Any]], run: dict[str, Any], labels: tuple[str, str], text: PlotText | None
) -> None:
    """A folder's engine speed and load-test tables and, when ``text`` is given, its figure."""
    label, plain = labels
    blocks.append(("h3", label))
    if "timings" in run:  # a run folder; a load-test folder has no engine run of its own
        t = run.get("timings") or {}
        eps = t.get("engine_events_per_s")
        blocks.append(
            ("p", "engine: " + ("n/a" if eps is None else f"{eps:,.0f} events/s in process") +
             f"; simulation {t.get('simulate_s', 0):.1f} s, evaluation {t.get('evaluate_s', 0):.1f} s "
             "(wall clock on the machine that ran it)")
        )  # fmt: skip
    load = run.get("loadtest")
    if not load:
        blocks.append(("p", "no load test in this run folder (see `supsim loadtest`)."))
        return
    if load.get("stats"):
        blocks.append(("table", loadtest_table(load)))
    if load.get("summary"):
        blocks.append(("table", loadtest_summary_table(load["summary"])))
    if load.get("slo"):
        blocks.append(("table", slo_table(load["slo"])))
    hist = load.get("history") or []
    if text is not None and hist:
        png = figures.throughput_figure(
            [h["t_s"] for h in hist], [h["rps"] for h in hist], [h["p95_ms"] for h in hist],
            title=text(f"Load test: {label}", f"Load test: {plain}"), text=text,
        )  # fmt: skip
        blocks.append(("img", (png, "load test over time")))


def render_html(report: dict[str, Any]) -> str:
    """The self-contained HTML report (figures embedded as data URIs)."""
    sections = _blocks(report, with_figures=True)
    return _templates().get_template("report.html.j2").render(title=report["title"], sections=sections)


def render_markdown(report: dict[str, Any]) -> str:
    """The same report as Markdown, without the figures."""
    sections = _blocks(report, with_figures=False)
    text = _templates().get_template("report.md.j2").render(title=report["title"], sections=sections)
    return text.rstrip("\n") + "\n"  # every block ends with a blank line; the file with one newline


def write_report(
    runs: list[Path],
    out: Path,
    *,
    bench: Path | None = None,
    source_dir: Path | None = None,
    scenarios: tuple[Path, ...] = (),
) -> list[Path]:
    """Write ``out`` (HTML) and ``report.md`` / ``report.json`` beside it; return the three paths.

    ``runs`` may mix run, sweep and load-test folders; ``scenarios`` are scenario files to
    find the runs' calendars in (matched by digest, see :mod:`reports.render.report.run_calendar`).
    """
    report = build_report(runs, bench=bench, source_dir=source_dir, scenarios=scenarios)
    out.parent.mkdir(parents=True, exist_ok=True)
    md, js = out.with_name("report.md"), out.with_name("report.json")
    out.write_text(render_html(report), encoding="utf-8")
    md.write_text(render_markdown(report), encoding="utf-8")
    js.write_text(json.dumps(report, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return [out, md, js]
