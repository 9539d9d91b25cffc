"""A load-test folder in a report: Locust's figures and the SLO verdict formatted, not raw."""

from __future__ import annotations

import json
from pathlib import Path

from supsim.cli.main import main

HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,95%,99%,Requests/s\n"
)


def test_load_test_tables_are_formatted(tmp_path: Path) -> None:
    run = tmp_path / "load"
    run.mkdir()
    (run / "locust_stats.csv").write_text(
        HEADER + "POST,/v1/events,12345,0,12.3456,14.2,45.678,120.4,41.23456\n"
        ",Aggregated,12400,2,12.5,14.3,46.0,121.0,41.4\n",
        encoding="utf-8",
    )
    slo = {"passed": True, "valid": True, "reasons": [], "requests": 12400, "failures": 2,
           "fail_ratio": 0.000161, "p95_ms": 46.0, "p99_ms": 121.0, "events_delivered": 98765,
           "events_planned": 100000, "rate_ratio": 0.98765, "cpu_warning": False}  # fmt: skip
    (run / "slo.json").write_text(json.dumps(slo), encoding="utf-8")
    (run / "loadtest.json").write_text(json.dumps({"events_planned": 100000, "accuracy_equal": True}))
    assert main(["report", str(run), "--out", str(tmp_path / "r.html")]) == 0
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    heads = "| request | endpoint | requests | failures | median (ms) | p95 (ms) | p99 (ms) | requests/s |"
    assert heads in md
    assert "| POST | /v1/events | 12,345 | 0 | 12.3 | 45.7 | 120 | 41.2 |" in md
    assert "| SLOs met | yes |" in md and "| misses | none |" in md
    assert "| delivered / planned | 98.77 % |" in md
    assert "| events planned | 100,000 |" in md and "| live accuracy equals in-process | yes |" in md
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert '"passed"' not in html and "12.3456" not in html  # no raw JSON, no raw floats


def _section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def test_load_test_summary_nested_values_are_readable(tmp_path: Path) -> None:
    """``loadtest.json`` as ``supsim loadtest`` writes it, without ``slo.json``: nothing raw."""
    run = tmp_path / "load"
    run.mkdir()
    acc = {
        "alerts": 12345,
        "tp": 12000,
        "fp": 345,
        "fn": 12,
        "precision": 0.97205,
        "recall": 0.9990,
        "f1": 0.98534,
    }
    slo = dict(
        passed=False, valid=True, reasons=["p99 312 ms > 200 ms"], requests=124690, failures=3,
        fail_ratio=2.4e-05, p95_ms=28.0, p99_ms=312.456, events_delivered=1234567,
        events_planned=1250000, rate_ratio=0.98765, cpu_warning=False,
    )  # fmt: skip
    summary = dict(
        slo=slo, events_planned=1250000, events_acknowledged=1234567, lost_events=1, sources_unsent=[],
        accuracy_live=acc, accuracy_in_process=acc, accuracy_equal=True, warmup_wall_s=12.3456789,
        warmup_timed_out=False, planned_peak_events_per_s=14814.81481,
        examples={"lost": [["H1", "e-1"]], "missing": [], "extra": []},
    )  # fmt: skip
    (run / "loadtest.json").write_text(json.dumps(summary), encoding="utf-8")
    assert main(["report", str(run), "--out", str(tmp_path / "r.html")]) == 0
    md = _section((tmp_path / "report.md").read_text(encoding="utf-8"), "### load", "## Provenance")
    nested = "alerts: 12,345; TP: 12,000; FP: 345; FN: 12; precision: 0.972; recall: 0.999; F1: 0.985"
    assert f"| accuracy live | {nested} |" in md and f"| accuracy in process | {nested} |" in md
    assert "| sources that sent nothing | none |" in md and "| warm-up timed out | no |" in md
    assert "| warm-up (wall-clock s) | 12.35 |" in md and "| planned peak (events/s) | 14,814.8 |" in md
    assert "| examples (first five) | lost: (H1, e-1); missing: none; extra: none |" in md
    # the verdict comes from loadtest.json when slo.json is missing
    assert "| SLOs met | no |" in md and "| failure ratio | < 0.01 % |" in md  # 3 failures are not 0.00 %
    assert "| load generator's CPU warning fired | no |" in md
    html = _section(
        (tmp_path / "r.html").read_text(encoding="utf-8"), "load (load-test folder)", "Provenance"
    )
    assert f"<td>accuracy live</td><td>{nested}</td>" in html
    for raw in ("{", "False", "True", "cpu_warning", "12.3456789", "0.97205"):
        assert raw not in md and raw not in html
