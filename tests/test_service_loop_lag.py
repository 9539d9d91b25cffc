"""The event loop's lateness: the wait before a handler starts, which the request histogram misses."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from engine.service.app import create_app
from engine.service.auth import TokenSpec
from engine.service.config import ServiceConfig
from engine.service.node.merge import merge_metrics
from engine.service.upkeep.loop_lag import LoopLag
from tests.waiting import wait_ready

ADMIN = {"Authorization": "Bearer lag-admin-token-0000"}


def _count(text: str, name: str) -> int:
    line = next(line for line in text.splitlines() if line.startswith(name + " "))
    return int(float(line.rsplit(" ", 1)[1]))


def test_a_blocked_loop_shows_as_lag() -> None:
    async def main() -> LoopLag:
        probe = LoopLag(every_s=0.01)
        probe.start()
        await asyncio.sleep(0.05)
        time.sleep(0.2)  # a handler holding the loop, as an overloaded core does
        await asyncio.sleep(0.05)
        await probe.stop()
        return probe

    probe = asyncio.run(main())
    assert probe.longest >= 0.15
    assert probe.lag.n >= 3
    bounds = (*probe.lag.bounds, float("inf"))
    assert sum(n for bound, n in zip(bounds, probe.lag.counts, strict=True) if bound > 0.1) >= 1
    text = probe.render()
    assert "# TYPE supsim_event_loop_lag_seconds histogram" in text
    assert f"supsim_event_loop_lag_seconds_count {probe.lag.n}" in text


def test_the_period_must_be_positive() -> None:
    with pytest.raises(ValueError, match="every_s"):
        LoopLag(every_s=0)


def test_metrics_show_the_lag_while_the_service_runs(tmp_path: Path) -> None:
    config = ServiceConfig(
        db=str(tmp_path / "log.db"), tokens=[TokenSpec(token=ADMIN["Authorization"][7:], role="admin")]
    )
    with TestClient(create_app(config)) as client:
        wait_ready(client)
        first = _count(client.get("/metrics", headers=ADMIN).text, "supsim_event_loop_lag_seconds_count")
        time.sleep(0.3)
        text = client.get("/metrics", headers=ADMIN).text
        assert _count(text, "supsim_event_loop_lag_seconds_count") > first
        assert "supsim_event_loop_lag_longest_seconds" in text


def test_a_node_reports_the_longest_lag_of_its_processes() -> None:
    one, two = LoopLag(), LoopLag()
    one.observe(0.02)
    two.observe(0.3)
    merged = merge_metrics([one.render(), two.render()])
    assert "supsim_event_loop_lag_longest_seconds 0.3\n" in merged
    assert "supsim_event_loop_lag_seconds_count 2\n" in merged
