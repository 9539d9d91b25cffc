"""The duplicate-key check of the ingest path, as a ratio to the contract decode it guards.

Real batches: a simulated ``city_hall`` month (and a ``city_hall_cameras`` week) cut into the
service's batches of 100, each a JSON array as a hall's source sends it. Timings of the same
bodies, in one run: the contract decode (the baseline); the exact scan the service ran on
every accepted body before (the standard library's parser with a hook on every object); the
check it runs now (a quote count of the body against the events' encodings, which the
request path makes anyway for the log); and the request path's decoding as a whole, before
(decode, exact scan, encode for the log) and now (``decode_batch``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.contract import events as ev
from engine.service.edge.duplicate_keys import cannot_repeat_a_key, first_duplicate_key
from engine.service.ingest import decode_batch
from sim.common.scenario import load_scenario
from sim.hall.world import simulate

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]
BATCH = 100
MAX_EVENTS = 200_000
ROUNDS = 11


def _interleaved_best(fns: dict[str, Callable[[], object]], rounds: int = ROUNDS) -> dict[str, float]:
    """The best time of each function over ``rounds``, the functions taking turns in every round.

    Why taking turns: on a shared machine the load drifts within a run; a round that gives each
    function a go moments apart exposes all of them to the same drift.
    """
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t)
    return best


@pytest.mark.parametrize("scenario", ["city_hall", "city_hall_cameras"])
def test_bench_duplicate_key_check_vs_decode(benchmark, scenario: str) -> None:
    events = simulate(load_scenario(ROOT / "scenarios" / f"{scenario}.yaml")).events[:MAX_EVENTS]
    bodies = [
        b"[" + b",".join(ev.encode_event(e) for e in events[i : i + BATCH]) + b"]"
        for i in range(0, len(events), BATCH)
    ]
    decoded = [ev.decode_events(b) for b in bodies]
    encoded = [[ev.encode_event(e) for e in d] for d in decoded]
    triples = list(zip(bodies, decoded, encoded, strict=True))
    cleared = sum(cannot_repeat_a_key(*t) for t in triples)

    def decode() -> object:
        return [ev.decode_events(b) for b in bodies]

    def exact() -> object:  # what every accepted body cost before
        return [first_duplicate_key(b) for b in bodies]

    def check() -> object:  # what it costs now: the encodings are the log's, made anyway
        return [cannot_repeat_a_key(*t) for t in triples]

    def path_before() -> object:
        out = []
        for b in bodies:
            events = ev.decode_events(b)
            first_duplicate_key(b)
            out.append([ev.encode_event(e) for e in events])
        return out

    def path_now() -> object:
        return [decode_batch(b, ndjson=False, max_events=BATCH) for b in bodies]

    fns = {"decode": decode, "exact": exact, "check": check, "before": path_before, "now": path_now}
    best = _interleaved_best(fns)
    benchmark.pedantic(check, rounds=3, iterations=1)
    base, before, after = best["decode"], best["exact"], best["check"]
    whole_before, whole_now = best["before"], best["now"]
    n = len(events)
    us = 1e6 / n
    benchmark.extra_info.update(
        {
            "scenario": scenario,
            "events": n,
            "bytes_per_event": round(sum(map(len, bodies)) / n, 1),
            "batches_cleared_by_count": f"{cleared} of {len(bodies)}",
            "decode_us_per_event": round(base * us, 3),
            "exact_scan_us_per_event": round(before * us, 3),
            "check_us_per_event": round(after * us, 3),
            "path_before_us_per_event": round(whole_before * us, 3),
            "path_now_us_per_event": round(whole_now * us, 3),
            "check_events_per_s": round(n / after),
            "decode_events_per_s": round(n / base),
            "exact_scan_to_decode": round(before / base, 3),
            "check_to_decode": round(after / base, 3),
            "path_now_to_before": round(whole_now / whole_before, 3),
        }
    )
    print(benchmark.extra_info)
    assert cleared == len(bodies)  # simulated sources write no escapes and no explicit defaults
