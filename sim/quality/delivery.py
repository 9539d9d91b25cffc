"""When a record reaches the engine: batch sync windows and exchange-server outages.

A record written at ``t`` waits on the exchange server for the next sync instant; if that
instant falls in an outage, it waits for the end of the outage and arrives in the burst
that follows. The record's ``ts`` is untouched: only arrival time and order change.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from datetime import datetime, timedelta

import numpy as np

from sim.common.sections.quality import Outages, SyncSpec

__all__ = ["Delivery", "draw_outages"]

Window = tuple[datetime, datetime]


def draw_outages(
    spec: Outages | None, start: datetime, end: datetime, rng: np.random.Generator
) -> list[Window]:
    """The outage windows of one system: the fixed ones plus the drawn ones, merged and sorted.

    The drawn count is Poisson with mean ``per_30_days`` times the run's length in 30-day
    months; starts are uniform over the run, lengths uniform in ``hours``. Overlapping
    windows are merged, so a record waits for the end of the last of them.
    """
    if spec is None:
        return []
    windows = [(w.start.astimezone(start.tzinfo), w.start + timedelta(hours=w.hours)) for w in spec.windows]
    span = (end - start).total_seconds()
    n = int(rng.poisson(spec.per_30_days * span / (30 * 86400)))
    offsets = rng.uniform(0, span, size=n)
    hours = rng.uniform(spec.hours.min, spec.hours.max, size=n)
    for off, h in zip(offsets.tolist(), hours.tolist(), strict=True):
        begin = start + timedelta(seconds=round(off))
        windows.append((begin, begin + timedelta(seconds=round(h * 3600))))
    windows.sort()
    merged: list[Window] = []
    for begin, stop in windows:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((begin, stop))
    return merged


class Delivery:
    """One system's way to the engine: its sync instants and its (merged, sorted) outages."""

    __slots__ = ("_every", "_origin", "_outages", "_starts")

    def __init__(self, sync: SyncSpec | None, outages: list[Window], origin: datetime) -> None:
        self._every = None if sync is None else sync.every_minutes * 60
        self._origin = origin if sync is None else origin + timedelta(minutes=sync.offset_minutes)
        self._outages = outages
        self._starts = [w[0] for w in outages]

    def after_sync(self, written: datetime) -> datetime:
        """The first sync instant at or after ``written`` (``written`` itself without batching)."""
        if self._every is None:
            return written
        k = math.ceil((written - self._origin).total_seconds() / self._every)
        return self._origin + timedelta(seconds=k * self._every)

    def after_outage(self, sent: datetime) -> datetime:
        """``sent``, or the end of the outage it falls in (``[start, end)``)."""
        i = bisect_right(self._starts, sent) - 1
        if i >= 0 and sent < self._outages[i][1]:
            return self._outages[i][1]
        return sent
