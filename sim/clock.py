"""The simulation clock: SimPy seconds on one side, calendar instants on the other.

SimPy counts whole wall-clock seconds since the run's start (midnight of the first day);
people in the hall work only in working time. A wait of *w* working seconds that begins at
SimPy time *t* therefore lasts ``calendar.add_working(dt(t), w) - dt(t)`` of SimPy time,
rounded up to a whole second so that every event timestamp is a whole second and no
working wait ends early. Waits that would run past the calendar's covered years end after
the horizon instead: nothing beyond the horizon is ever emitted.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from engine.calendar import CalendarRangeError, WorkingCalendar

__all__ = ["SimClock"]


class SimClock:
    """Converts between SimPy time (int seconds since ``start``) and calendar instants."""

    __slots__ = ("_beyond", "calendar", "day_seconds", "end", "start")

    def __init__(self, calendar: WorkingCalendar, start: datetime, end: datetime) -> None:
        self.calendar = calendar
        self.start = start.astimezone(calendar.tz)
        self.end = end.astimezone(calendar.tz)
        self.day_seconds = calendar.day_seconds
        self._beyond = int((self.end - self.start).total_seconds()) + 1

    def dt(self, t: float) -> datetime:
        """The instant of SimPy time ``t`` (whole seconds, the calendar's timezone)."""
        return self.start + timedelta(seconds=t)

    def at(self, when: datetime) -> int:
        """SimPy time of an instant, rounded up to the whole second."""
        return math.ceil((when - self.start).total_seconds())

    def index(self, t: float) -> float:
        """Working-time index (see :meth:`WorkingCalendar.to_index`) of SimPy time ``t``."""
        return self.calendar.to_index(self.start + timedelta(seconds=t))

    def until_index(self, t: float, x: float) -> int:
        """SimPy delay from ``t`` to the earliest instant whose working index is ``x`` (>= 0)."""
        try:
            u = self.calendar.from_index(x)
        except CalendarRangeError:
            return max(self._beyond - int(t), 0)
        return max(math.ceil((u - self.start).total_seconds() - t), 0)

    def delay(self, t: float, work_s: float) -> int:
        """SimPy delay of ``work_s`` working seconds starting at SimPy time ``t``."""
        try:
            x = self.calendar.to_index(self.start + timedelta(seconds=t))
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
