"""Bounded chaos on a local 3-server cluster: kill -9 a NATS server, an ingest process and a worker.

Four copies of the first 300 events of ``scenarios/smoke.yaml`` (four halls on three
partitions of both workers) are replayed over 12 s while the EVENTS stream's leader, an
ingest process and a worker are killed. Nothing acknowledged may be lost, no resend may be
stored twice, the alerts must equal the in-process engines' on the acknowledged events,
every killed process must be back and whole, and the killed worker must have resumed from
a snapshot (not from the first event). Loopback only; the whole test stays under a minute.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from engine.service.cluster.chaos import parse_chaos, run_chaos
from engine.service.cluster.layout import partition_of_key, partitions_of_worker
from loadtests.replay_plan import replicate, source_of
from sim.common.scenario import load_scenario
from sim.hall.world import simulate

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_kill_9_of_each_kind_of_process_loses_nothing_and_changes_no_alert(tmp_path: Path) -> None:
    from engine.service.auth import load_tokens
    from engine.service.cluster.supervisor import down, up

    t0 = time.monotonic()
    scenario = load_scenario(ROOT / "scenarios" / "smoke.yaml")
    events = list(simulate(scenario, seed=scenario.seed).events[:300])
    sources: dict[str, list] = {}
    for copy in range(4):
        for e in replicate(events, copy):
            sources.setdefault(source_of(e)[0], []).append(e)
    halls = {getattr(e, "hall_id", None) for v in sources.values() for e in v}
    # The killed worker must own halls, so that its restart has something to resume.
    assert {partition_of_key(h, 8) for h in halls} & set(partitions_of_worker(1, 2, 8))

    d = tmp_path / "cluster"
    try:
        up(d, nats=3, ingest=2, workers=2, snapshot_every_s=1.0, attached=True, timeout=60)
        kills = parse_chaos("nats@2,ingest:0@5,worker:1@8")
        report = asyncio.run(run_chaos(d, sources, kills, duration_s=12.0, batch=20, settle_timeout=30))
        token = next(s.token for s in load_tokens(d / "tokens.yaml") if s.role == "admin")
        from engine.service.cluster.layout import load_config

        stats = httpx.get(
            load_config(d).ingest_url + "/v1/stats", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).json()
    finally:
        if (d / "cluster.json").exists():
            down(d)

    from engine.service.cluster.layout import load_state
    from engine.service.cluster.supervisor import pid_alive

    state = load_state(d)  # `down` left nothing running: supervisor, servers, restarted processes
    assert not pid_alive(state.supervisor_pid) and not [p for p in state.processes if pid_alive(p.pid)]
    assert report.events_acknowledged == report.events_planned == 1200
    assert report.lost_events == 0, report.examples
    assert report.stored_duplicates == 0 and report.stream_messages == 1200
    assert report.alerts_reference > 20  # the comparison compares something
    assert (report.alerts_missing, report.alerts_extra, report.alerts_differing) == (0, 0, 0), report.examples
    assert [k.role for k in report.kills] == ["nats", "ingest", "worker"]
    for k in report.kills:
        assert k.restarted_s is not None and k.recovered_s is not None, k
        assert k.recovered_s < 30, k
    resumed = stats["workers"]["worker.1"]["partitions"]
    assert any(p["loaded_from"] == "snapshot" for p in resumed.values()), resumed
    assert report.ok
    assert time.monotonic() - t0 < 60
