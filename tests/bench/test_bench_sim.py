"""The hall model against bare SimPy, measured in the same run.

Figure: SimPy kernel events processed per second of wall time (the whole ``simulate``
call: event building, sorting and truth included) for the hall model, divided by the same
figure for a bare M/M/c queue with ``simpy.Resource``. Target in the issue: ≥ 0.75.
Also: one month of ``city_hall`` end to end in the model (target: under a minute).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sim.scenario import load_scenario
from sim.world import simulate
from tests.bench.baselines import bare_mmc

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
pytestmark = pytest.mark.bench


def _rate(fn) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    n = fn()
    return n / (time.perf_counter() - t0), n


def test_hall_model_vs_bare_simpy(benchmark: pytest.FixtureRequest) -> None:
    scenario = load_scenario(SCENARIOS / "county_hall.yaml")
    bare_rate, bare_n = _rate(lambda: bare_mmc(c=20, rho=0.9, customers=30_000, seed=1))
    result = {}

    def run() -> int:
        result["sim"] = simulate(scenario, seed=1)
        return int(result["sim"].stats["simpy_events"])

    t0 = time.perf_counter()
    benchmark.pedantic(run, rounds=3, iterations=1)
    mean_s = benchmark.stats.stats.mean
    hall_rate = result["sim"].stats["simpy_events"] / mean_s
    bare_rate_after, _ = _rate(lambda: bare_mmc(c=20, rho=0.9, customers=30_000, seed=2))
    bare = (bare_rate + bare_rate_after) / 2
    benchmark.extra_info.update(
        {
            "hall_kernel_events_per_s": round(hall_rate),
            "hall_contract_events_per_s": round(len(result["sim"].events) / mean_s),
            "bare_mmc_kernel_events_per_s": round(bare),
            "bare_mmc_kernel_events": bare_n,
            "ratio_hall_to_bare": round(hall_rate / bare, 3),
            "wall_s": round(time.perf_counter() - t0, 2),
        }
    )
    assert result["sim"].stats["simpy_events"] > 0


def test_city_hall_month(benchmark: pytest.FixtureRequest) -> None:
    scenario = load_scenario(SCENARIOS / "city_hall.yaml")
    bare_rate, _ = _rate(lambda: bare_mmc(c=125, rho=0.9, customers=30_000, seed=3))
    out = {}

    def run() -> None:
        out["sim"] = simulate(scenario)

    benchmark.pedantic(run, rounds=1, iterations=1)
    seconds = benchmark.stats.stats.mean
    stats = out["sim"].stats
    benchmark.extra_info.update(
        {
            "seconds": round(seconds, 2),
            "cases": stats["cases"],
            "contract_events": stats["events"],
            "kernel_events_per_s": round(stats["simpy_events"] / seconds),
            "ratio_to_bare_mmc": round(stats["simpy_events"] / seconds / bare_rate, 3),
        }
    )
    assert stats["cases"] > 0
