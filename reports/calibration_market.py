"""Calibration of a bidding-market scenario: the same targets files, tables and NRMSE.

Why a module of its own: a market has no halls, windows or cases, so the hall scaling of
:func:`reports.calibration_metrics.scenario_scale` does not apply; its published figures
(the award discount below the control price) are rates read off ``tender.*`` events, which
:func:`reports.calibration_metrics.event_figures` already computes. What differs is only
how a replication is produced (:func:`sim.bidding_world.simulate_market`) and the scale
(the period alone). The rule engine is not needed for these figures, so it is not run.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

from reports.calibration import CalibrationResult, calibrate_figures
from reports.calibration_metrics import Figures, ScenarioScale, event_figures
from reports.calibration_targets import Targets
from sim.bidding_scenario import MarketScenario
from sim.bidding_world import simulate_market

__all__ = ["calibrate_market", "market_figures", "market_run_figures", "market_scale"]


def market_scale(scenario: MarketScenario) -> ScenarioScale:
    """The market's period (working days of its calendar); a market has no hall size."""
    calendar = scenario.build_calendar()
    begin, _ = scenario.horizon()
    days = [begin.date() + timedelta(days=k) for k in range(scenario.days)]
    working = sum(1 for d in days if calendar.is_working_day(d))
    return ScenarioScale(working_days=float(working), calendar_days=float(scenario.days), size={})


def market_figures(scenario: MarketScenario, seed: int) -> Figures:
    """Figures of one simulated replication of the market."""
    return event_figures(simulate_market(scenario, seed=seed).events)


def _one(args: tuple[MarketScenario, int]) -> Figures:
    return market_figures(*args)


def calibrate_market(
    scenario: MarketScenario, targets: Targets, replications: int, *, workers: int = 1
) -> CalibrationResult:
    """Simulate ``replications`` markets (seeds ``seed, seed + 1, ...``) and compare with ``targets``."""
    jobs = [(scenario, scenario.seed + k) for k in range(replications)]
    if workers <= 1 or replications == 1:
        runs = [_one(job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=min(workers, replications)) as pool:
            runs = list(pool.map(_one, jobs))
    return calibrate_figures(scenario, targets, runs, scale=market_scale(scenario))


def market_run_figures(run_dir: Path) -> Figures:
    """The figures of a market run folder written by ``supsim run`` (from its ``events.jsonl``)."""
    from engine.events import read_jsonl

    return event_figures(read_jsonl(run_dir / "events.jsonl"))
