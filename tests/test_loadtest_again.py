"""A second load test against the same deployment fails instead of passing on the first one's work."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import yaml

from supsim.cli.loadtest import _run_folder, register
from tests.service_process import serving

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # a service process and Locust, twice


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(["loadtest", *argv])


def test_default_folder_never_replaces_an_earlier_load_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = _args("scenarios/smoke.yaml", "--host", "http://127.0.0.1:1")
    assert _run_folder(args) == Path("runs/loadtest-smoke")
    (tmp_path / "runs" / "loadtest-smoke").mkdir(parents=True)
    (tmp_path / "runs" / "loadtest-smoke" / "loadtest.json").write_text("{}")
    assert _run_folder(args) == Path("runs/loadtest-smoke-2")


def test_second_run_against_the_same_deployment_fails_and_keeps_the_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Judged on what it is about (duplicates, the kept folder), not on the latency of a shared
    # machine: the latency SLO is relaxed, every other check stays.
    monkeypatch.setenv("SUPSIM_SLO", '{"p95_ms": 5000, "p99_ms": 10000}')
    specs = [{"token": "lt-admin-token-000000", "role": "admin"}]
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(yaml.safe_dump({"tokens": specs}))
    cfg = tmp_path / "service.yaml"
    cfg.write_text(yaml.safe_dump({"db": str(tmp_path / "log.db"), "tokens": specs}))
    smoke = str(ROOT / "scenarios" / "smoke.yaml")
    with serving(cfg) as url:
        common = ("--host", url, "--duration", "3", "--tokens", str(tokens), "--tick", "0.25")
        first = tmp_path / "first"
        args = _args(smoke, *common, "--out", str(first))
        assert args.func(args) == 0
        assert "load test PASSED" in capsys.readouterr().out
        kept = (first / "loadtest.json").read_bytes()
        assert json.loads(kept)["events_already_held"] == 0
        again = _args(smoke, *common, "--out", str(first))
        assert again.func(again) == 2  # the earlier run's folder is not replaced
        assert "holds an earlier load test" in capsys.readouterr().err
        assert (first / "loadtest.json").read_bytes() == kept
        second = tmp_path / "second"
        args = _args(smoke, *common, "--out", str(second))
        assert args.func(args) == 1
        report = json.loads((second / "loadtest.json").read_text())
    assert report["events_already_held"] == report["events_acknowledged"] > 0
    assert not report["passed"] and "events already held" in report["failures"][0]
    printed = capsys.readouterr().out
    assert "the deployment already held" in printed
    # The latency of duplicate handling is not reported as this run's SLO passing.
    slo = [line for line in printed.splitlines() if line.startswith("SLO")]
    assert len(slo) == 1 and slo[0].startswith("SLO not judged"), slo
    assert printed.rstrip().splitlines()[-1].startswith("load test FAILED: ")
