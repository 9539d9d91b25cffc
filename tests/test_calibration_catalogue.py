"""Replications share one catalogue (common random numbers for the place's structure)."""

from __future__ import annotations

from pathlib import Path

import msgspec

from engine.rules.rulebook import Rulebook
from sim.common.scenario import Scenario, load_scenario
from supsim.experiments.calibrate_fit import fixed_catalogue, load_rulebook_for, replicate, simulate_figures

ROOT = Path(__file__).resolve().parents[1]
COUNTY = ROOT / "scenarios" / "county_hall.yaml"


def _short() -> tuple[Scenario, Rulebook]:
    scenario = load_scenario(COUNTY)
    short = msgspec.structs.replace(scenario, days=2)
    return short, load_rulebook_for(scenario, COUNTY)


def test_replications_share_the_catalogue() -> None:
    scenario, rulebook = _short()
    runs = replicate(scenario, rulebook, 3)
    shares = {r["instant_item_share"] for r in runs}
    assert len(shares) == 1, shares
    assert len({r["cases"] for r in runs}) > 1  # arrivals still differ


def test_replication_zero_is_the_scenarios_own_run() -> None:
    scenario, rulebook = _short()
    own = simulate_figures(scenario, rulebook, scenario.seed)
    fixed = simulate_figures(fixed_catalogue(scenario), rulebook, scenario.seed)
    assert fixed == own
