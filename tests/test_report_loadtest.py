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
