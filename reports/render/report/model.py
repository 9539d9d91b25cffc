"""What a report says, gathered from run folders into one JSON-able structure (``report.json``).

The HTML and Markdown renderers only format this structure, so the three files always agree.
A run folder is what ``supsim run`` writes; the optional pieces are picked up when present:

* ``sweep.json`` — a threshold sweep: ``{"param": name, "rows": [{"value": x, "precision": p,
  "recall": r, "f1": f}, ...]}`` (one row per swept value);
* ``locust_stats.csv`` / ``locust_stats_history.csv`` / ``slo.json`` / ``loadtest.json`` —
  a ``supsim loadtest`` run (Locust's own CSV names);
* ``bench.json`` — a pytest-benchmark result file (``make bench``), or one given explicitly.

A folder without ``metrics.json`` is accepted when it holds a sweep (``supsim sweep``
writes ``sweep.json`` alone) or a load test (``supsim loadtest`` writes Locust's CSVs,
``slo.json`` and ``loadtest.json``): its results join the threshold-curve or load section,
so one report can show a run, the sweep of its thresholds and the load test of its stream.

Detection latencies for the histograms are recomputed from ``alerts.jsonl`` and
``truth.jsonl`` with the same matching as the evaluation, counted on the run's own working
calendar (found through the scenario's digest, :mod:`reports.render.report.run_calendar`).
"""

from __future__ import annotations

import csv
import functools
import json
import logging
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.contract.alerts import read_alerts
from engine.contract.calendar import WorkingCalendar
from reports.evaluation.accuracy import working_latency_h
from reports.evaluation.matching import RULE_TO_TRUTH, family_of, match_alerts
from reports.render.report.integrity import RunFolderError, check_run_files, read_metrics
from reports.render.report.provenance import provenance
from reports.render.report.run_calendar import RunCalendar, run_calendar
from sim.common.truth import read_truth

logger = logging.getLogger(__name__)

__all__ = ["build_report", "folder_kind", "load_market", "load_run", "normalise_sweep"]


def _json(path: Path) -> Any:
    return json.loads(path.read_bytes()) if path.exists() else None


def _latencies(run: Path, tolerance_s: float, calendar: WorkingCalendar) -> dict[str, list[float]]:
    alerts = list(read_alerts(run / "alerts.jsonl"))
    truth = list(read_truth(run / "truth.jsonl"))
    matching = match_alerts(alerts, truth, tolerance_s=tolerance_s, rule_to_truth=RULE_TO_TRUTH)
    out: dict[str, list[float]] = defaultdict(list)
    for a, t in matching.pairs:
        hours = working_latency_h(alerts[a].ts, truth[t].onset, calendar)
        out[family_of(alerts[a].rule)].append(round(hours, 6))
    return {k: sorted(out[k]) for k in sorted(out)}


def _csv_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _float(x: str | None) -> float | None:
    try:
        return None if x is None or x in ("", "N/A") else float(x)
    except ValueError:
        return None


def _loadtest(run: Path) -> dict[str, Any] | None:
    stats = _csv_rows(run / "locust_stats.csv")
    history = [r for r in _csv_rows(run / "locust_stats_history.csv") if r.get("Name") == "Aggregated"]
    slo, summary = _json(run / "slo.json"), _json(run / "loadtest.json")
    if slo is None and isinstance(summary, dict):
        slo = summary.get("slo")  # loadtest.json keeps Locust's verdict too
    if not (stats or history or slo or summary):
        return None
    keep = (
        "Type",
        "Name",
        "Request Count",
        "Failure Count",
        "Median Response Time",
        "95%",
        "99%",
        "Requests/s",
    )
    t0 = _float(history[0].get("Timestamp")) if history else None
    return {
        "stats": [{k: r.get(k, "") for k in keep} for r in stats],
        "history": [
            {
                "t_s": (_float(r.get("Timestamp")) or 0.0) - (t0 or 0.0),
                "rps": _float(r.get("Requests/s")) or 0.0,
                "p95_ms": _float(r.get("95%")),
            }
            for r in history
        ],
        "slo": slo,
        "summary": summary,
    }


def _bench(path: Path | None) -> list[dict[str, Any]] | None:
    data = _json(path) if path is not None else None
    if not data:
        return None
    rows = []
    for b in data.get("benchmarks", []):
        st = b.get("stats", {})
        rows.append(
            {
                "name": b.get("name", "?"),
                "mean_s": st.get("mean"),
                "stddev_s": st.get("stddev"),
                "rounds": st.get("rounds"),
                "ops": st.get("ops"),
                "extra_info": b.get("extra_info", {}),
            }
        )
    return sorted(rows, key=lambda r: str(r["name"]))


def _estimate(v: Any) -> tuple[float | None, list[float] | None]:
    """A sweep cell: a plain number (hand-written file) or ``{"mean", "lo", "hi"}``."""
    if isinstance(v, dict):
        lo, hi = v.get("lo"), v.get("hi")
        return v.get("mean"), None if lo is None or hi is None else [lo, hi]
    return (None if v is None else float(v)), None


def normalise_sweep(data: Any) -> dict[str, Any] | None:
    """A sweep as ``{"param", "rows": [{"value", "label", metric, metric_ci...}], "recommended"}``.

    Accepts ``supsim sweep``'s table (rows of ``params`` and estimates; the x axis is the one
    parameter that varies, or the variant number when several do) and the simple form
    ``{"param": name, "rows": [{"value": x, "precision": p, ...}]}``.
    """
    if not data:
        return None
    raw = data if isinstance(data, list) else data.get("rows", [])
    metrics = ("precision", "recall", "f1", "latency_p50_h", "alerts_per_day")
    if raw and isinstance(raw[0], dict) and "params" in raw[0]:
        names = sorted({k for r in raw for k in r["params"]})
        varying = [n for n in names if len({r["params"].get(n) for r in raw}) > 1] or names
        single = len(varying) == 1
        param = varying[0] if single else "variant (" + " × ".join(varying) + ")"
        rows = []
        for r in raw:
            row: dict[str, Any] = {
                "value": float(r["params"][varying[0]]) if single else float(r["index"]),
                "label": "" if single else ", ".join(f"{n}={r['params'].get(n)}" for n in varying),
            }
            for m in metrics:
                if m in r:
                    row[m], row[f"{m}_ci"] = _estimate(r[m])
            rows.append(row)
        rec = data.get("recommended") if isinstance(data, dict) else None
        recommended = next(
            (row["value"] for r, row in zip(raw, rows, strict=True) if r["index"] == rec), None
        )
        rows.sort(key=lambda r: r["value"])
        return {"param": param, "rows": rows, "recommended": recommended} if rows else None
    param = "threshold" if isinstance(data, list) else str(data.get("param", "threshold"))
    rows = sorted((r for r in raw if isinstance(r.get("value"), int | float)), key=lambda r: r["value"])
    return {"param": param, "rows": rows, "recommended": None} if rows else None


def _sweep(run: Path) -> dict[str, Any] | None:
    return normalise_sweep(_json(run / "sweep.json"))


_LOAD_FILES = ("locust_stats.csv", "locust_stats_history.csv", "slo.json", "loadtest.json")


def folder_kind(folder: Path) -> str:
    """``run`` (``metrics.json``), ``sweep`` or ``loadtest``; ``FileNotFoundError`` otherwise."""
    if (folder / "metrics.json").is_file():
        return "run"
    if (folder / "sweep.json").is_file():
        return "sweep"
    if any((folder / f).is_file() for f in _LOAD_FILES):
        return "loadtest"
    raise FileNotFoundError(
        f"{folder}: not a run folder (no metrics.json), nor a sweep (sweep.json) or load test "
        "(Locust CSVs, loadtest.json); run `supsim run`, `supsim sweep` or `supsim loadtest` first"
    )


def _identity(run: Path, metrics: dict[str, Any]) -> dict[str, Any]:
    """What names a run in every section: folder, scenario, seed, period."""
    keys = ("scenario", "scenario_file", "seed", "start", "end")
    return {"name": run.name, **{k: metrics.get(k) for k in keys}}


def load_run(
    run: Path, *, calendar: WorkingCalendar | None = None, scenarios: tuple[Path, ...] = ()
) -> dict[str, Any]:
    """One run folder as a report section (raises ``FileNotFoundError`` without ``metrics.json``).

    Latencies are counted on ``calendar`` when given, else on the run's own scenario calendar
    (``scenarios`` adds files to look for it in, matched by digest).
    """
    metrics = read_metrics(run)
    check_run_files(run, metrics)
    ev = metrics["evaluation"]
    found = RunCalendar(calendar, "given by the caller", None) if calendar is not None else None
    found = found or run_calendar(run, metrics, scenarios=scenarios)
    cal = found.calendar
    scored = [r for r in ev["rules"] if r["episodes"] or r["alerts"]]
    return {
        **_identity(run, metrics),
        "facts": ev["facts"],
        "kpis": {k: v for k, v in ev["kpis"].items() if k != "departments"},
        "ci_level": ev["ci_level"],
        "bootstrap": ev["bootstrap"],
        "tolerance_s": ev["tolerance_s"],
        "families": ev["families"],
        "overall": ev["overall"],
        "rules": scored,
        "lookalikes": ev["lookalikes"],
        "lookalikes_flagged": ev["lookalikes_flagged"],
        "latencies_h": _latencies(run, float(ev["tolerance_s"]), cal),
        "calendar": found.note,
        "calendar_coverage": metrics.get("calendar"),
        "engine": {
            k: metrics.get("engine_stats", {}).get(k)
            for k in ("events_in", "duplicates", "late", "future", "alerts")
        },
        "timings": _json(run / "timings.json"),
        "sweep": _sweep(run),
        "loadtest": _loadtest(run),
        "bench": _bench(run / "bench.json"),
    }


def load_market(run: Path) -> dict[str, Any]:
    """A bidding-market run folder (``metrics.json`` with ``collusion``) as a report section."""
    metrics = read_metrics(run)
    check_run_files(run, metrics)
    return {
        **_identity(run, metrics),
        "collusion": metrics["collusion"],
        "engine": {k: metrics.get("engine_stats", {}).get(k) for k in ("events_in", "alerts")},
        "timings": _json(run / "timings.json"),
    }


def _shaped(run: Path, load: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``load()``, with a metrics.json missing a figure or holding one of another type named as such."""
    try:
        return load()
    except (KeyError, TypeError, AttributeError) as exc:
        logger.debug("reading %s", run, exc_info=True)
        raise RunFolderError(
            f"{run / 'metrics.json'}: not in the shape `supsim run` writes ({type(exc).__name__}: {exc}); "
            f"edited after the run? Run the scenario again (`supsim run SCENARIO --out {run}`)."
        ) from None


def build_report(
    runs: list[Path],
    *,
    bench: Path | None = None,
    source_dir: Path | None = None,
    scenarios: tuple[Path, ...] = (),
) -> dict[str, Any]:
    """The whole report: one section per run (plus sweep and load-test folders), bench, provenance."""
    if not runs:
        raise ValueError("a report needs at least one run folder")
    kinds = [(r, folder_kind(r)) for r in runs]
    run_dirs = [r for r, k in kinds if k == "run"]
    metrics = [(r.name, read_metrics(r)) for r in run_dirs]
    hall_dirs = [r for r, (_, m) in zip(run_dirs, metrics, strict=True) if "evaluation" in m]
    market_dirs = [r for r, (_, m) in zip(run_dirs, metrics, strict=True) if "collusion" in m]
    for r, (_, m) in zip(run_dirs, metrics, strict=True):
        if "network" in m:
            raise RunFolderError(
                f"{r}: a network run (metrics.json holds 'network'); its figures per level and city are in "
                f"{r / 'summary.md'} and metrics.json; `supsim report` renders hall and bidding-market runs"
            )
        if "evaluation" not in m and "collusion" not in m:
            raise RunFolderError(
                f"{r / 'metrics.json'}: neither 'evaluation' (a hall run) nor 'collusion' (a bidding-market "
                "run); was it written by `supsim run`?"
            )
    sections = [_shaped(r, functools.partial(load_run, r, scenarios=scenarios)) for r in hall_dirs]
    markets = [_shaped(r, functools.partial(load_market, r)) for r in market_dirs]
    prov = provenance(metrics, source_dir=source_dir)
    import msgspec

    names = [f"{s['scenario']} (seed {s['seed']})" for s in [*sections, *markets]]
    names += [f"{r.name} ({k})" for r, k in kinds if k != "run"]
    return {
        "title": "supsim report — " + ", ".join(names),
        "runs": sections,
        "markets": markets,
        "sweeps": [{"name": r.name, "sweep": _sweep(r)} for r, k in kinds if k == "sweep"],
        "loadtests": [{"name": r.name, "loadtest": _loadtest(r)} for r, k in kinds if k == "loadtest"],
        "bench": _bench(bench),
        "provenance": msgspec.to_builtins(prov),
    }
