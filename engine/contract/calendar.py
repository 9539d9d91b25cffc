"""Working-day calendar: the clock that promised limits are counted on.

Working time is counted in seconds inside working periods (default 09:00-12:00 and
13:30-17:30, i.e. 7 h = 25,200 s per working day) on working days: Monday to Friday,
minus public holidays, plus make-up working days (调休). The China arrangements ship as data,
one YAML file per year (``engine/contract/data/holidays/YYYY.yaml``, transcribed from the State
Council General Office's annual holiday notices; users add years with their own files, see
:mod:`engine.contract.holidays`). An instant outside the covered years raises
:class:`CalendarRangeError`, naming the year and how to add it, rather than silently guessing a
future year's holidays.

The one explicit alternative is ``beyond_range="weekdays"``: the calendar then counts years
outside the covered range (up to :data:`FALLBACK_YEARS` either side, as far as the time zone
keeps one UTC offset) as plain Monday-Friday weeks, and remembers which of those years it was
asked about (:attr:`WorkingCalendar.years_assumed`), so that every output can say so.
``first`` / ``last`` are the days the calendar can count on; ``covered_first`` /
``covered_last`` the days whose holiday arrangement is known (the same without the fallback).

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

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from engine.contract.holidays import BeyondRange, HolidayTable, how_to_add, load_holiday_table

__all__ = ["DEFAULT_PERIODS", "FALLBACK_YEARS", "SHANGHAI", "CalendarRangeError", "WorkingCalendar"]

SHANGHAI: tzinfo = ZoneInfo("Asia/Shanghai")
DEFAULT_PERIODS: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13, 30), time(17, 30)))
_DAY = 86400
_UNIX_ORDINAL = date(1970, 1, 1).toordinal()
#: How many years either side of the covered range ``beyond_range="weekdays"`` reaches.
FALLBACK_YEARS = 50


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


def _monthly_offsets(tz: tzinfo, years: Iterable[int]) -> Iterator[tuple[int, timedelta | None]]:
    for y in years:
        offs = {datetime(y, m, d, 12, tzinfo=tz).utcoffset() for m in range(1, 13) for d in (1, 15)}
        yield y, (offs.pop() if len(offs) == 1 else None)


@lru_cache(maxsize=32)
def _fallback_span(tz: tzinfo, first: date, last: date, years: int) -> tuple[date, date]:
    """Whole years around ``first..last``, up to ``years`` either side, with the tz's one offset.

    Probed twice a month (a daylight-saving period lasts months), then checked day by day by
    :func:`_fixed_offset`. Asia/Shanghai kept daylight saving until 1991, so its fallback
    starts in 1992.
    """
    ref = datetime.combine(first, time(12), tzinfo=tz).utcoffset()
    lo, hi = first.year, last.year
    for y, off in _monthly_offsets(tz, range(first.year - 1, max(first.year - years, 1) - 1, -1)):
        if off != ref:
            break
        lo = y
    for y, off in _monthly_offsets(tz, range(last.year + 1, min(last.year + years, 9998) + 1)):
        if off != ref:
            break
        hi = y
    return date(lo, 1, 1), date(hi, 12, 31)


class WorkingCalendar:
    """Working time on a fixed set of days.

    Its answers never change after construction; the only state it keeps is which uncovered
    years the ``weekdays`` fallback was asked about (:attr:`years_assumed`).
    """

    day_seconds: int
    first: date
    last: date
    covered_first: date
    covered_last: date
    beyond_range: BeyondRange
    tz: tzinfo
    periods: tuple[tuple[time, time], ...]
    #: the holiday table a :meth:`china` calendar was built from (None for a hand-made calendar)
    holiday_table: HolidayTable | None = None

    def __init__(
        self,
        *,
        first: date,
        last: date,
        periods: Iterable[tuple[time, time]] = DEFAULT_PERIODS,
        holidays: Iterable[date] = (),
        makeup_workdays: Iterable[date] = (),
        tz: tzinfo = SHANGHAI,
        beyond_range: BeyondRange = "error",
    ) -> None:
        """A calendar whose holidays are known on ``first..last``.

        With ``beyond_range="weekdays"`` it also counts the years around that range (see the
        module docstring) as Monday-Friday weeks; ``holidays`` and ``makeup_workdays`` given
        there still apply (they are explicit).
        """
        if last < first:
            raise ValueError(f"calendar range is empty: {first}..{last}")
        if beyond_range not in ("error", "weekdays"):
            raise ValueError(f"beyond_range must be 'error' or 'weekdays', got {beyond_range!r}")
        self.covered_first, self.covered_last, self.beyond_range = first, last, beyond_range
        if beyond_range == "weekdays":
            first, last = _fallback_span(tz, first, last, FALLBACK_YEARS)
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
        self._starts, self._ends, self._lens = starts, [float(b) for _, b in spans], lens
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
        # day numbers [lo, hi) have a known arrangement; outside, only the fallback counts them
        self._lo = lo = self.covered_first.toordinal() - self._o0
        self._hi = hi = self.covered_last.toordinal() - self._o0 + 1
        self._seen = [lo, hi - 1]  # lowest and highest day number asked about (fallback bookkeeping)

    @classmethod
    def china(
        cls,
        *,
        periods: Iterable[tuple[time, time]] = DEFAULT_PERIODS,
        extra_holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
        tz: tzinfo = SHANGHAI,
        holiday_files: Sequence[str | Path] = (),
        beyond_range: BeyondRange = "error",
    ) -> WorkingCalendar:
        """The mainland China calendar over the shipped years plus ``holiday_files``.

        ``holiday_files`` (files or directories of YAML arrangements) add or replace years and
        carry local amendments (:func:`engine.contract.holidays.load_holiday_table`).
        ``extra_holidays`` / ``extra_workdays`` override the result (a local closure, a day
        the hall opens anyway); a date given in both is an error.
        """
        table = load_holiday_table(holiday_files)
        xh, xw = set(extra_holidays), set(extra_workdays)
        if both := sorted(xh & xw):
            days = ", ".join(d.isoformat() for d in both)
            raise ValueError(f"listed both in extra_holidays and in extra_workdays: {days}")
        cal = cls(
            first=date(table.first_year, 1, 1),
            last=date(table.last_year, 12, 31),
            periods=periods,
            holidays=(table.holidays - xw) | xh,
            makeup_workdays=(table.workdays - xh) | xw,
            tz=tz,
            beyond_range=beyond_range,
        )
        cal.holiday_table = table
        return cal

    def __repr__(self) -> str:
        fallback = f", beyond_range={self.beyond_range}" if self.beyond_range != "error" else ""
        return (
            f"WorkingCalendar({self.covered_first}..{self.covered_last}{fallback}, "
            f"day_seconds={self.day_seconds}, tz={self.tz})"
        )

    # -- what the calendar assumed -----------------------------------------------------

    @property
    def years_assumed(self) -> tuple[int, ...]:
        """Uncovered years counted as plain weekdays so far: every year between the covered
        range and the farthest instant asked about (a difference of two indices spans them)."""
        lo_day, hi_day = self._seen
        before = range(date.fromordinal(self._o0 + lo_day).year, self.covered_first.year)
        after = range(self.covered_last.year + 1, date.fromordinal(self._o0 + hi_day).year + 1)
        return (*before, *after)

    def coverage(self) -> dict[str, Any]:
        """What every output reports: covered years, the fallback, years it assumed, user years."""
        out: dict[str, Any] = {
            "covered": f"{self.covered_first.year}..{self.covered_last.year}",
            "beyond_range": self.beyond_range,
            "years_assumed": list(self.years_assumed),
        }
        if self.holiday_table is not None:
            out["years_from_user_files"] = self.holiday_table.user_years()
            out["holiday_files"] = self.holiday_table.file_refs()
        return out

    def _beyond(self, i: int) -> None:
        """Day number ``i`` lies outside the covered range: note it, or raise."""
        if self.beyond_range == "error" or not 0 <= i < self._n:
            raise self._out_of_range(i + self._o0)
        seen = self._seen
        if i < seen[0]:
            seen[0] = i
        elif i > seen[1]:
            seen[1] = i

    def _note_many(self, i: npt.NDArray[np.int64]) -> None:
        outside = (i < self._lo) | (i >= self._hi)
        if outside.any():
            for k in (int(i[outside].min()), int(i[outside].max())):
                self._beyond(k)

    # -- locating instants -------------------------------------------------------------

    def _out_of_range(self, o: int) -> CalendarRangeError:
        if not 1 <= o <= date.max.toordinal():
            return CalendarRangeError(
                f"day ordinal {o} is outside the calendar's covered range {self._span()}"
            )
        d = date.fromordinal(o)
        if self.beyond_range == "weekdays":
            return CalendarRangeError(
                f"{d} is outside the calendar's range {self.first}..{self.last} (holiday arrangements "
                f"cover {self.covered_first}..{self.covered_last}; --beyond-range weekdays reaches "
                f"{FALLBACK_YEARS} years either side, as far as the time zone keeps one UTC offset)"
            )
        return CalendarRangeError(
            f"{d} is outside the calendar's covered range {self.first}..{self.last}: {how_to_add(d.year)}"
        )

    def _span(self) -> str:
        return f"{self.first}..{self.last}"

    def _index_error(self, x: float, what: str) -> CalendarRangeError:
        """An index beyond the array: name the year just past the end it fell off."""
        year = self.last.year + 1 if not x < 0 else self.first.year - 1
        tail = how_to_add(year) if self.beyond_range == "error" else "beyond the fallback's reach"
        return CalendarRangeError(f"{what} lies beyond the covered range {self._span()}: {tail}")

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
        s = t.hour * 3600 + t.minute * 60 + t.second + shift  # whole seconds: exact
        if t.microsecond:
            s += t.microsecond / 1_000_000
        i = t.toordinal() - self._o0
        if s < 0 or s >= _DAY:
            q, s = divmod(s, _DAY)
            i += int(q)
        if not self._lo <= i < self._hi:
            self._beyond(i)
        return i, s

    def _at(self, i: int, s: float) -> datetime:
        return datetime.fromtimestamp((self._o0 + i - _UNIX_ORDINAL) * _DAY - self._off + s, self.tz)

    # -- the public clock ----------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        i = d.toordinal() - self._o0
        if not self._lo <= i < self._hi:
            self._beyond(i)
        return self._work[i]

    def is_working_time(self, t: datetime) -> bool:
        i, s = self._locate(t)
        j = bisect_right(self._starts, s)
        return self._work[i] and j > 0 and s < self._ends[j - 1]

    def to_index(self, t: datetime) -> float:
        """Working seconds from ``first`` 00:00 to ``t``: O(1) (a day's cumulative sum, one bisection)."""
        i, s = self._locate(t)
        if self._work[i]:
            starts = self._starts
            j = bisect_right(starts, s) - 1
            if j >= 0:
                d = s - starts[j]
                w = self._lens[j]
                return self._cum[i] + self._cum_start[j] + (d if d < w else w)
        return self._cum[i]

    def from_index(self, x: float, *, latest: bool = False) -> datetime:
        """The earliest (or, with ``latest``, the latest) instant whose index is ``x``."""
        if not 0 <= x <= self._total or (latest and x == self._total):
            raise self._index_error(x, f"working-time index {x}")
        if not latest and x == 0:
            if self._lo > 0:
                self._beyond(0)
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
        if not self._lo <= i < self._hi:
            self._beyond(i)
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
        bad = (i < self._lo) | (i >= self._hi)
        if bad.any():
            if self.beyond_range == "error":
                raise self._out_of_range(int(i[bad].flat[0]) + self._o0)
            self._note_many(i)
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
            worst = float(x[(x < 0) | (x >= self._total)].flat[0])
            raise self._index_error(worst, "a deadline")
        i = np.searchsorted(self._cum_np, x, side="right") - 1
        if self.beyond_range != "error":
            self._note_many(i)
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
            bad = xs[(xs < 0) | (xs >= self._total) | np.isnan(xs)]
            raise self._index_error(float(bad.flat[0]) if bad.size else self._total, "a working-time index")
        side: Literal["left", "right"] = "right" if latest else "left"
        i = np.searchsorted(self._cum_np, xs, side=side) - 1
        first = i < 0  # only x == 0 without ``latest``: midnight of the first day
        i = np.maximum(i, 0)
        if self.beyond_range != "error":
            self._note_many(i)
        r = xs - self._cum_np[i]
        starts, cum_end, cum_start, _ = self._period_np
        j = np.minimum(np.searchsorted(cum_end, r, side=side), len(cum_end) - 1)
        secs = np.where(first, 0.0, starts[j] + (r - cum_start[j]))
        return np.asarray((self._o0 + i - _UNIX_ORDINAL) * float(_DAY) - self._off + secs, dtype=np.float64)
