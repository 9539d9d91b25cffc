"""The calibration table: each published figure at the scenario's scale beside the simulation.

For every figure of a targets file: the published value, the target once scaled to the
scenario's period and size (see :mod:`reports.evaluation.calibration.targets` for the bases), the
simulated mean over the replications with a 95 % Student-t interval cut to the figure's range
(:func:`value_range`, :mod:`reports.evaluation.intervals`), the relative error and
whether it is inside the figure's tolerance. One number sums the fit up: the normalised root
mean square error over the figures, ``NRMSE = sqrt(mean(((sim - target) / target)^2))``
(a figure with an ``abs_tolerance`` wider than its relative band is normalised by
``abs_tolerance / tolerance`` instead, so rare counts do not swamp the sum), the
quantity ``supsim calibrate --fit`` minimises.

:mod:`reports.render.tables.calibration` prints it (``calibration_table`` after a run).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec
import numpy as np

from reports.evaluation.calibration.metrics import (
    Figures,
    ScenarioScale,
    scenario_scale,
)
from reports.evaluation.calibration.targets import (
    DEFAULT_TOLERANCE,
    Figure,
    Targets,
    TargetsError,
)
from reports.evaluation.intervals import ValueRange, mean_interval
from sim.common.scenario import Scenario
from sim.market.scenario import MarketScenario

__all__ = [
    "CalibrationResult",
    "CalibrationRow",
    "band",
    "calibrate_figures",
    "scaled_target",
    "value_range",
]

_DIGITS = 6
#: Bases whose figures are rates in [0, 1] (their default band is on the smaller side).
_RATES = ("rate", "stock_rate")


class CalibrationRow(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    metric: str
    basis: str
    published: float
    target: float
    mean: float | None
    ci: tuple[float, float] | None
    n: int
    rel_error: float | None
    within: bool | None
    tolerance: float
    bound: str = "equal"
    #: half-width of the band the mean must fall in, in the figure's unit
    band: float = 0.0


class CalibrationResult(msgspec.Struct, frozen=True, kw_only=True):
    place: str
    scenario: str
    replications: int
    rows: tuple[CalibrationRow, ...]
    nrmse: float | None
    all_within: bool


def _period_ratio(targets: Targets, scale: ScenarioScale) -> float:
    """Scenario period / published period, in the unit the file states."""
    period = targets.period
    if period is None:  # checked when the file was loaded
        raise ValueError("the targets file has no period")
    if period.working_days is not None:
        return scale.working_days / period.working_days
    return scale.calendar_days / float(period.calendar_days or 1)


#: Counts that are stocks at the end of the period (the pipeline), not flows over it.
STOCKS = frozenset({"open_cases"})
#: Closed shares whose open part is such a stock: comparable as plain rates only over equal periods.
STOCK_RATES = frozenset(
    {"completion_rate", "instant_completion_rate", "promised_completion_rate", "complaint_closure_rate"}
)
#: How far the scenario's period may differ from the published one before a stock rate is refused.
_PERIOD_SLACK = 0.10


def _refuse_period_mismatch(fig: Figure, targets: Targets, scale: ScenarioScale) -> None:
    """Refuse a completion-style ``rate`` published over a period the scenario does not run.

    Why: the open share is the pipeline at the end, about the same after a month as after a
    year, over a twelfth of the cases; a month's run then fails a year's figure by
    construction. ``stock_rate`` scales it; a plain ``rate`` is only fair over equal periods.
    """
    ratio = _period_ratio(targets, scale)
    if abs(ratio - 1.0) <= _PERIOD_SLACK:
        return
    period = targets.period
    unit = "working days" if period is not None and period.working_days is not None else "calendar days"
    published = (period.working_days or period.calendar_days) if period is not None else None
    ran = scale.working_days if unit == "working days" else scale.calendar_days
    reason = (
        f"{fig.metric!r} is a closed share whose open part is a stock (the pipeline at the end): "
        f"published over {published:g} {unit}, the scenario runs {ran:g}, so as a plain `rate` it "
        "fails or passes by construction; give `basis: stock_rate` to scale it, or run the "
        "scenario over the published period"
    )
    raise TargetsError(f"targets of {targets.place}", [(f"$.figures[{fig.id}].basis", reason)])


def scaled_target(fig: Figure, targets: Targets, scale: ScenarioScale, sim_cases: float | None) -> float:
    """The published figure at the scenario's scale (module doc of ``calibration_targets``)."""
    if fig.basis == "rate" and fig.metric in STOCK_RATES and targets.period is not None:
        _refuse_period_mismatch(fig, targets, scale)
    if fig.basis in ("rate", "size"):
        return fig.value
    if fig.basis == "per_cases":  # only this basis divides by the published cases (a count needs none)
        cases = fig.cases if fig.cases is not None else targets.population["cases"]
        return fig.value * (sim_cases or 0.0) / cases
    ratio = _period_ratio(targets, scale)
    if fig.basis == "stock_rate":
        return min(1.0, max(0.0, 1.0 - (1.0 - fig.value) / ratio))
    # A stock (the cases open at the end) does not grow with the period: size only.
    value = fig.value if fig.metric in STOCKS else fig.value * ratio
    for name in fig.per:
        value *= scale.size[name] / targets.population[name]
    return value


#: Figures that may fall below 0: a discount is negative when an award exceeds its control price.
SIGNED = frozenset({"award_discount_mean", "award_discount_max", "award_discount_p95", "processing_speedup"})


def value_range(metric: str) -> ValueRange:
    """The range a figure's interval keeps to: rates and shares in [0, 1], counts and sizes >= 0."""
    if metric in SIGNED:
        return "real"
    if metric.endswith(("_rate", "_share")):
        return "proportion"
    return "nonnegative"


def _mean_ci(metric: str, values: Sequence[float]) -> tuple[float, tuple[float, float] | None]:
    mean, ci = mean_interval(values, value_range(metric), what=f"simulated {metric!r}")
    return mean, None if ci is None else (round(ci[0], _DIGITS), round(ci[1], _DIGITS))


def band(fig: Figure, target: float) -> float:
    """Half-width of the band a simulated mean must fall in (module doc of ``targets``).

    Explicit ``tolerance`` (relative) and ``abs_tolerance`` (absolute): the wider wins. Neither:
    ±10 % of a count's target, or of a rate's smaller side (``min(rate, 1 - rate)``).
    """
    if fig.tolerance is None and fig.abs_tolerance is None:
        side = min(abs(target), 1.0 - target) if fig.basis in _RATES and target <= 1 else abs(target)
        return DEFAULT_TOLERANCE * max(side, 0.0)
    rel = 0.0 if fig.tolerance is None else fig.tolerance * abs(target)
    return max(rel, fig.abs_tolerance or 0.0)


def _norm(fig: Figure, target: float) -> float:
    """The error unit: the band as a multiple of the default tolerance.

    A gap at the edge of any figure's band then weighs the same (``DEFAULT_TOLERANCE``) in
    the NRMSE, so a rate near 1 counts its complement and rare counts with an absolute band
    do not swamp the sum.
    """
    ref = fig.tolerance if fig.tolerance is not None else DEFAULT_TOLERANCE
    norm = band(fig, target) / ref
    return norm if norm > 0 else 1.0


def _gap(fig: Figure, mean: float, target: float) -> float:
    """How far the mean misses the figure: either side, or beyond a published limit only."""
    if fig.bound == "at_most":
        return max(0.0, mean - target)
    if fig.bound == "at_least":
        return max(0.0, target - mean)
    return abs(mean - target)


def calibrate_figures(
    scenario: Scenario | MarketScenario,
    targets: Targets,
    runs: Sequence[Figures],
    *,
    scale: ScenarioScale | None = None,
) -> CalibrationResult:
    """Compare the figures of ``runs`` (one dict per replication) with ``targets``.

    A market scenario has no hall size: pass its ``scale``
    (:func:`reports.evaluation.calibration.metrics.market_scale`).
    """
    if not runs:
        raise ValueError("calibration needs at least one run")
    if scale is None:
        if isinstance(scenario, MarketScenario):
            raise TypeError(
                "a market scenario needs its scale (reports.evaluation.calibration.metrics.market_scale)"
            )
        scale = scenario_scale(scenario)
    cases = [c for r in runs if (c := r.get("cases")) is not None]
    sim_cases = float(np.mean(cases)) if cases else None
    rows: list[CalibrationRow] = []
    errors: list[float] = []
    for fig in targets.figures:
        target = scaled_target(fig, targets, scale, sim_cases)
        values = [v for r in runs if (v := r.get(fig.metric)) is not None]
        mean: float | None = None
        ci = rel = None
        within: bool | None = None
        if values:
            mean, ci = _mean_ci(fig.metric, values)
            rel = (mean - target) / target if target else None
            gap = _gap(fig, mean, target)
            within = gap <= band(fig, target) + 1e-12
            errors.append((gap / _norm(fig, target)) ** 2)
        rows.append(
            CalibrationRow(
                id=fig.id,
                metric=fig.metric,
                basis=fig.basis,
                published=fig.value,
                target=round(target, _DIGITS),
                mean=None if mean is None else round(mean, _DIGITS),
                ci=ci,
                n=len(values),
                rel_error=None if rel is None else round(rel, _DIGITS),
                within=within,
                tolerance=fig.tolerance if fig.tolerance is not None else DEFAULT_TOLERANCE,
                band=round(band(fig, target), _DIGITS),
                bound=fig.bound,
            )
        )
    nrmse = round(math.sqrt(sum(errors) / len(errors)), _DIGITS) if errors else None
    return CalibrationResult(
        place=targets.place,
        scenario=scenario.name,
        replications=len(runs),
        rows=tuple(rows),
        nrmse=nrmse,
        all_within=all(r.within is True for r in rows),
    )
