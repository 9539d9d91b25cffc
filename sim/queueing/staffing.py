"""Capacity planning: the window stage of a scenario under other staffing levels.

The window desk of each department is a first-come-first-served queue. This module draws a
scenario's demand *exactly as* :func:`sim.hall.world.simulate` does (same seed, same child
generators in the same order, the same arrival and service draws), so a staffing level is
judged on the very applicants the full world would see; only the queue is replayed, with
the heap fast path (:mod:`sim.queueing.fcfs`) or SimPy. Times are calendar *index* seconds
(working time), so a wait that spans the lunch break counts only working minutes, the way
the deadlines count.

Staffing levels are scenarios too: :func:`with_windows` returns a copy (``msgspec``
replace) with the hall's windows re-allocated, so the full world can be run on the same
level when a target needs it (the overdue rate depends on the whole flow).
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import numpy as np

from sim.common.clock import SimClock
from sim.common.hall_model import build_halls
from sim.common.scenario import Scenario
from sim.hall.arrivals import draw_arrivals
from sim.hall.draws import draw_cases
from sim.hall.misconduct import KindTable
from sim.queueing.fcfs import fcfs_waits, simpy_waits

__all__ = ["DeskDemand", "LevelMetrics", "allocate", "desk_demand", "level_metrics", "with_windows"]


@dataclass(frozen=True, slots=True)
class DeskDemand:
    """One department's window demand: arrival index, service seconds, walk-in flag (sorted).

    ``department_id`` is the department's id in the scenario file (``D01``)."""

    hall_id: str
    department_id: str
    arrivals: np.ndarray
    service: np.ndarray
    walk_in: np.ndarray
    span_s: float  # working seconds covered by the run


def desk_demand(scenario: Scenario, seed: int) -> list[DeskDemand]:
    """Window demand per department, drawn as the world draws it for ``seed``."""
    rng = np.random.default_rng(seed)
    r_catalogue, r_arrivals, r_natural, r_misconduct, _people = rng.spawn(5)
    calendar = scenario.build_calendar()
    start, end = scenario.horizon()
    start, end = start.astimezone(calendar.tz), end.astimezone(calendar.tz)
    clock = SimClock(calendar, start, end)
    span = calendar.to_index(end) - calendar.to_index(start)
    out: list[DeskDemand] = []
    for hall in build_halls(scenario, r_catalogue):
        arr = draw_arrivals(
            hall,
            clock,
            profile=scenario.arrivals.hourly_profile,
            online_share=scenario.arrivals.online_share,
            rng=r_arrivals,
        )
        kinds = KindTable(scenario, hall.items, {d.id: d for d in hall.departments})
        draws = draw_cases(scenario, hall, arr.items, kinds, r_natural, r_misconduct)
        base = np.asarray(arr.index, dtype=np.float64)
        online = np.asarray(arr.online, dtype=bool)
        at = base + np.where(online, np.asarray(draws.intake_s), 0.0)
        instant = np.array([hall.items[i].instant for i in arr.items], dtype=bool)
        service = np.asarray(draws.accept_s) + np.where(instant, np.asarray(draws.instant_s), 0.0)
        dept = np.array([hall.items[i].department_id for i in arr.items])
        for d in hall.departments:
            sel = np.flatnonzero(dept == d.id)
            order = sel[np.argsort(at[sel], kind="stable")]
            out.append(DeskDemand(hall.id, d.key, at[order], service[order], ~online[order], span))
    return out


def allocate(weights: list[float], total: int) -> list[int]:
    """Split ``total`` windows in proportion to ``weights``, at least one each (largest remainder)."""
    n = len(weights)
    if total < n:
        raise ValueError(f"{total} windows cannot staff {n} departments (one each at least)")
    w = np.asarray(weights, dtype=np.float64)
    share = (total - n) * w / w.sum()
    base = np.floor(share).astype(int)
    rest = total - n - int(base.sum())
    order = np.argsort(-(share - base), kind="stable")[:rest]
    base[order] += 1
    return (base + 1).tolist()


def with_windows(
    scenario: Scenario,
    total: int | None = None,
    *,
    department: str | None = None,
    count: int | None = None,
    posts: dict[str, int] | None = None,
) -> Scenario:
    """A copy with re-staffed halls: ``total`` windows per hall split like today's windows,
    or ``count`` windows for one ``department``, and/or every department's ``posts`` set."""
    halls = []
    for hall in scenario.halls:
        depts = list(hall.departments)
        if total is not None:
            split = allocate([float(d.windows) for d in depts], total)
            depts = [msgspec.structs.replace(d, windows=k) for d, k in zip(depts, split, strict=True)]
        if department is not None and count is not None:
            depts = [msgspec.structs.replace(d, windows=count) if d.id == department else d for d in depts]
        if posts:
            depts = [
                msgspec.structs.replace(d, posts={p: posts.get(p, k) for p, k in d.posts.items()})
                for d in depts
            ]
        halls.append(msgspec.structs.replace(hall, departments=depts))
    return msgspec.structs.replace(scenario, halls=halls)


@dataclass(frozen=True, slots=True)
class LevelMetrics:
    """Window-stage figures of one staffing level and one replication (waits in minutes)."""

    wait_mean: float
    wait_p50: float
    wait_p90: float
    wait_p95: float
    wait_max: float
    utilisation: float


def level_metrics(demand: list[DeskDemand], windows: dict[str, int], *, simpy: bool = False) -> LevelMetrics:
    """Replay every desk with its windows; pool the walk-in waits of the whole hall."""
    waits: list[np.ndarray] = []
    busy = capacity = 0.0
    for d in demand:
        c = windows[d.department_id]
        w = (simpy_waits if simpy else fcfs_waits)(d.arrivals, d.service, c)
        waits.append(w[d.walk_in])
        busy += float(d.service.sum())
        capacity += c * d.span_s
    allw = np.concatenate(waits) / 60.0 if waits else np.zeros(1)
    if allw.size == 0:
        allw = np.zeros(1)
    p50, p90, p95 = np.percentile(allw, [50, 90, 95])
    return LevelMetrics(
        wait_mean=float(allw.mean()),
        wait_p50=float(p50),
        wait_p90=float(p90),
        wait_p95=float(p95),
        wait_max=float(allw.max()),
        utilisation=busy / capacity if capacity else 0.0,
    )
