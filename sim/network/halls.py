"""One hall of a network as an ordinary hall scenario, drawn from its level's template.

Why a hall scenario and not a network-aware world: the hall world (:mod:`sim.hall.world`)
is the tested model of a hall, and a network is many halls that do not share cases,
staff or cameras. So a network hall is a :class:`~sim.common.scenario.Scenario` with one
hall, built here from the template and the hall's own generator, and run by the same
``simulate`` as any other hall; everything it emits carries its unit path as hall id.

What varies from hall to hall (all drawn from :func:`sim.network.layout.hall_rng`, in a
fixed order): the number of departments, windows and items, the cases per window and day,
and whether the hall has cameras. What follows from them: windows are spread over the
departments busiest first (weights ``1/(k+1)**0.7``, at least one each), items in
proportion to windows, back-office staff in proportion to each department's windows.
"""

from __future__ import annotations

import msgspec
import numpy as np

from sim.common.hall_scenario import Scenario
from sim.common.scenario_types import DECIDE_POST, Arrivals, Department, Hall, ItemMix
from sim.network.layout import HallSpec, hall_rng
from sim.network.scenario_types import DEPARTMENT_NAMES, HallTemplate, IntRange, NetworkScenario, StaffShape

__all__ = ["HallShape", "draw_shape", "hall_scenario", "spread"]

_BUSY_EXPONENT = 0.7
_MAX_WINDOWS = 200  # a department's limit in the hall scenario
_MAX_POST = 100


class HallShape(msgspec.Struct, frozen=True, kw_only=True):
    """The numbers drawn for one hall (kept in the run's records)."""

    departments: int
    windows: int
    items: int
    cases_per_day: float
    cameras: bool


def _draw_int(rng: np.random.Generator, r: IntRange) -> int:
    return int(rng.integers(r.min, r.max + 1))


def draw_shape(template: HallTemplate, rng: np.random.Generator) -> HallShape:
    """Draw a hall's size, load and camera flag, always in the same order and number."""
    departments = _draw_int(rng, template.departments)
    windows = _draw_int(rng, template.windows)
    items = _draw_int(rng, template.items)
    per_window = float(rng.uniform(template.cases_per_window_day.min, template.cases_per_window_day.max))
    cameras = bool(rng.random() < template.cameras)
    windows = min(max(windows, departments), departments * _MAX_WINDOWS)
    return HallShape(
        departments=departments,
        windows=windows,
        items=max(items, departments),
        cases_per_day=round(per_window * windows, 2),
        cameras=cameras,
    )


def spread(total: int, weights: list[float]) -> list[int]:
    """``total`` over ``len(weights)`` parts: one each, the rest by largest remainder.

    Deterministic (ties go to the earlier part), so the same shape gives the same hall.
    """
    n = len(weights)
    rest = total - n
    if rest < 0:
        raise ValueError(f"cannot spread {total} over {n} parts with one each")
    w = np.asarray(weights, dtype=np.float64)
    exact = rest * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    short = rest - int(base.sum())
    order = sorted(range(n), key=lambda k: (-(exact[k] - base[k]), k))
    for k in order[:short]:
        base[k] += 1
    return [1 + int(x) for x in base]


def _posts(windows: int, staff: StaffShape) -> dict[str, int]:
    def count(per_window: float) -> int:
        return min(_MAX_POST, max(1, round(windows * per_window)))

    posts = {"review": count(staff.review)}
    if staff.check > 0 and windows >= staff.check_from_windows:
        posts["check"] = count(staff.check)
    posts[DECIDE_POST] = count(staff.decide)
    return posts


def _departments(shape: HallShape, staff: StaffShape) -> tuple[list[Department], dict[str, int]]:
    busy = [1.0 / (k + 1) ** _BUSY_EXPONENT for k in range(shape.departments)]
    windows = spread(shape.windows, busy)
    over = [w > _MAX_WINDOWS for w in windows]
    if any(over):  # only with hundreds of windows in a few departments: even them out
        windows = spread(shape.windows, [1.0] * shape.departments)
    items = spread(shape.items, [float(w) for w in windows])
    depts: list[Department] = []
    counts: dict[str, int] = {}
    for k, (w, n) in enumerate(zip(windows, items, strict=True)):
        dept_id = f"D{k + 1:02d}"
        name = DEPARTMENT_NAMES[k] if k < len(DEPARTMENT_NAMES) else f"第{k + 1}部门"
        depts.append(
            Department(id=dept_id, name=name, windows=w, posts=_posts(w, staff), leaders=staff.leaders)
        )
        counts[dept_id] = n
    return depts, counts


def hall_scenario(net: NetworkScenario, spec: HallSpec) -> tuple[Scenario, HallShape]:
    """The hall scenario of ``spec`` in ``net`` and the numbers drawn for it.

    The result is checked against the hall scenario's field constraints (a template that
    draws, say, more than 200 windows in one department fails here with the field's path).
    """
    template = net.templates[spec.template]
    shape = draw_shape(template, hall_rng(net.seed, spec.hall_id))
    departments, counts = _departments(shape, template.staff)
    cat = template.catalogue
    mix = ItemMix(
        counts=counts,
        promised_days=cat.promised_days,
        instant_share=cat.instant_share,
        free_share=cat.free_share,
        fee_range=cat.fee_range,
        certificate_share=cat.certificate_share,
        step_budget=cat.step_budget,
        popularity_sigma=cat.popularity_sigma,
    )
    hall = Hall(
        id=spec.hall_id,
        name=spec.name,
        departments=departments,
        item_mix=mix,
        cases_per_day=shape.cases_per_day,
    )
    scenario = Scenario(
        name=spec.hall_id,
        description=f"{spec.name} ({spec.level}) of network {net.name}",
        seed=spec.seed,
        start=net.start,
        days=net.days,
        timezone=net.timezone,
        calendar=net.calendar,
        rulebook=net.rulebook,
        halls=[hall],
        arrivals=Arrivals(
            cases_per_day=shape.cases_per_day,
            hourly_profile=net.arrivals.hourly_profile,
            online_share=net.arrivals.online_share,
        ),
        service=net.service,
        misconduct=template.misconduct if template.misconduct is not None else net.misconduct,
        lookalikes=net.lookalikes,
        injection=net.injection,
        truth=net.truth,
        cameras=net.cameras if shape.cameras else None,
    )
    return msgspec.convert(msgspec.to_builtins(scenario), Scenario), shape
