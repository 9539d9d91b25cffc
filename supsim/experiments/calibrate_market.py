"""Calibration of a bidding-market scenario: the same targets files, tables and NRMSE.

Why a module of its own: a market has no halls, windows or cases, so the hall scaling of
:func:`reports.evaluation.calibration.metrics.scenario_scale` does not apply; its published figures
(the award discount below the control price) are rates read off ``tender.*`` events, which
:func:`reports.evaluation.calibration.metrics.event_figures` already computes. What differs is only
how a replication is produced (:func:`sim.market.world.simulate_market`) and the scale
(the period alone). The rule engine is not needed for these figures, so it is not run.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

from reports.evaluation.calibration.metrics import Figures, event_figures, market_scale
from reports.evaluation.calibration.table import CalibrationResult, calibrate_figures
from reports.evaluation.calibration.targets import Targets
from sim.market.scenario import MarketScenario
from sim.market.world import simulate_market

__all__ = ["calibrate_market", "market_figures"]


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
