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

from sim.catalogue import HallModel
from sim.misconduct import KindTable
from sim.scenario import Scenario
from sim.scenario_types import LogNormal

__all__ = ["CaseDraws", "draw_cases"]

#: Uniforms per case for shaping its injected kind (which event, how far, how much).
SHAPE_DRAWS = 4


@dataclass(slots=True)
class CaseDraws:
    """Column-wise draws for one hall's cases (index = arrival order)."""

    kind: list[str | None]
    accept_s: list[float]
    instant_s: list[float]
    intake_s: list[float]
    decision_s: list[float]
    handling_s: list[list[float]]  # hands-on time per step
    approver_s: list[float]  # hands-on time of the decision
    fraction: list[list[float]]  # per step: share of the step limit actually used
    overrun_days: list[list[float]]  # per step: natural overrun beyond the limit (0 = none)
    suspend_days: list[float]  # natural legal suspension (0 = none)
    suspend_u: list[float]  # picks the step the suspension falls in
    approve: list[bool]
    shape: list[list[float]]  # SHAPE_DRAWS uniforms for the injected kind


def _lognormal(
    rng: np.random.Generator, d: LogNormal, scale: float, size: int | tuple[int, int]
) -> np.ndarray:
    return np.asarray(rng.lognormal(np.log(d.median * scale), d.sigma, size=size))


def draw_cases(
    scenario: Scenario,
    hall: HallModel,
    items: list[int],
    kinds: KindTable,
    natural: np.random.Generator,
    misconduct: np.random.Generator,
) -> CaseDraws:
    """Draws for the cases of ``hall`` whose items (by index) are ``items``."""
    sv = scenario.service
    n = len(items)
    width = max((len(item.steps) for item in hall.items), default=0)
    item_steps = np.array([len(hall.items[i].steps) for i in items], dtype=np.int64)
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
        kind=[kinds.draw(i, u) for i, u in zip(items, u_kind.tolist(), strict=True)],
        accept_s=_lognormal(natural, sv.acceptance_minutes, 60, n).tolist(),
        instant_s=_lognormal(natural, sv.instant_minutes, 60, n).tolist(),
        intake_s=_lognormal(natural, sv.online_intake_hours, 3600, n).tolist(),
        decision_s=_lognormal(natural, sv.decision_hours, 3600, n).tolist(),
        handling_s=_lognormal(natural, sv.handling_minutes, 60, (n, width)).tolist(),
        approver_s=_lognormal(natural, sv.decision_minutes, 60, n).tolist(),
        fraction=fraction.tolist(),
        overrun_days=overrun_days.tolist(),
        suspend_days=suspend_days.tolist(),
        suspend_u=natural.random(n).tolist(),
        approve=(natural.random(n) < sv.approve_rate).tolist(),
        shape=misconduct.random((n, SHAPE_DRAWS)).tolist(),
    )


def _beta(rng: np.random.Generator, a: float, b: float, size: tuple[int, int]) -> np.ndarray:
    """Beta draws (an item catalogue without steps gives an empty matrix)."""
    if size[0] * size[1] == 0:
        return np.zeros(size)
    return np.asarray(rng.beta(a, b, size=size))
