"""Decoding speed of the event contract, as a ratio to untyped JSON decoding of the same bytes.

The baseline is ``msgspec.json.decode`` into plain dicts and lists: parsing with no types,
no constraints and no checks, the least any consumer of the wire format pays. The contract's
one decoder also builds typed Structs, checks every constraint and then the instants'
plausible window and offsets, so the ratio says what the contract costs on top of parsing.
Two shapes: one JSON array (the service's batches) and one object per line (``detect``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import msgspec
import pytest

from engine.contract import events as ev
from tests.bench.test_bench_engine import T0, approval_stream

pytestmark = pytest.mark.bench


def _stream() -> list[ev.Event]:
    events = approval_stream(2000, seed=3)
    events += [
        ev.StaffRoster(
            event_id=f"roster-{i}", ts=T0, hall_id="H1", staff_id=f"S{i % 40}", window_id=f"W{i % 40}",
            department_id="D1", shift_start=T0 + timedelta(days=i // 40),
            shift_end=T0 + timedelta(days=i // 40, hours=8),
            breaks=(ev.TimeSpan(start=T0 + timedelta(hours=3), end=T0 + timedelta(hours=4)),),
        )
        for i in range(2000)
    ]  # fmt: skip
    return events


def _best(fn: Callable[[], object], rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


@pytest.mark.parametrize("shape", ["array", "lines"])
def test_bench_decode_vs_untyped(benchmark: pytest.FixtureRequest, shape: str) -> None:
    events = _stream()
    lines = [ev.encode_event(e) for e in events]
    array = b"[" + b",".join(lines) + b"]"
    if shape == "array":

        def typed() -> object:
            return ev.decode_events(array)

        def untyped() -> object:
            return msgspec.json.decode(array)
    else:

        def typed() -> object:
            return [ev.decode_event(line) for line in lines]

        def untyped() -> object:
            return [msgspec.json.decode(line) for line in lines]

    assert typed() == events if shape == "array" else len(typed()) == len(events)  # type: ignore[comparison-overlap]
    base = _best(untyped)
    benchmark.pedantic(typed, rounds=5, iterations=1)  # type: ignore[attr-defined]
    contract = benchmark.stats.stats.min  # type: ignore[attr-defined]
    benchmark.extra_info.update(  # type: ignore[attr-defined]
        {
            "shape": shape,
            "events": len(events),
            "contract_events_per_s": round(len(events) / contract),
            "untyped_events_per_s": round(len(events) / base),
            "ratio_contract_to_untyped": round(base / contract, 4),
        }
    )
