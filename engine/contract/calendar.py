"""Working-day calendar: the clock that promised limits are counted on.

Working time is counted in seconds inside working periods (default 09:00-12:00 and
13:30-17:30, i.e. 7 h = 25,200 s per working day) on working days: Monday to Friday,
minus public holidays, plus make-up working days (调休). The China table ships as data
(``engine/contract/data/cn_calendar.json``, transcribed from the State Council General Office's
annual holiday notices) and covers whole years; instants outside it raise
:class:`CalendarRangeError` rather than silently guessing a future year's holidays.

All arithmetic goes through a precomputed cumulative index: ``to_index(t)`` is the number
of working seconds from the calendar's first day to ``t``; elapsed working time is a
difference of two indices and adding working time is an inverse lookup (bisect), so no
operation loops day by day. ``to_index`` is O(1): the day is found by its ordinal and the
position inside the day by a bisect over the (few) periods. It sits on the engine's hot
path, hence the hand-inlined arithmetic and the cache of the fixed UTC offsets callers use.

Semantics that sim (truth) and engine (rules) both rely on:

* ``working_seconds(a, b) == to_index(b) - to_index(a)`` (0 if ``b <= a``).
* ``add_working(t, s)``: the *earliest* instant ``u >= t`` with ``working_seconds(t, u) == s``.
* ``deadline(t, s)``: the *latest* such instant. A case with limit ``s`` started at ``t``
  is late iff it is finished at an instant ``> deadline(t, s)``. (If the earliest instant
  is the end of a working period, the deadline is the start of the next period: work
  finished at 17:45 on the last day is on time.)

Periods are half-open, ``[start, end)``: 12:00 is not working time, 13:30 is. Results are
exact for whole-second timestamps and whole-second amounts (floats hold every integer the
index can reach); sub-second inputs are accurate to the microsecond.

The calendar's timezone must keep one UTC offset over the covered range (true of
Asia/Shanghai since 1991): a daylight-saving jump inside a working period would make
"working seconds" and wall-clock periods disagree, and no supervised hall works that way.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from importlib import resources
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

__all__ = ["DEFAULT_PERIODS", "SHANGHAI", "CalendarRangeError", "WorkingCalendar"]

SHANGHAI: tzinfo = ZoneInfo("Asia/Shanghai")
DEFAULT_PERIODS: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13, 30), time(17, 30)))
_DAY = 86400
_UNIX_ORDINAL = date(1970, 1, 1).toordinal()


class CalendarRangeError(ValueError):
    """An instant outside the years the calendar covers."""


def _seconds(t: time) -> int:
    if t.tzinfo is not None or t.microsecond:
        raise ValueError(f"working period bound {t} must be a naive wall time in whole seconds")
    return t.hour * 3600 + t.minute * 60 + t.second


def _offset_seconds(off: timedelta) -> float:
    return off.days * _DAY + off.seconds + off.microseconds / 1_000_000


@lru_cache(maxsize=32)
def _fixed_offset(tz: tzinfo, first: date, last: date) -> float:
    """The calendar tz's one UTC offset over ``first..last`` (checked at every local noon and both ends)."""
    if isinstance(tz, timezone):
        return _offset_seconds(tz.utcoffset(None))
    probes = [datetime.combine(first, time(0), tzinfo=tz), datetime.combine(last, time.max, tzinfo=tz)]
    probes += (
        datetime.combine(date.fromordinal(o), time(12), tzinfo=tz)
        for o in range(first.toordinal(), last.toordinal() + 1)
    )
    offsets = {p.utcoffset() for p in probes}
    off = offsets.pop()
    if offsets or off is None:
        raise ValueError(f"timezone {tz} changes its UTC offset between {first} and {last}")
    return _offset_seconds(off)


@lru_cache(maxsize=1)
def _china_table() -> tuple[int, int, tuple[date, ...], tuple[date, ...]]:
    text = resources.files("engine.contract").joinpath("data/cn_calendar.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    hol = tuple(date.fromisoformat(d) for d in raw["holidays"])
    work = tuple(date.fromisoformat(d) for d in raw["workdays"])
    return int(raw["first_year"]), int(raw["last_year"]), hol, work


class WorkingCalendar:
    """Working time on a fixed set of days; immutable after construction."""

    day_seconds: int
    first: date
    last: date
    tz: tzinfo
    periods: tuple[tuple[time, time], ...]

    def __init__(
        self,
        *,
        first: date,
        last: date,
        periods: Iterable[tuple[time, time]] = DEFAULT_PERIODS,
        holidays: Iterable[date] = (),
        makeup_workdays: Iterable[date] = (),
        tz: tzinfo = SHANGHAI,
    ) -> None:
        if last < first:
            raise ValueError(f"calendar range is empty: {first}..{last}")
        self.periods = tuple(sorted((a, b) for a, b in periods))
        spans = [(_seconds(a), _seconds(b)) for a, b in self.periods]
        if not spans:
            raise ValueError("a calendar needs at least one working period")
        for k, (a, b) in enumerate(spans):
            if b <= a or (k and a < spans[k - 1][1]):
                raise ValueError(f"working periods must be non-empty and must not overlap: {self.periods}")
        self.first, self.last, self.tz = first, last, tz
        self._off = _fixed_offset(tz, first, last)
        self._o0 = first.toordinal()
        self._n = n = last.toordinal() - self._o0 + 1
        starts, lens = [float(a) for a, _ in spans], [float(b - a) for a, b in spans]
        ends = np.cumsum(lens)  # working seconds of a day up to the end of each period
        self._starts, self._ends = starts, [float(b) for _, b in spans]
        self._cum_end, self._cum_start = ends.tolist(), (ends - lens).tolist()
        self.day_seconds = int(ends[-1])
        self._period_np = (np.array(starts), ends, ends - lens, np.array(lens))

        hol, mk = set(holidays), set(makeup_workdays)
        if both := sorted(hol & mk):
            raise ValueError(f"dates both holiday and make-up working day: {both}")
        work = (np.arange(self._o0, self._o0 + n) + 6) % 7 < 5  # proleptic ordinal 1 is a Monday
        for days, value in ((hol, False), (mk, True)):
            idx = [d.toordinal() - self._o0 for d in days]
            work[[i for i in idx if 0 <= i < n]] = value
        cum = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(work * self.day_seconds, out=cum[1:])
        self._work: list[bool] = work.tolist()
        self._cum_np = cum.astype(np.float64)
        self._cum: list[float] = self._cum_np.tolist()
        self._work_np = work
        self._total = self._cum[-1]
        self._shifts: dict[tzinfo | None, float] = {tz: 0.0}  # fixed-offset tzinfos seen -> wall shift
        # to_index reads everything it needs from one tuple: attribute loads dominate its cost
        self._hot = (self._shifts, self._o0, n, self._work, self._cum, starts, self._cum_start, lens)

    @classmethod
    def china(
        cls,
        *,
        periods: Iterable[tuple[time, time]] = DEFAULT_PERIODS,
        extra_holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
        tz: tzinfo = SHANGHAI,
    ) -> WorkingCalendar:
        """The mainland China calendar over the shipped table's years.

        ``extra_holidays`` / ``extra_workdays`` override the table (a local closure, a day
        the hall opens anyway); a date given in both is an error.
        """
        first_year, last_year, hol, work = _china_table()
        xh, xw = set(extra_holidays), set(extra_workdays)
        if both := sorted(xh & xw):
            raise ValueError(f"dates both extra holiday and extra working day: {both}")
        return cls(
            first=date(first_year, 1, 1),
            last=date(last_year, 12, 31),
            periods=periods,
            holidays=(set(hol) - xw) | xh,
            makeup_workdays=(set(work) - xh) | xw,
            tz=tz,
        )

    def __repr__(self) -> str:
        return f"WorkingCalendar({self.first}..{self.last}, day_seconds={self.day_seconds}, tz={self.tz})"

    # -- locating instants -------------------------------------------------------------

    def _out_of_range(self, o: int) -> CalendarRangeError:
        d = date.fromordinal(o) if 1 <= o <= date.max.toordinal() else f"day ordinal {o}"
        return CalendarRangeError(f"{d} is outside the calendar's covered range {self.first}..{self.last}")

    def _shift(self, t: datetime) -> float:
        """Seconds to add to ``t``'s wall clock to read the calendar's wall clock."""
        tzi = t.tzinfo
        off = None if tzi is None else t.utcoffset()
        if off is None:
            raise ValueError(f"naive datetime {t}: the calendar needs timezone-aware instants")
        shift = self._off - _offset_seconds(off)
        if isinstance(tzi, timezone) and len(self._shifts) < 64:  # fixed offset: safe to remember
            self._shifts[tzi] = shift
        return shift

    def _locate(self, t: datetime) -> tuple[int, float]:
        """(day number from ``first``, seconds since local midnight) of an aware instant."""
        shift = self._shifts.get(t.tzinfo)
        if shift is None:
            shift = self._shift(t)
        s = t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1_000_000 + shift
        i = t.toordinal() - self._o0
        if s < 0 or s >= _DAY:
            q, s = divmod(s, _DAY)
            i += int(q)
        if not 0 <= i < self._n:
            raise self._out_of_range(i + self._o0)
        return i, s

    def _at(self, i: int, s: float) -> datetime:
        return datetime.fromtimestamp((self._o0 + i - _UNIX_ORDINAL) * _DAY - self._off + s, self.tz)

    # -- the public clock ----------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        i = d.toordinal() - self._o0
        if not 0 <= i < self._n:
            raise self._out_of_range(d.toordinal())
        return self._work[i]

    def is_working_time(self, t: datetime) -> bool:
        i, s = self._locate(t)
        j = bisect_right(self._starts, s)
        return self._work[i] and j > 0 and s < self._ends[j - 1]

    def to_index(self, t: datetime) -> float:
        """Working seconds from ``first`` 00:00 to ``t``: O(1), ``_locate`` inlined (hot path)."""
        shifts, o0, n, work, cum, starts, cum_start, lens = self._hot
        shift = shifts.get(t.tzinfo)
        if shift is None:
            shift = self._shift(t)
        s = t.hour * 3600 + t.minute * 60 + t.second + shift
        if t.microsecond:
            s += t.microsecond / 1_000_000
        i = t.toordinal() - o0
        if s < 0 or s >= _DAY:
            q, s = divmod(s, _DAY)
            i += int(q)
        if not 0 <= i < n:
            raise self._out_of_range(i + o0)
        if work[i]:
            j = bisect_right(starts, s) - 1
            if j >= 0:
                d = s - starts[j]
                w = lens[j]
                return cum[i] + cum_start[j] + (d if d < w else w)
        return cum[i]

    def from_index(self, x: float, *, latest: bool = False) -> datetime:
        """The earliest (or, with ``latest``, the latest) instant whose index is ``x``."""
        if not 0 <= x <= self._total or (latest and x == self._total):
            raise CalendarRangeError(
                f"working-time index {x} lies beyond the covered range {self.first}..{self.last}"
            )
        if not latest and x == 0:
            return self._at(0, 0.0)
        cum = self._cum
        if latest:  # first day whose end exceeds x, then first period whose end exceeds r
            i = bisect_right(cum, x) - 1
            r = x - cum[i]
            j = bisect_right(self._cum_end, r)
        else:  # first day whose end reaches x, then first period whose end reaches r
            i = bisect_left(cum, x) - 1
            r = x - cum[i]
            j = bisect_left(self._cum_end, r)
        return self._at(i, self._starts[j] + (r - self._cum_start[j]))

    def working_seconds(self, start: datetime, end: datetime) -> float:
        a, b = self.to_index(start), self.to_index(end)
        return b - a if end > start else 0.0

    def _start(self, start: datetime, seconds: float) -> float:
        if seconds < 0:
            raise ValueError(f"working seconds to add must be >= 0, got {seconds}")
        return self.to_index(start)

    def add_working(self, start: datetime, seconds: float) -> datetime:
        x = self._start(start, seconds)
        return start.astimezone(self.tz) if seconds == 0 else self.from_index(x + seconds)

    def deadline(self, start: datetime, seconds: float) -> datetime:
        x = self._start(start, seconds)
        if seconds == 0 and self.is_working_time(start):
            return start.astimezone(self.tz)
        return self.from_index(x + seconds, latest=True)

    def next_working_start(self, t: datetime) -> datetime:
        """``t`` itself inside working time, else the start of the next working period."""
        return self.deadline(t, 0)

    # -- vectorised batch helpers --------------------------------------------------------

    def to_index_many(self, ts: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """``to_index`` over an array of instants, for sweeps and the batch rule path.

        ``ts`` is either a ``numpy.datetime64`` array (any unit; numpy datetimes are naive,
        so they are read as UTC instants) or an array of Unix epoch seconds. Agrees exactly
        with :meth:`to_index` for whole-second instants.
        """
        a = np.asarray(ts)
        if a.dtype.kind == "M":
            if np.isnat(a).any():
                raise ValueError("NaT has no place on the working calendar")
            epoch = a.astype("datetime64[us]").astype(np.int64) / 1_000_000
        else:
            epoch = a.astype(np.float64)
        local = epoch + self._off
        day = np.floor(local / _DAY)
        i = day.astype(np.int64) - (self._o0 - _UNIX_ORDINAL)
        bad = (i < 0) | (i >= self._n)
        if bad.any():
            raise self._out_of_range(int(i[bad].flat[0]) + self._o0)
        secs = np.asarray(local - day * _DAY)
        starts, _, _, lens = self._period_np
        within = np.clip(secs[..., None] - starts, 0.0, lens).sum(axis=-1)
        return np.asarray(self._cum_np[i] + np.where(self._work_np[i], within, 0.0), dtype=np.float64)

    def deadline_many(self, start_index: npt.ArrayLike, seconds: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """``deadline`` over arrays: from start indices (see :meth:`to_index_many`) and
        working-second amounts (broadcast together) to deadlines as Unix epoch seconds.

        Same latest-instant rule as :meth:`deadline`, so a batch sweep and the streaming
        engine put every deadline on the same instant.
        """
        sec = np.asarray(seconds, dtype=np.float64)
        if (sec < 0).any():
            raise ValueError("working seconds to add must be >= 0")
        x = np.asarray(start_index, dtype=np.float64) + sec
        if ((x < 0) | (x >= self._total)).any():
            raise CalendarRangeError(
                f"a deadline falls outside the calendar's covered range {self.first}..{self.last}"
            )
        i = np.searchsorted(self._cum_np, x, side="right") - 1
        r = x - self._cum_np[i]
        starts, cum_end, cum_start, _ = self._period_np
        j = np.searchsorted(cum_end, r, side="right")
        secs = starts[j] + (r - cum_start[j])
        return np.asarray((self._o0 + i - _UNIX_ORDINAL) * float(_DAY) - self._off + secs, dtype=np.float64)

    def from_index_many(self, x: npt.ArrayLike, *, latest: bool = False) -> npt.NDArray[np.float64]:
        """``from_index`` over an array of working-time indices, as Unix epoch seconds.

        Same earliest / latest rule and the same range errors as :meth:`from_index`, so a
        whole run's arrivals can be placed on the calendar in one pass instead of one
        ``datetime`` per arrival. Agrees exactly with ``from_index(x).timestamp()`` for
        whole-second indices.
        """
        xs = np.asarray(x, dtype=np.float64)
        if ((xs < 0) | (xs > self._total) | (np.isnan(xs))).any() or (latest and (xs == self._total).any()):
            raise CalendarRangeError(
                f"a working-time index lies beyond the covered range {self.first}..{self.last}"
            )
        side: Literal["left", "right"] = "right" if latest else "left"
        i = np.searchsorted(self._cum_np, xs, side=side) - 1
        first = i < 0  # only x == 0 without ``latest``: midnight of the first day
        i = np.maximum(i, 0)
        r = xs - self._cum_np[i]
        starts, cum_end, cum_start, _ = self._period_np
        j = np.minimum(np.searchsorted(cum_end, r, side=side), len(cum_end) - 1)
        secs = np.where(first, 0.0, starts[j] + (r - cum_start[j]))
        return np.asarray((self._o0 + i - _UNIX_ORDINAL) * float(_DAY) - self._off + secs, dtype=np.float64)
