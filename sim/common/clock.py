"""The simulation clock: SimPy seconds on one side, calendar instants on the other.

SimPy counts whole wall-clock seconds since the run's start (midnight of the first day);
people in the hall work only in working time. A wait of *w* working seconds that begins at
SimPy time *t* therefore lasts ``calendar.add_working(dt(t), w) - dt(t)`` of SimPy time,
rounded up to a whole second so that every event timestamp is a whole second and no
working wait ends early. Waits that would run past the calendar's covered years end after
the horizon instead: nothing beyond the horizon is ever emitted.

Why a table of days: every wait of every case goes through :meth:`SimClock.delay`, and
doing it with ``datetime`` objects (build the instant, locate it, bisect, build the end
instant, subtract) cost more than the SimPy kernel itself. The clock keeps, for each day
from the run's start to the calendar's last day, the working index at local midnight, the
working flag and the epoch second of midnight, so a wait is a few float operations on SimPy
seconds and no ``datetime`` is made until an event is stamped (:meth:`SimClock.dt`). The
arithmetic repeats the calendar's own, step for step, including ``datetime``'s rounding of
an instant to the microsecond, so each delay is the very integer the ``datetime`` route
gives; anything outside the table falls back to that route.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from datetime import datetime, time, timedelta

import numpy as np

from engine.contract.calendar import CalendarRangeError, WorkingCalendar

__all__ = ["SimClock"]

_DAY = 86400
_US = 1_000_000


def _seconds(t: time | datetime) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


class SimClock:
    """Converts between SimPy time (int seconds since ``start``) and calendar instants."""

    __slots__ = (
        "_beyond",
        "_cum",
        "_dt_t",
        "_dt_v",
        "_epoch",
        "_first_x",
        "_last_x",
        "_ndays",
        "_p_cum_end",
        "_p_cum_start",
        "_p_lens",
        "_p_starts",
        "_s0",
        "_start_epoch",
        "_work",
        "calendar",
        "day_seconds",
        "end",
        "start",
    )

    def __init__(self, calendar: WorkingCalendar, start: datetime, end: datetime) -> None:
        self.calendar = calendar
        self.start = start.astimezone(calendar.tz)
        self.end = end.astimezone(calendar.tz)
        self.day_seconds = calendar.day_seconds
        self._beyond = int((self.end - self.start).total_seconds()) + 1
        self._dt_t: float = 0
        self._dt_v = self.start
        self._build_tables()

    def _build_tables(self) -> None:
        """Per-day tables from the start's day to the calendar's last day (empty if outside)."""
        cal, start = self.calendar, self.start
        self._s0 = _seconds(start) + start.microsecond / _US  # SimPy 0 is this far past midnight
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        # a calendar with the weekdays fallback reaches decades past its covered years: table
        # only as far as the run goes, so the years it records as assumed are the run's own
        last = min(cal.last, max(cal.covered_last, self.end.date()))
        ndays = max((last - start.date()).days + 1, 0) if cal.first <= start.date() else 0
        self._ndays = ndays
        self._start_epoch = round(start.timestamp() * _US)  # in microseconds, exact
        epoch0 = round(midnight.timestamp())
        epochs = epoch0 + _DAY * np.arange(ndays, dtype=np.int64)
        cum = cal.to_index_many(epochs) if ndays else np.zeros(0)
        self._cum: list[float] = cum.tolist()
        self._epoch: list[float] = epochs.astype(np.float64).tolist()
        day0 = start.date()
        self._work: list[bool] = [cal.is_working_day(day0 + timedelta(days=k)) for k in range(ndays)]
        self._first_x = self._cum[0] if ndays else math.inf
        self._last_x = self._cum[-1] if ndays else -math.inf
        spans = [(_seconds(a), _seconds(b)) for a, b in cal.periods]
        lens = [float(b - a) for a, b in spans]
        cum_end = np.cumsum(lens)
        self._p_starts = [float(a) for a, _ in spans]
        self._p_lens = lens
        self._p_cum_end: list[float] = cum_end.tolist()
        self._p_cum_start: list[float] = (cum_end - lens).tolist()

    def dt(self, t: float) -> datetime:
        """The instant of SimPy time ``t`` (whole seconds, the calendar's timezone).

        Remembers the last answer: the records of one moment (a step completed and the
        next one started, a certificate, its fee and the closure) share it."""
        if t == self._dt_t:
            return self._dt_v
        v = self.start + timedelta(0, t)
        self._dt_t, self._dt_v = t, v
        return v

    def at(self, when: datetime) -> int:
        """SimPy time of an instant, rounded up to the whole second."""
        return math.ceil((when - self.start).total_seconds())

    def index(self, t: float) -> float:
        """Working-time index (see :meth:`WorkingCalendar.to_index`) of SimPy time ``t``."""
        local = t + self._s0
        k = int(local // _DAY)
        if not 0 <= k < self._ndays:
            return self.calendar.to_index(self.start + timedelta(seconds=t))
        x = self._cum[k]
        if self._work[k]:
            s = local - k * _DAY
            j = bisect_right(self._p_starts, s) - 1
            if j >= 0:
                d = s - self._p_starts[j]
                w = self._p_lens[j]
                return x + self._p_cum_start[j] + (d if d < w else w)
        return x

    def until_index(self, t: float, x: float) -> int:
        """SimPy delay from ``t`` to the earliest instant whose working index is ``x`` (>= 0)."""
        cum = self._cum
        if self._first_x < x <= self._last_x:
            # as WorkingCalendar.from_index: the day whose end reaches x, then the period
            k = bisect_left(cum, x) - 1
            r = x - cum[k]
            j = bisect_left(self._p_cum_end, r)
            # as datetime.fromtimestamp: the epoch instant, rounded half-even to the microsecond
            e = self._epoch[k] + (self._p_starts[j] + (r - self._p_cum_start[j]))
            whole = math.floor(e)
            total_us = whole * _US + round((e - whole) * _US) - self._start_epoch
            return max(math.ceil(total_us / _US - t), 0)
        try:
            u = self.calendar.from_index(x)
        except CalendarRangeError:
            return max(self._beyond - int(t), 0)
        return max(math.ceil((u - self.start).total_seconds() - t), 0)

    def delay(self, t: float, work_s: float) -> int:
        """SimPy delay of ``work_s`` working seconds starting at SimPy time ``t``.

        :meth:`index` and :meth:`until_index` fused by hand: every wait of every case comes
        through here, and the call between them was a fifth of the cost."""
        local = t + self._s0
        k = int(local // _DAY)
        if 0 <= k < self._ndays:
            cum = self._cum
            x = cum[k]
            if self._work[k]:
                s = local - k * _DAY
                starts = self._p_starts
                j = bisect_right(starts, s) - 1
                if j >= 0:
                    d = s - starts[j]
                    w = self._p_lens[j]
                    x = x + self._p_cum_start[j] + (d if d < w else w)
            x += work_s
            if self._first_x < x <= self._last_x:
                k = bisect_left(cum, x) - 1
                r = x - cum[k]
                j = bisect_left(self._p_cum_end, r)
                e = self._epoch[k] + (self._p_starts[j] + (r - self._p_cum_start[j]))
                whole = math.floor(e)
                total_us = whole * _US + round((e - whole) * _US) - self._start_epoch
                return max(math.ceil(total_us / _US - t), 0)
            return self.until_index(t, x)
        try:
            x = self.index(t)
        except CalendarRangeError:
            return max(self._beyond - int(t), 0)
        return self.until_index(t, x + work_s)

    def shift_working(self, when: datetime, work_s: float) -> datetime:
        """``when`` moved back by ``work_s`` working seconds (for back-dated records)."""
        cal = self.calendar
        try:
            return cal.from_index(max(cal.to_index(when) - work_s, 0.0))
        except CalendarRangeError:
            return when - timedelta(seconds=work_s)
