"""Distributed ingest against the single-process service, same machine, same run, same bodies.

Both deployments get the same 296 bodies of 100 events (8 copies of ``smoke``, eight halls)
from 8 concurrent connections:

* ``supsim serve``: 202 after the SQLite group commit (one fsync) *and* the engine;
* the cluster (3 NATS servers, streams R3, 1 ingest process, 2 workers): 202 after every
  event of the batch is acknowledged by the replicated stream; the engines run behind.

Reported: events/s acknowledged by each and their ratio; the cluster's end-to-end rate
(until the workers have consumed everything and the alerts view has read every alert); and
the CPU seconds each kind of process used during the cluster's run, which says where the
time goes on this 2-core machine.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import httpx
import pytest
import yaml

from engine.contract import events as ev
from loadtests.replay_plan import replicate
from sim.common.scenario import load_scenario
from sim.hall.world import simulate
from tests.service_process import Server

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "bench-admin-token-000000"
_TICK = os.sysconf("SC_CLK_TCK")
# both deployments answer 415 to a batch that does not say it is JSON
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


async def _blast(url: str, bodies: list[bytes], concurrency: int) -> float:
    """POST every body (100 events each) over ``concurrency`` connections; returns events/s."""
    queue = list(reversed(bodies))

    async def worker(client: httpx.AsyncClient) -> None:
        while queue:
            body = queue.pop()
            while True:
                r = await client.post("/v1/events", content=body, headers=HEADERS)
                if r.status_code == 202:
                    break
                assert r.status_code in (429, 503), r.text
                await asyncio.sleep(0.05)

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return 100 * len(bodies) / (time.perf_counter() - t0)


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _drained(url: str, after: float, partitions: int, timeout: float = 120.0) -> float:
    """Seconds until every partition was idle after ``after`` and the view read every alert."""
    t0 = time.monotonic()
    idle = False
    headers = {"Authorization": f"Bearer {TOKEN}"}
    while time.monotonic() - t0 < timeout:
        s = httpx.get(url + "/v1/stats", headers=headers, timeout=10).json()
        if idle and s["alerts_seen_seq"] >= s["alerts_stream"]["last_seq"]:
            return time.monotonic() - t0
        done = {
            p for w in s["workers"].values() for p, st in w["partitions"].items() if st["idle_at"] > after
        }
        idle = len(done) == partitions
        time.sleep(0.05)
    raise TimeoutError(f"the cluster did not drain within {timeout:g} s")


def test_cluster_ingest_against_the_single_process_service(benchmark, tmp_path: Path) -> None:
    from engine.service.cluster.layout import load_config, load_state
    from engine.service.cluster.supervisor import down, up

    stream = simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events
    events = [e for copy in range(8) for e in replicate(stream, copy)]
    bodies = [
        b"[" + b",".join(ev.encode_event(e) for e in events[i : i + 100]) + b"]"
        for i in range(0, len(events), 100)
    ]
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(yaml.safe_dump({"tokens": [{"token": TOKEN, "role": "admin"}]}))
    cfg = tmp_path / "service.yaml"
    cfg.write_text(
        yaml.safe_dump({"db": str(tmp_path / "log.db"), "tokens": [{"token": TOKEN, "role": "admin"}]})
    )
    server = Server(cfg)
    try:
        server.start()
        single = asyncio.run(_blast(server.url, bodies, 8))
    finally:
        server.kill()

    d = tmp_path / "cluster"
    results: dict[str, float] = {}
    try:
        up(d, nats=3, ingest=1, workers=2, tokens=tokens, attached=True)
        state, config = load_state(d), load_config(d)
        before = {(p.role, p.index): _cpu_s(p.pid) for p in state.processes}
        client0 = sum(os.times()[:2])

        def run() -> None:
            results["ingest"] = asyncio.run(_blast(state.ingest_url, bodies, 8))

        benchmark.pedantic(run, rounds=1, iterations=1)
        acked_at = time.time()
        client = sum(os.times()[:2]) - client0
        drain = _drained(state.ingest_url, acked_at, config.partitions)
        cpu: dict[str, float] = {}
        for p in state.processes:
            cpu[p.role] = cpu.get(p.role, 0.0) + _cpu_s(p.pid) - before[(p.role, p.index)]
    finally:
        if (d / "cluster.json").exists():
            down(d)
    wall = len(events) / results["ingest"]
    info = {
        "single_process_events_per_s": round(single),
        "cluster_ingest_events_per_s": round(results["ingest"]),
        "cluster_to_single": round(results["ingest"] / single, 3),
        "cluster_end_to_end_events_per_s": round(len(events) / (wall + drain)),
        "cluster_drain_after_last_ack_s": round(drain, 2),
        "cluster_ingest_wall_s": round(wall, 2),
        "cpu_s_during_ingest_and_drain": {k: round(v, 2) for k, v in sorted(cpu.items())},
        "cpu_s_load_generator": round(client, 2),
        "events": len(events),
    }
    benchmark.extra_info.update(info)
    print(info)
    assert results["ingest"] > 0 and single > 0
