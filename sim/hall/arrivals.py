"""Demand: when applicants arrive, for which item, through which channel.

Arrivals are a Poisson process per working hour on working days only; the hourly profile
shapes the day (a morning peak, a lull at lunch-adjacent hours). "Working hour" means a
slice of 3,600 *working* seconds of the day, so a profile weight belongs to the same slice
whatever the working periods are, and arrivals spread uniformly inside their slice can
never land outside working time. Drawn up front in one vectorised pass (it is the whole
run's demand, and the arrival order fixes the case ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from sim.common.clock import SimClock
from sim.common.hall_model import HallModel

__all__ = ["Arrivals", "draw_arrivals"]


@dataclass(slots=True)
class Arrivals:
    """One hall's arrivals in time order: SimPy times, item indices and online flags, and
    the working-time index of each arrival (``clock.index(t)`` for every ``t`` in ``times``,
    already at hand, for callers that work in index seconds such as capacity planning)."""

    times: list[int]
    items: list[int]
    online: list[bool]
    index: np.ndarray

    def __len__(self) -> int:
        return len(self.times)


def draw_arrivals(
    hall: HallModel,
    clock: SimClock,
    *,
    profile: list[float] | None,
    online_share: float,
    rng: np.random.Generator,
) -> Arrivals:
    """Arrivals of ``hall`` between the clock's start and end."""
    cal = clock.calendar
    day_s = cal.day_seconds
    hours = -(-day_s // 3600)
    weights = np.asarray(profile if profile is not None else [1.0] * hours, dtype=np.float64)
    means = hall.cases_per_day * weights / weights.sum()
    slot_len = np.minimum(3600, day_s - 3600 * np.arange(hours))

    indices: list[np.ndarray] = []
    day = clock.start.date()
    while (midnight := datetime.combine(day, clock.start.timetz())) < clock.end:
        if cal.is_working_day(day):
            base = cal.to_index(midnight)
            counts = rng.poisson(means)
            slot = np.repeat(np.arange(hours), counts)
            offsets = np.floor(rng.random(slot.size) * slot_len[slot]) + 3600 * slot
            indices.append(np.sort(base + offsets))
        day += timedelta(days=1)
    xs = np.concatenate(indices) if indices else np.zeros(0)
    # latest=True: the instant at which an index starts, never the end of the previous period.
    # One vectorised pass: a year of a city hall is half a million arrivals.
    epoch = cal.from_index_many(xs, latest=True)
    start_epoch = clock.start.timestamp()
    times_np = np.ceil(epoch - start_epoch).astype(np.int64)
    inside = times_np < clock.at(clock.end)
    times_np, xs = times_np[inside], xs[inside]
    n = times_np.size
    popularity = np.array([item.popularity for item in hall.items], dtype=np.float64)
    items = rng.choice(len(hall.items), size=n, p=popularity / popularity.sum()).tolist()
    online = (rng.random(n) < online_share).tolist()
    return Arrivals(times_np.tolist(), items, online, xs)
