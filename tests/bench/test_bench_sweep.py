"""A 100-value sweep over 5 seeds of county_hall against one value evaluated by streaming.

Both sides use the same five simulated worlds (simulated once, outside the timing): the
baseline runs the streaming engine with the swept rule for *one* value on each seed and
scores it; the sweep evaluates all 100 values with the batch path and scores each. The
target is ``ratio <= 3``; ``extra_info`` holds both times and the ratio.
"""

from __future__ import annotations

import time
from pathlib import Path

from engine.rules.rulebook import load_rulebook
from reports.evaluation.sweeps.grid import decode_grid
from sim.common.scenario import load_scenario
from sim.hall.world import simulate
from supsim.experiments.sweep import score_world

SCENARIO = Path("scenarios/county_hall.yaml")


def test_sweep_100_values_vs_one(benchmark) -> None:  # type: ignore[no-untyped-def]
    scenario = load_scenario(SCENARIO)
    book = load_rulebook(scenario.rulebook_path(SCENARIO))
    worlds = [simulate(scenario, seed=scenario.seed + i) for i in range(5)]
    grid = decode_grid(Path("scenarios/grids/county_warning_lead.yaml").read_bytes())
    one = decode_grid(
        "params: {deadline.warning.warning_lead_days: [1.0]}\n"
        "score: {deadline.warning: {truth: overdue, early: unbounded}}\ngoal: {max_alerts_per_day: 2}"
    )
    t0 = time.perf_counter()
    for w in worlds:
        score_world(w, book, one, batch=False)
    baseline = time.perf_counter() - t0

    def sweep() -> None:
        for w in worlds:
            score_world(w, book, grid, batch=True)

    benchmark.pedantic(sweep, rounds=3, iterations=1)
    t = benchmark.stats.stats.min
    benchmark.extra_info.update(
        {"baseline_one_value_s": baseline, "sweep_100_values_s": t, "ratio": t / baseline}
    )
    assert t / baseline <= 3.0
