"""Engine throughput on an approval stream, as a ratio to a plain dict loop on the same events.

The baseline is the least any Python consumer of the stream must do: iterate the events and
apply one counter rule (events per case, keyed in a dict). The engine does much more per
event (dedup, watermark buffer in event time, calendar clocks, timers, every enabled rule),
so the ratio says what that machinery costs; ``extra_info`` records both rates and the ratio.
Two arrival orders: event-time order (the buffer's in-order fast path, no heap) and a
shuffle within the allowed lateness (about half the arrivals take the heap).
Run with ``make bench`` (``pytest --bench``).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest

from engine.contract import events as ev
from engine.core import Engine
from engine.rules.rulebook import Rulebook

TZ = timezone(timedelta(hours=8))
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)


def approval_stream(n_cases: int, *, seed: int) -> list[ev.Event]:
    """A hall's approval traffic: reference data, then ``n_cases`` cases of the fixed flow.

    One case is accepted every minute; steps take hours; about 2 % of cases carry a
    violation and 1 % are never closed, so timers and alerts are exercised too.
    """
    rng = np.random.default_rng(seed)
    steps = (ev.StepSpec("review", "review", 2.0), ev.StepSpec("check", "check", 1.0))
    out: list[ev.Event] = [
        ev.ItemPublished(
            event_id=f"item-{d}", ts=T0, hall_id="H1", item_id=f"I{d}", department_id=f"D{d}", name="licence",
            promised_days=5, fee_standard=50.0, steps=steps,
        )
        for d in range(10)
    ]  # fmt: skip
    out += [
        ev.StaffAuthorised(
            event_id=f"staff-{s}", ts=T0, hall_id="H1", staff_id=f"S{s}", department_id=f"D{s % 10}",
            posts=("window", "review", "check", "approve"), may_decide=tuple(f"I{d}" for d in range(10)),
        )
        for s in range(40)
    ]  # fmt: skip
    gaps = rng.uniform(0.1, 8.0, size=(n_cases, 8)) * 3600.0
    odd = rng.random(n_cases)
    for i in range(n_cases):
        d = i % 10
        base: dict[str, Any] = {"hall_id": "H1", "case_id": f"C{i}", "department_id": f"D{d}"}
        t = T0 + timedelta(seconds=60.0 * i)
        at = [t + timedelta(seconds=float(s)) for s in np.cumsum(gaps[i])]
        staff = f"S{i % 40}"
        fee = 80.0 if odd[i] < 0.02 else 50.0
        approver = staff if 0.02 <= odd[i] < 0.03 else f"S{(i + 1) % 40}"
        case_events: list[ev.Event] = [
            ev.CaseSubmitted(
                event_id=f"e{i}-0", ts=t, item_id=f"I{d}", channel="window", case_type="promised", **base
            ),
            ev.CaseAccepted(
                event_id=f"e{i}-1", ts=t, item_id=f"I{d}", staff_id=staff, case_type="promised", **base
            ),
            ev.FeeCharged(event_id=f"e{i}-2", ts=at[0], amount=fee, staff_id=staff, **base),
            ev.StepStarted(
                event_id=f"e{i}-3", ts=at[1], step="review", post="review", staff_id=staff, **base
            ),
            ev.StepCompleted(
                event_id=f"e{i}-4", ts=at[2], step="review", post="review", staff_id=staff, **base
            ),
            ev.StepStarted(event_id=f"e{i}-5", ts=at[3], step="check", post="check", staff_id=staff, **base),
            ev.StepCompleted(
                event_id=f"e{i}-6", ts=at[4], step="check", post="check", staff_id=staff, **base
            ),
            ev.CaseDecided(event_id=f"e{i}-7", ts=at[5], approver_id=approver, decision="approve", **base),
            ev.CertificateIssued(
                event_id=f"e{i}-8", ts=at[6], certificate_no=f"Z{i}", staff_id=approver, **base
            ),
        ]
        if odd[i] < 0.97:
            case_events.append(
                ev.CaseClosed(event_id=f"e{i}-9", ts=at[7], staff_id=approver, outcome="approved", **base)
            )
        out += case_events
    out.sort(key=lambda e: (e.ts, e.event_id))
    return out


def baseline_counter(events: list[ev.Event]) -> dict[str, int]:
    """The plain-Python baseline: one counter rule (events per case) in a dict loop."""
    counts: dict[str, int] = {}
    for e in events:
        key = getattr(e, "case_id", None)
        if key is not None:
            counts[key] = counts.get(key, 0) + 1
    return counts


def _best_rate(fn: object, events: list[ev.Event], rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        fn(events)  # type: ignore[operator]
        best = min(best, time.perf_counter() - t)
    return len(events) / best


def _run_engine(events: list[ev.Event]) -> int:
    eng = Engine()
    n = len(eng.process_many(events))
    return n + len(eng.finish())


def shuffled_within_lateness(events: list[ev.Event], *, seed: int) -> list[ev.Event]:
    """Arrival order = event time plus a uniform delay shorter than the allowed lateness."""
    rng = np.random.default_rng(seed)
    lateness = Rulebook.default().allowed_lateness
    arrives = np.array([e.ts.timestamp() for e in events]) + rng.uniform(0, 0.99 * lateness, len(events))
    return [events[int(i)] for i in np.argsort(arrives, kind="stable")]


@pytest.mark.bench
@pytest.mark.parametrize("arrival", ["in_order", "shuffled_within_lateness"])
def test_bench_engine_vs_dict_loop(benchmark: pytest.FixtureRequest, arrival: str) -> None:
    events = approval_stream(20_000, seed=1)
    assert len(events) > 190_000
    if arrival != "in_order":
        events = shuffled_within_lateness(events, seed=2)
    baseline = _best_rate(baseline_counter, events)
    n_alerts = benchmark.pedantic(_run_engine, args=(events,), rounds=3, iterations=1)  # type: ignore[attr-defined]
    assert n_alerts > 0
    engine_rate = len(events) / benchmark.stats.stats.min  # type: ignore[attr-defined]
    benchmark.extra_info.update(  # type: ignore[attr-defined]
        {
            "arrival": arrival,
            "events": len(events),
            "alerts": n_alerts,
            "engine_events_per_s": round(engine_rate),
            "dict_loop_events_per_s": round(baseline),
            "ratio_engine_to_dict_loop": round(engine_rate / baseline, 4),
        }
    )
