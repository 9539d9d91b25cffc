"""Market simulation and collusion detection throughput, as ratios to same-run baselines.

Baselines: for the engine, a bare loop that groups the same tendering events by tender and
computes the seven screens once per tender (the least any screen-based checker must do);
for the simulator, generating the same number of bids as plain lognormal draws. The
ratios say what the event-time runtime, trace rules, parties, cards and ring recovery cost
on top. Run with ``make bench`` (``pytest --bench``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from engine.contract import events as ev
from engine.replay import detect
from engine.rules.collusion.screen_stats import screens
from sim.market.scenario import load_market_scenario
from sim.market.world import simulate_market

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "bidding_market.yaml"


def _screens_loop(events: list[ev.Event]) -> int:
    bids: dict[str, list[float]] = defaultdict(list)
    for e in events:
        if isinstance(e, ev.BidSubmitted):
            bids[e.tender_id].append(e.price)
    return sum(len(screens(b)) for b in bids.values())


def test_bench_collusion_engine_vs_screens_loop(benchmark: pytest.FixtureRequest) -> None:
    world = simulate_market(load_market_scenario(SCENARIO))
    events = world.events
    t0 = time.perf_counter()
    for _ in range(3):
        _screens_loop(events)
    baseline = (time.perf_counter() - t0) / 3
    result = benchmark.pedantic(detect, args=(events,), rounds=3, iterations=1)  # type: ignore[attr-defined]
    engine_s = benchmark.stats.stats.min  # type: ignore[attr-defined]
    benchmark.extra_info.update(  # type: ignore[attr-defined]
        {
            "events": len(events),
            "alerts": len(result.alerts),
            "engine_events_per_s": len(events) / engine_s,
            "screens_loop_events_per_s": len(events) / baseline,
            "ratio_engine_to_screens_loop": engine_s / baseline,
        }
    )
    assert result.alerts


def test_bench_market_simulation_vs_bare_draws(benchmark: pytest.FixtureRequest) -> None:
    scenario = load_market_scenario(SCENARIO)
    world = benchmark.pedantic(simulate_market, args=(scenario,), rounds=3, iterations=1)  # type: ignore[attr-defined]
    n_bids = int(world.stats["bids"])
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    for _ in range(3):
        rng.lognormal(0.0, 0.075, size=(n_bids, 12)).min(axis=1)
    bare = (time.perf_counter() - t0) / 3
    sim_s = benchmark.stats.stats.min  # type: ignore[attr-defined]
    benchmark.extra_info.update(  # type: ignore[attr-defined]
        {
            "bids": n_bids,
            "sim_bids_per_s": n_bids / sim_s,
            "bare_draws_bids_per_s": n_bids / max(bare, 1e-9),
            "ratio_sim_to_bare_draws": sim_s / max(bare, 1e-9),
        }
    )
    assert n_bids > 0
