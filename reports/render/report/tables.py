"""The tables of a report as rows of strings, shared by the HTML and Markdown renderers.

Keeping the numbers' formatting in one place means ``report.html`` and ``report.md`` never
disagree. Undefined ratios print as ``n/a`` (see ``reports.evaluation.accuracy``), never as 0 or 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "Table",
    "bench_table",
    "confusion_table",
    "facts_table",
    "kpi_table",
    "number",
    "provenance_table",
    "scores_table",
    "sweep_table",
]

#: ``(headers, rows)``; every cell already formatted.
Table = tuple[Sequence[str], Sequence[Sequence[str]]]
NA = "n/a"


def number(x: Any, digits: int = 3) -> str:
    """``x`` with ``digits`` decimals, ``n/a`` for an undefined figure."""
    return NA if x is None else f"{float(x):.{digits}f}"


def _pct(x: Any) -> str:
    return NA if x is None else f"{100 * float(x):.2f} %"


def _ci(x: Any, ci: Any) -> str:
    return number(x) if ci is None else f"{number(x)} [{ci[0]:.3f}, {ci[1]:.3f}]"


def facts_table(run: Mapping[str, Any]) -> Table:
    f = run["facts"]
    rows = [
        ("scenario", f"{run['scenario']} ({run['scenario_file']})"),
        ("seed", str(run["seed"])),
        ("period", f"{run['start']} to {run['end']}"),
        ("cases", f"{f['cases']:,}"),
        ("events", f"{f['events']:,}"),
        ("alerts", f"{f['alerts']:,}"),
        ("truth episodes", f"{f['truth_episodes']:,} ({f['violations']:,} violations, "
         f"{f['lookalikes']:,} look-alikes)"),
        ("matching", f"tolerance {run['tolerance_s']:g} s; {run['bootstrap']} bootstrap resamples of cases"),
    ]  # fmt: skip
    return ("fact", "value"), rows


def _days(mean: float | None) -> str:
    return NA if mean is None else f"{mean:.2f} working days"


def _speed(speedup: float | None) -> str:
    """A run folder written before the figure existed has none: n/a, not an error."""
    return "" if speedup is None else f"promised cases closed, {_pct(1 - speedup)} of their promised limit"


def kpi_table(run: Mapping[str, Any]) -> Table:
    k = run["kpis"]
    a, per = k["alerts"], k.get("per_10k_cases") or {}
    rows = [
        ("cases watched", f"{k['cases_seen']:,}", ""),
        ("cases closed", f"{k['cases_closed']:,}", ""),
        ("completion rate (办结率)", _pct(k["completion_rate"]), "closed / accepted"),
        ("early-completion rate (提前办结率)", _pct(k["early_completion_rate"]),
         f"{k['early_completed']:,} of {k['promised_closed']:,} promised cases closed"),
        ("on-time rate", _pct(k["on_time_rate"]), ""),
        ("mean processing time (平均办理时间)", _days(k.get("mean_processing_days")),
         _speed(k.get("processing_speedup"))),
        ("instant-case share (即办件)", _pct(k["instant_share"]), ""),
        ("online share", _pct(k["online_share"]), ""),
    ]  # fmt: skip
    for key, label in (
        ("deadline_warnings", "deadline warnings (时限预警)"),
        ("step_warnings", "step warnings"),
        ("logic_warnings", "logic warnings (逻辑预警)"),
        ("yellow_cards", "yellow cards (黄牌)"),
        ("red_cards", "red cards (红牌)"),
    ):
        rate = per.get(key)
        rows.append((label, f"{a[key]:,}", NA if rate is None else f"{rate:.1f} per 10,000 cases"))
    return ("figure", "value", "note"), rows


def scores_table(rows: Sequence[Mapping[str, Any]]) -> Table:
    out = []
    for r in rows:
        lat = r.get("latency")
        out.append(
            (
                str(r["name"]),
                str(r["episodes"]),
                str(r["alerts"]),
                _ci(r["precision"], r.get("precision_ci")),
                _ci(r["recall"], r.get("recall_ci")),
                _ci(r["f1"], r.get("f1_ci")),
                "-" if lat is None else f"{lat['p50_h']:.2f} / {lat['p95_h']:.2f}",
            )
        )
    heads = ("rule family", "episodes", "alerts", "precision [95 % CI]", "recall [95 % CI]", "F1 [95 % CI]",
             "latency p50 / p95 (working h)")  # fmt: skip
    return heads, out


def confusion_table(rows: Sequence[Mapping[str, Any]]) -> Table:
    out = [
        (str(r["name"]), str(r.get("truth_kind") or "-"), str(r["tp"]), str(r["fp"]), str(r["fn"]))
        for r in rows
    ]
    return ("rule", "truth kind", "TP", "FP", "FN"), out


def sweep_table(sweep: Mapping[str, Any]) -> Table:
    """One row per swept value: the scores with their intervals, and alerts and latency if known."""
    rows = sweep["rows"]
    extra = [m for m in ("latency_p50_h", "alerts_per_day") if any(m in r for r in rows)]
    labelled = any(r.get("label") for r in rows)
    out = []
    for r in rows:
        cells = [f"{r['value']:g}"] + ([str(r.get("label", ""))] if labelled else [])
        cells += [_ci(r.get(m), r.get(f"{m}_ci")) for m in ("precision", "recall", "f1")]
        cells += [number(r.get(m), 2) for m in extra]
        out.append(tuple(cells))
    heads = [str(sweep["param"])] + (["parameters"] if labelled else [])
    heads += ["precision [95 % CI]", "recall [95 % CI]", "F1 [95 % CI]"]
    heads += [{"latency_p50_h": "latency p50 (working h)", "alerts_per_day": "alerts per working day"}[m]
              for m in extra]  # fmt: skip
    return tuple(heads), out


def bench_table(bench: Sequence[Mapping[str, Any]]) -> Table:
    out = []
    for b in bench:
        extra = ", ".join(f"{k}={v}" for k, v in sorted(b.get("extra_info", {}).items()))
        mean = b.get("mean_s")
        out.append(
            (str(b["name"]), NA if mean is None else f"{1000 * mean:.2f}", str(b.get("rounds")), extra)
        )
    return ("benchmark", "mean (ms)", "rounds", "extra info (ratios to baselines)"), out


def provenance_table(prov: Mapping[str, Any]) -> Table:
    rows: list[tuple[str, ...]] = [
        ("git commit", f"{prov['git_commit'] or 'not a git checkout'}"
         + (" (with uncommitted changes)" if prov.get("git_dirty") else "")),
        ("Python", prov["python"]),
        ("packages", ", ".join(f"{k} {v}" for k, v in prov["packages"].items())),
    ]  # fmt: skip
    for r in prov["runs"]:
        rows += [
            (f"{r['run']}: supsim", str(r["supsim_version"])),
            (
                f"{r['run']}: scenario",
                f"{r['scenario']} ({r['scenario_file']}) sha256 {r['scenario_sha256']}",
            ),
            (f"{r['run']}: rulebook", f"sha256 {r['rulebook_sha256']}"),
            (f"{r['run']}: seed", str(r["seed"])),
            (f"{r['run']}: stream", f"events.jsonl sha256 {r['events_sha256']}"),
            (f"{r['run']}: truth / alerts", f"{r['truth_sha256']} / {r['alerts_sha256']}"),
        ]
    return ("item", "value"), rows
