"""A short Locust run of the smoke scenario against a local deployment: nothing lost, same alerts."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import httpx
import pytest
import yaml

from supsim.cli.loadtest import register
from tests.service_process import serving

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # a service process and two Locust processes


def test_distributed_smoke_loadtest_sends_every_source_once_loses_nothing_and_matches(tmp_path: Path) -> None:
    """Two Locust processes replay three copies of the smoke stream against a local deployment.

    The copies keep the original's case and event ids (``--same-ids``), as real halls do: the
    deployment must keep them apart by hall (no duplicates, every hall's alerts).

    Locust deals 4 users (3 sources + console) over the 2 workers as it likes; every source
    must still be replayed, by one process only; nothing is lost or duplicated, and the
    deployment's alerts equal the in-process engine's. One run checks all of it because what
    costs time is Locust itself (start, forked workers, spawn, shutdown: about 5 s on an idle
    host); five seconds of load send the whole stream (two were enough on an idle host, not on
    a loaded one, where the replay fell behind its pace and stopped short of the plan).
    """
    tokens = tmp_path / "tokens.yaml"
    specs = [
        {"token": "lt-admin-token-000000", "role": "admin"},
        {"token": "lt-super-token-000000", "role": "supervisor"},
        {"token": "lt-window-H1-token-00", "role": "window", "hall": "H1"},
    ]
    tokens.write_text(yaml.safe_dump({"tokens": specs}))
    cfg = tmp_path / "service.yaml"
    cfg.write_text(yaml.safe_dump({"db": str(tmp_path / "log.db"), "tokens": specs}))
    with serving(cfg) as url:
        parser = argparse.ArgumentParser()
        register(parser.add_subparsers())
        out = tmp_path / "run"
        args = parser.parse_args(
            ["loadtest", str(ROOT / "scenarios" / "smoke.yaml"), "--host", url, "--duration", "5",
             "--tokens", str(tokens), "--out", str(out), "--tick", "0.25", "--halls", "3",
             "--processes", "2", "--same-ids"]
        )  # fmt: skip
        code = args.func(args)
        stats = httpx.get(url + "/v1/stats", headers={"Authorization": "Bearer lt-admin-token-000000"}).json()
    report = json.loads((out / "loadtest.json").read_text())
    assert report["sources"] == 3 and report["locust_processes"] == 2 and report["same_ids"]
    assert report["sources_unsent"] == [] and report["sources_sent_by_two_processes"] == []
    assert len(list(out.glob("acked-*.json"))) == 2  # both workers replayed a share
    assert report["events_acknowledged"] == report["events_planned"] == stats["events_accepted"] > 9000
    assert stats["events_duplicate"] == 0 and report["lost_events"] == 0
    assert report["alerts_missing"] == report["alerts_extra"] == report["alerts_differing"] == 0
    assert report["alerts_live"] > 100 and report["accuracy_equal"]
    assert (out / "locust_stats.csv").exists() and (out / "locust.html").exists()
    assert code == (0 if report["slo"]["passed"] else 1)
