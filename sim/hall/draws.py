"""Every random number a case needs, drawn up front in vectorised passes.

Why up front: a case's service times, suspensions and misconduct are then fixed by its
arrival index, not by the order in which SimPy happens to resume processes, and numpy
draws whole columns far faster than per-case scalar calls. Natural behaviour and
misconduct use separate generators, so changing a misconduct rate leaves every natural
service time of the run unchanged.

All durations are *working* seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.common.hall_model import HallModel
from sim.common.scenario import Scenario
from sim.common.scenario_types import ServiceTime
from sim.hall.misconduct import KindTable

__all__ = ["CaseDraws", "draw_cases", "draw_service"]

#: Uniforms per case for shaping its injected kind (which event, how far, how much).
SHAPE_DRAWS = 4


@dataclass(slots=True)
class CaseDraws:
    """Column-wise draws for one hall's cases (index = arrival order).

    Numeric columns are numpy arrays (a year of a city hall is half a million cases: lists
    of Python floats would cost seconds and hundreds of megabytes); the SimPy flow turns
    the ones it reads into lists once (:class:`sim.hall.case_events.CaseEvents`)."""

    kind: list[str | None]
    accept_s: np.ndarray
    instant_s: np.ndarray
    intake_s: np.ndarray
    decision_s: np.ndarray
    handling_s: np.ndarray  # (cases, steps): hands-on time per step
    approver_s: np.ndarray  # hands-on time of the decision
    fraction: np.ndarray  # (cases, steps): share of the step limit actually used
    overrun_days: np.ndarray  # (cases, steps): natural overrun beyond the limit (0 = none)
    suspend_days: np.ndarray  # natural legal suspension (0 = none)
    suspend_u: np.ndarray  # picks the step the suspension falls in
    approve: np.ndarray  # bool
    shape: np.ndarray  # (cases, SHAPE_DRAWS) uniforms for the injected kind


def draw_service(
    rng: np.random.Generator, d: ServiceTime, scale: float, size: int | tuple[int, int]
) -> np.ndarray:
    """``size`` durations of ``d`` in seconds (``scale``: seconds per unit of the field).

    One generator call per column, in a fixed order, so the draws depend only on the seed;
    the lognormal call is the one every shipped scenario has always made, so their outputs
    did not change when the other distributions came.
    """
    if d.dist == "lognormal":
        assert d.median is not None
        sigma = 0.5 if d.sigma is None else d.sigma
        return np.asarray(rng.lognormal(np.log(d.median * scale), sigma, size=size))
    if d.dist == "exponential":
        assert d.mean is not None
        return np.asarray(rng.exponential(d.mean * scale, size=size))
    if d.dist == "gamma":
        assert d.mean is not None and d.shape is not None
        return np.asarray(rng.gamma(d.shape, d.mean * scale / d.shape, size=size))
    assert d.values is not None
    return np.asarray(rng.choice(np.asarray(d.values, dtype=np.float64) * scale, size=size))


def draw_cases(
    scenario: Scenario,
    hall: HallModel,
    items: list[int] | np.ndarray,
    kinds: KindTable,
    natural: np.random.Generator,
    misconduct: np.random.Generator,
) -> CaseDraws:
    """Draws for the cases of ``hall`` whose items (by index) are ``items``."""
    sv = scenario.service
    item_idx = np.asarray(items, dtype=np.int64)
    n = item_idx.size
    width = max((len(item.steps) for item in hall.items), default=0)
    steps_of_item = np.array([len(item.steps) for item in hall.items], dtype=np.int64)
    item_steps = steps_of_item[item_idx] if n else np.zeros(0, dtype=np.int64)
    fraction = np.minimum(_beta(natural, sv.step_fraction.a, sv.step_fraction.b, (n, width)), 0.95)
    overrun = natural.random((n, width)) < sv.overrun_rate
    overrun_days = np.where(
        overrun, natural.uniform(sv.overrun_days.min, sv.overrun_days.max, (n, width)), 0.0
    )
    overrun_days[np.arange(width)[None, :] >= item_steps[:, None]] = 0.0
    suspended = natural.random(n) < sv.suspension_rate
    suspend_days = np.where(
        suspended, natural.uniform(sv.suspension_days.min, sv.suspension_days.max, n), 0.0
    )
    u_kind = misconduct.random(n)
    return CaseDraws(
        kind=kinds.draw_many(item_idx, u_kind),
        accept_s=draw_service(natural, sv.acceptance_minutes, 60, n),
        instant_s=draw_service(natural, sv.instant_minutes, 60, n),
        intake_s=draw_service(natural, sv.online_intake_hours, 3600, n),
        decision_s=draw_service(natural, sv.decision_hours, 3600, n),
        handling_s=draw_service(natural, sv.handling_minutes, 60, (n, width)),
        approver_s=draw_service(natural, sv.decision_minutes, 60, n),
        fraction=fraction,
        overrun_days=overrun_days,
        suspend_days=suspend_days,
        suspend_u=natural.random(n),
        approve=natural.random(n) < sv.approve_rate,
        shape=misconduct.random((n, SHAPE_DRAWS)),
    )


def _beta(rng: np.random.Generator, a: float, b: float, size: tuple[int, int]) -> np.ndarray:
    """Beta draws (an item catalogue without steps gives an empty matrix)."""
    if size[0] * size[1] == 0:
        return np.zeros(size)
    return np.asarray(rng.beta(a, b, size=size))
