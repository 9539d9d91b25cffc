"""Alerts per hour of every unit, kept as alerts are logged, for the centre's trend charts.

Why counters per unit and hour rather than a query of the alert log: the trend of a unit is
24 hourly and 14 daily counts; with each alert counted once in its hall and in every unit
above it (at most five with a province's four levels), a request reads 24 + 14 × 24
counters of one unit, whatever the number of halls or alerts. Counters older than
``keep_days`` behind the newest alert are dropped once a day of alert time, so the memory
is bounded by units × hours kept.

Threads: the writer adds and prunes; readers only look counters up by key (never iterate),
which is safe against a concurrent insert or delete under CPython's GIL.
"""

from __future__ import annotations

import math
from typing import Any

from engine.service.centre.units import UnitTree

__all__ = ["AlertTrend"]

_HOUR = 3600
_DAY = 86_400


class AlertTrend:
    def __init__(self, tree: UnitTree, *, keep_days: int = 15) -> None:
        self.tree = tree
        self.keep_hours = keep_days * 24
        self.newest: float | None = None
        self._hours: dict[str, dict[int, int]] = {}
        self._pruned_hour = -math.inf

    def add(self, hall: str, ts: float) -> None:
        """Count one alert of ``hall`` (``""``: an alert of no hall, counted at the root only)."""
        hour = int(ts // _HOUR)
        hours = self._hours
        for unit in self.tree.ancestors(hall):
            counts = hours.get(unit)
            if counts is None:
                counts = hours[unit] = {}
            counts[hour] = counts.get(hour, 0) + 1
        if self.newest is None or ts > self.newest:
            self.newest = ts
            if hour - self._pruned_hour >= 24:
                self._prune(hour)

    def _prune(self, hour: int) -> None:
        floor = hour - self.keep_hours
        for counts in self._hours.values():
            for old in [h for h in counts if h < floor]:
                del counts[old]
        self._pruned_hour = hour

    def export(self) -> dict[str, Any]:
        """The counters as JSON (unit → hour → count) and the newest alert time.

        Why: a node of several processes (:mod:`engine.service.node`) builds one board from
        the trends of all of them; each hall's alerts are counted in one process only.
        """
        return {"hours": {u: {str(h): n for h, n in c.items()} for u, c in self._hours.items()},
                "newest": self.newest}  # fmt: skip

    def absorb(self, exported: dict[str, Any]) -> None:
        """Add another trend's :meth:`export` to this one's counters (no pruning: it is a view)."""
        for unit, counts in exported["hours"].items():
            mine = self._hours.setdefault(unit, {})
            for hour, n in counts.items():
                mine[int(hour)] = mine.get(int(hour), 0) + n
        newest = exported["newest"]
        if newest is not None and (self.newest is None or newest > self.newest):
            self.newest = newest

    def count(self, unit: str, start: float, end: float) -> int:
        """Alerts of ``unit`` in the whole hours from ``start`` (inclusive) to ``end`` (exclusive)."""
        counts = self._hours.get(unit)
        if not counts:
            return 0
        return sum(counts.get(h, 0) for h in range(int(start // _HOUR), int(end // _HOUR)))

    def series(self, unit: str, now: float, tz_offset_s: float) -> dict[str, Any]:
        """The last 24 hours and the last 14 days (local days, ``tz_offset_s`` east of UTC) up to ``now``.

        Each bucket is ``{"start": POSIX seconds, "count": n}``; the last bucket holds ``now``.
        """
        this_hour = (now // _HOUR) * _HOUR
        hours = [this_hour - _HOUR * i for i in range(23, -1, -1)]
        today = ((now + tz_offset_s) // _DAY) * _DAY - tz_offset_s
        days = [today - _DAY * i for i in range(13, -1, -1)]
        return {
            "hours": [{"start": h, "count": self.count(unit, h, h + _HOUR)} for h in hours],
            "days": [{"start": d, "count": self.count(unit, d, d + _DAY)} for d in days],
        }
