"""A node of 1 and 2 service processes: durable ingest events/s, and what the hand-off costs.

Three runs on fresh logs, the same batches (100 events of one hall each, 48 halls, the
smoke stream replicated; 8 connections in all from this process, shared over the URLs):

* one process (``supsim serve``);
* a node of two (``--processes 2``), each batch sent to its hall's owner (``GET /v1/partitions``);
* the same node, every batch sent to the public port: about half of them reach the
  process that does not own the hall and are handed over (one loopback request more).

Nothing is pinned: the client (httpx, this process) shares the 2 cores with the service;
its CPU seconds are reported beside the service's.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
from pathlib import Path

import httpx
import pytest
import yaml

from engine.contract import events as ev
from engine.service.halls import partition_of
from loadtests.replay_plan import replicate
from loadtests.routing import owner_url
from sim.common.scenario import load_scenario
from sim.hall.world import simulate
from tests.bench.test_bench_service import TOKEN, _blast, _cpu_s
from tests.service_process import Server, free_port

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]
HALLS = 48
CONNECTIONS = 8  # in all, shared over the URLs a run sends to


def _batches() -> list[tuple[str, bytes]]:
    stream = simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events
    out: list[tuple[str, bytes]] = []
    for copy in range(HALLS):
        by_part: dict[str, list[ev.Event]] = {}
        for e in replicate(stream, copy):
            by_part.setdefault(partition_of(e), []).append(e)
        for part, events in by_part.items():
            for i in range(0, len(events), 100):
                out.append((part, b"[" + b",".join(ev.encode_event(e) for e in events[i : i + 100]) + b"]"))
    return out


def _run(
    tmp: Path, name: str, processes: int, routed: bool, batches: list[tuple[str, bytes]]
) -> dict[str, float]:
    cfg = tmp / f"{name}.yaml"
    admin = [{"token": TOKEN, "role": "admin"}]
    cfg.write_text(
        yaml.safe_dump({"db": str(tmp / f"{name}.db"), "tokens": admin, "max_requests_per_token": 100_000})
    )
    args = ["--processes", str(processes), "--peer-port", str(free_port())] if processes > 1 else []
    server = Server(cfg, args=args)
    try:
        server.start(timeout=60)
        assert server.proc is not None
        parts = None
        if routed:
            parts = httpx.get(
                server.url + "/v1/partitions", headers={"Authorization": f"Bearer {TOKEN}"}
            ).json()
        by_url: dict[str, list[bytes]] = {}
        for part, body in batches:
            by_url.setdefault(owner_url(parts, part) or server.url, []).append(body)
        cpu0, me0, t0 = _cpu_s(server.proc.pid), _self_cpu_s(), time.perf_counter()

        async def all_urls() -> None:
            await asyncio.gather(
                *(
                    _blast(url, "/v1/events", bodies, CONNECTIONS // len(by_url))
                    for url, bodies in by_url.items()
                )
            )

        asyncio.run(all_urls())
        wall = time.perf_counter() - t0
        return {
            "service_cpu_s": round(_cpu_s(server.proc.pid) - cpu0, 2),
            "client_cpu_s": round(_self_cpu_s() - me0, 2),
            "wall_s": round(wall, 2),
            "loadavg_1m": round(os.getloadavg()[0], 2),
        }
    finally:
        server.kill()


def _self_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def test_node_ingest_one_and_two_processes(benchmark, tmp_path: Path) -> None:
    batches = _batches()
    events = sum(body.count(b'"event_id"') for _, body in batches)
    rows: dict[str, dict[str, float]] = {}

    def runs() -> None:
        rows["one_process"] = _run(tmp_path, "one", 1, False, batches)
        rows["two_processes_routed"] = _run(tmp_path, "two-routed", 2, True, batches)
        rows["two_processes_public_port"] = _run(tmp_path, "two-public", 2, False, batches)

    benchmark.pedantic(runs, rounds=1, iterations=1)
    for row in rows.values():
        row["events_per_s"] = round(events / row["wall_s"])
    one, two = rows["one_process"]["events_per_s"], rows["two_processes_routed"]["events_per_s"]
    benchmark.extra_info.update(
        {"events": events, "batches": len(batches), **rows, "two_processes_events_per_s": two,
         "one_process_events_per_s": one, "two_to_one": round(two / one, 3)}
    )  # fmt: skip
    print(benchmark.extra_info)
    assert all(r["events_per_s"] > 0 for r in rows.values())
