"""The live service: durable ingest rate against a parse-only baseline, and single-event latency.

One server process (uvicorn, uvloop, httptools), one run:

* ingest events/s with batches of 100, durable (group commit, ``synchronous=FULL``), rules on,
  against ``/v1/events/parse-only`` of the same process (auth, decode, scope check, no queue,
  no store, no engine) — target ≥ 20 % of the parse-only rate;
* single-event POST latency (p50/p99) sent open-model at the hall-scale peak of ``city_hall``
  (1.16 events/s, see ``docs/deployment.md``), raised to 20 events/s so that a p99 has enough
  samples — target p99 ≤ 50 ms.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import yaml

from engine import events as ev
from loadtests.plan import replicate
from sim.scenario import load_scenario
from sim.world import simulate

pytestmark = pytest.mark.bench
ROOT = Path(__file__).resolve().parents[2]
TOKEN = "bench-admin-token-000000"
HALL_PEAK = 1.155  # city_hall, events/s (docs/deployment.md)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _blast(url: str, path: str, bodies: list[bytes], concurrency: int) -> float:
    """POST every body with ``concurrency`` connections; returns events/s (100 events a body)."""
    queue = list(reversed(bodies))
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def worker(client: httpx.AsyncClient) -> None:
        while queue:
            r = await client.post(path, content=queue.pop(), headers=headers)
            assert r.status_code == 202, r.text

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return len(bodies) * 100 / (time.perf_counter() - t0)


def _paced(url: str, events: list[ev.Event], rate: float) -> list[float]:
    """Open model: event i is due at i/rate and latency counts from that instant.

    One connection, sent in order (a terminal's forwarder); a slow answer delays the next
    request, and that delay is counted in the next latency rather than hidden.
    """
    headers = {"Authorization": f"Bearer {TOKEN}"}
    lat: list[float] = []
    with httpx.Client(base_url=url, timeout=30, headers=headers) as client:
        t0 = time.perf_counter()
        for i, e in enumerate(events):
            due = t0 + i / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            r = client.post("/v1/events", content=b"[" + ev.encode_event(e) + b"]")
            assert r.status_code == 202
            lat.append(time.perf_counter() - due)
    return lat


def test_service_ingest_and_latency(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    stream = simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events
    events = [e for copy in range(8) for e in replicate(stream, copy)]
    bodies = [
        b"[" + b",".join(ev.encode_event(e) for e in events[i : i + 100]) + b"]"
        for i in range(0, len(events), 100)
    ]
    cfg = tmp_path / "service.yaml"
    data = {
        "db": str(tmp_path / "log.db"),
        "parse_only_route": True,
        "tokens": [{"token": TOKEN, "role": "admin"}],
    }
    cfg.write_text(yaml.safe_dump(data))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "supsim.cmd_serve", "--config", str(cfg), "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        parse_rate = asyncio.run(_blast(url, "/v1/events/parse-only", bodies, 8))
        results: dict[str, float] = {}

        def ingest() -> None:
            results["ingest"] = asyncio.run(_blast(url, "/v1/events", bodies, 8))

        benchmark.pedantic(ingest, rounds=1, iterations=1)
        singles = replicate(stream, 99)[:600]
        lat = np.array(_paced(url, singles, 20.0)) * 1000
    finally:
        proc.kill()
        proc.wait(10)
    ratio = results["ingest"] / parse_rate
    benchmark.extra_info.update(
        {
            "ingest_events_per_s": round(results["ingest"]),
            "parse_only_events_per_s": round(parse_rate),
            "ingest_to_parse_only": round(ratio, 3),
            "single_post_p50_ms": round(float(np.percentile(lat, 50)), 2),
            "single_post_p99_ms": round(float(np.percentile(lat, 99)), 2),
            "single_post_rate_per_s": 20.0,
            "hall_scale_peak_events_per_s": HALL_PEAK,
        }
    )
    benchmark.extra_info["single_post_slowest_ms"] = sorted(lat.round(1).tolist())[-8:]
    print(benchmark.extra_info)
    assert ratio > 0 and len(lat) == len(singles)
