"""Planning at scale: a simulated year of city_hall's window stage, SimPy and fast path, and
the M/M/c validation at full size (pooled mean within 1 % of Erlang C).

``extra_info`` records CPU seconds of both models for the year (targets: SimPy <= 20 s,
fast path <= 3 s), their ratio, the peak memory of the demand, and the validation figures.
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import msgspec

from sim.common.scenario import load_scenario
from sim.queueing.mmc_check import mmc_check
from sim.queueing.staffing import desk_demand, level_metrics


def test_city_hall_year(benchmark) -> None:  # type: ignore[no-untyped-def]
    scenario = msgspec.structs.replace(load_scenario(Path("scenarios/city_hall.yaml")), days=365)
    tracemalloc.start()
    t0 = time.process_time()
    demand = desk_demand(scenario, scenario.seed)
    demand_s = time.process_time() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    windows = {d.id: d.windows for h in scenario.halls for d in h.departments}
    t0 = time.process_time()
    slow = level_metrics(demand, windows, simpy=True)
    simpy_s = time.process_time() - t0

    def fast() -> None:
        level_metrics(demand, windows)

    benchmark.pedantic(fast, rounds=3, iterations=1)
    fast_s = benchmark.stats.stats.min
    assert level_metrics(demand, windows) == slow
    benchmark.extra_info.update(
        {
            "customers": sum(len(d.arrivals) for d in demand),
            "demand_cpu_s": demand_s,
            "demand_peak_mb": peak / 1e6,
            "simpy_cpu_s": simpy_s,
            "fastpath_s": fast_s,
            "ratio_simpy_to_fast": simpy_s / fast_s,
        }
    )


def test_mmc_full_size(benchmark) -> None:  # type: ignore[no-untyped-def]
    check = benchmark.pedantic(
        lambda: mmc_check(c=20, rho=0.9, replications=40, customers=1_500_000, seed=11),
        rounds=1,
        iterations=1,
    )
    benchmark.extra_info.update(
        {
            "erlang_c": check.erlang_c_wait,
            "pooled": check.pooled_wait,
            "rel_error": check.rel_error,
            "coverage": check.coverage,
        }
    )
    assert abs(check.rel_error) <= 0.01
