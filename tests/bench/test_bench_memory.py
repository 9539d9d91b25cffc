"""Memory per hall of the live service: RSS growth per hall after a day of its events.

The service's own ingest path in process (the app's writer, engines and log, no HTTP): K copies
of one working day of ``city_hall`` (approval events only) or ``city_hall_cameras`` (with the
camera layer), each copy a hall of its own with the case and event ids it would have (they
collide across halls), fed hall after hall in batches of 100. After each hall the process's
RSS is read (after a garbage collection); the figure is the slope of RSS over the halls after
the first two (which also warm the allocator and SQLite's page cache, a fixed cost). The halls
are fed in a fresh process that holds nothing but the day's events, so memory freed by the
simulation cannot hide growth.

The same-run baseline is the size of the day's events themselves, as the contract encodes
them: what a hall's day weighs on the wire. Their ratio says how much of a day the service
keeps in memory per hall (open cases, timers, dedup ids and board counts, not the events).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from engine.contract import events as ev
from engine.service.app import _Service
from engine.service.auth import TokenSpec
from engine.service.config import ServiceConfig
from loadtests.replay_plan import replicate
from sim.common.scenario import load_scenario
from sim.hall.world import simulate

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]
BATCH = 100
WINDOW = 40  # batches in flight at once (4,000 events, under the queue bound)


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("/proc/self/status has no VmRSS line")


def _first_day(scenario: str) -> list[ev.Event]:
    events = simulate(load_scenario(ROOT / "scenarios" / f"{scenario}.yaml")).events
    start = events[0].ts
    midnight = datetime.combine(start.date(), datetime.min.time(), tzinfo=start.tzinfo)
    return [e for e in events if e.ts < midnight + timedelta(days=1)]


async def _feed(svc: _Service, halls: int, day: list[ev.Event]) -> list[int]:
    """RSS (KiB) before the first hall and after each one."""
    writer = svc.writer
    await writer.start()
    while not writer.ready:
        await asyncio.sleep(0.05)
    gc.collect()
    rss = [_rss_kib()]
    for k in range(halls):
        events = replicate(day, k, same_ids=True)
        batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
        for w in range(0, len(batches), WINDOW):
            chunk = batches[w : w + WINDOW]
            await asyncio.gather(*(writer.submit(b, [ev.encode_event(e) for e in b]) for b in chunk))
        del events, batches
        gc.collect()
        rss.append(_rss_kib())
    await writer.stop()
    svc.reader.close()
    return rss


def _child(day_path: str, halls: int, db: str) -> None:
    """The measuring process: prints the RSS list as JSON."""
    day = list(ev.read_jsonl(day_path))
    config = ServiceConfig(db=db, tokens=[TokenSpec(token="memory-admin-token-0", role="admin")])
    print(json.dumps(asyncio.run(_feed(_Service(config), halls, day))))


@pytest.mark.parametrize(
    ("scenario", "halls"),
    [("city_hall", int(os.environ.get("SUPSIM_MEMORY_HALLS", "40"))), ("city_hall_cameras", 6)],
)
def test_memory_per_hall(benchmark, tmp_path: Path, scenario: str, halls: int) -> None:
    day = _first_day(scenario)
    day_kib = sum(len(ev.encode_event(e)) for e in day) / 1024
    day_path = tmp_path / "day.jsonl"
    ev.write_jsonl(day, day_path)
    rss: list[int] = []

    def run() -> None:
        args = [
            sys.executable,
            "-m",
            "tests.bench.test_bench_memory",
            str(day_path),
            str(halls),
            str(tmp_path / "log.db"),
        ]
        out = subprocess.run(
            args, check=True, capture_output=True, env=dict(os.environ, PYTHONPATH=str(ROOT))
        )
        rss.extend(json.loads(out.stdout.decode().strip().splitlines()[-1]))

    benchmark.pedantic(run, rounds=1, iterations=1)
    x = np.arange(2, halls + 1)
    slope = float(np.polyfit(x, np.array(rss[2:], dtype=float), 1)[0])
    db_bytes = sum(p.stat().st_size for p in tmp_path.glob("log.db*"))
    benchmark.extra_info.update(
        {
            "scenario": scenario,
            "halls": halls,
            "events_per_hall_day": len(day),
            "rss_kib_per_hall": round(slope),
            "day_json_kib_per_hall": round(day_kib),
            "rss_to_day_json": round(slope / day_kib, 3),
            "rss_mib_start": round(rss[0] / 1024, 1),
            "rss_mib_end": round(rss[-1] / 1024, 1),
            "rss_mib_after_each_hall": [round(r / 1024, 1) for r in rss],
            "log_bytes_per_hall": round(db_bytes / halls),
        }
    )
    print(benchmark.extra_info)
    assert slope > 0


if __name__ == "__main__":
    _child(sys.argv[1], int(sys.argv[2]), sys.argv[3])
