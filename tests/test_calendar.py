"""The working-day calendar: China table, hand-worked cases, and properties checked
against a slow period-by-period reference that is obviously correct."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine.contract.holidays as holmod
from engine.contract.calendar import DEFAULT_PERIODS, SHANGHAI, CalendarRangeError, WorkingCalendar
from engine.contract.holidays import load_holiday_table

H = 3600
DAY = 7 * H
CAL = WorkingCalendar.china()
TABLE = load_holiday_table()  # the shipped per-year YAML files
ZONES: list[tzinfo] = [
    SHANGHAI,
    UTC,
    timezone(timedelta(hours=8)),
    timezone(timedelta(hours=-5, minutes=-30)),
]


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=SHANGHAI)


# -- the slow reference: walk working periods one by one ---------------------------------


class Reference:
    def __init__(self, cal: WorkingCalendar, holidays: set[date], workdays: set[date]) -> None:
        self.cal, self.holidays, self.workdays = cal, holidays, workdays

    def working_day(self, d: date) -> bool:
        return d in self.workdays or (d not in self.holidays and d.weekday() < 5)

    def intervals(self, t: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working periods ending after ``t``, in order; stops at the calendar's last day."""
        d = t.astimezone(self.cal.tz).date() - timedelta(days=1)
        while d <= self.cal.last:
            if self.working_day(d):
                for a, b in self.cal.periods:
                    lo, hi = (datetime.combine(d, x, tzinfo=self.cal.tz) for x in (a, b))
                    if hi > t:
                        yield lo, hi
            d += timedelta(days=1)

    def working_seconds(self, a: datetime, b: datetime) -> float:
        total = 0.0
        for lo, hi in self.intervals(a):
            if lo >= b:
                break
            total += max(0.0, (min(hi, b) - max(lo, a)).total_seconds())
        return total

    def walk(self, t: datetime, s: float, *, latest: bool) -> datetime:
        if s == 0 and not latest:
            return t
        for lo, hi in self.intervals(t):
            cur = max(lo, t)
            avail = (hi - cur).total_seconds()
            if s < avail or (s == avail and not latest):
                return cur + timedelta(seconds=s)
            s -= avail
        raise CalendarRangeError("ran off the calendar")

    def is_working_time(self, t: datetime) -> bool:
        lo, hi = next(self.intervals(t))
        return lo <= t < hi


REF = Reference(CAL, set(TABLE.holidays), set(TABLE.workdays))


def boundary_seconds(periods: tuple[tuple[time, time], ...]) -> list[int]:
    out = {0, 86399}
    for p in periods:
        for x in p:
            s = x.hour * H + x.minute * 60 + x.second
            out |= {s - 1, s, s + 1}
    return sorted(x for x in out if 0 <= x < 86400)


@st.composite
def instants(
    draw: st.DrawFn, lo: date = date(2024, 12, 20), hi: date = date(2026, 6, 30), cal: WorkingCalendar = CAL
) -> datetime:
    """Whole-second instants, dense around period bounds, in assorted timezones."""
    day = draw(st.dates(lo, hi))
    tod = draw(st.one_of(st.sampled_from(boundary_seconds(cal.periods)), st.integers(0, 86399)))
    t = datetime.combine(day, time(), tzinfo=cal.tz) + timedelta(seconds=tod)
    return t.astimezone(draw(st.sampled_from(ZONES)))


amounts = st.one_of(
    st.integers(0, 30 * DAY),
    st.integers(0, 20).map(lambda k: k * DAY),
    st.sampled_from([0, 1, H, 3 * H, 3 * H + 1, 7 * H - 1]),
)


# -- the shipped table -------------------------------------------------------------------


def test_table_matches_chinesecalendar() -> None:
    cc = pytest.importorskip("chinese_calendar")
    covered = range(TABLE.first_year, TABLE.last_year + 1)
    assert TABLE.holidays == {d for d in cc.holidays if d.year in covered}
    assert TABLE.workdays == {d for d in cc.workdays if d.year in covered}
    assert (CAL.first, CAL.last) == (date(TABLE.first_year, 1, 1), date(TABLE.last_year, 12, 31))
    d = CAL.first
    while d <= CAL.last:
        assert CAL.is_working_day(d) == cc.is_workday(d), d
        d += timedelta(days=1)


def test_table_loads_without_chinesecalendar(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "chinese_calendar", None)  # any import of it now fails
    holmod.shipped_arrangements.cache_clear()
    assert not WorkingCalendar.china().is_working_day(date(2025, 10, 1))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2025-01-24", True), ("2025-01-25", False), ("2025-01-26", True), ("2025-01-27", True),
        ("2025-01-28", False), ("2025-01-31", False), ("2025-02-04", False), ("2025-02-05", True),
        ("2025-02-08", True), ("2025-02-09", False),
        ("2025-09-27", False), ("2025-09-28", True), ("2025-09-30", True), ("2025-10-01", False),
        ("2025-10-08", False), ("2025-10-09", True), ("2025-10-11", True), ("2025-10-12", False),
        ("2026-01-01", False), ("2026-01-04", True), ("2026-02-14", True), ("2026-02-15", False),
        ("2026-02-23", False), ("2026-02-24", True), ("2026-02-28", True), ("2026-03-01", False),
    ],
)  # fmt: skip
def test_holidays_and_makeup_days(day: str, working: bool) -> None:
    assert CAL.is_working_day(date.fromisoformat(day)) is working


# -- hand-worked cases -------------------------------------------------------------------


def test_deadline_across_lunch_weekend_holiday_and_makeup_saturday() -> None:
    start = sh(2025, 9, 26, 11)  # Fri: 1 h + 4 h, Sat off, Sun 28 make-up, Mon, Tue, 1-8 Oct off
    assert CAL.working_seconds(start, sh(2025, 10, 9, 9)) == 5 * H + 3 * DAY
    assert CAL.add_working(start, 6 * DAY) == sh(2025, 10, 11, 11) == CAL.deadline(start, 6 * DAY)
    assert CAL.add_working(sh(2025, 3, 3, 11), 2 * H) == sh(2025, 3, 3, 14, 30)  # over lunch
    jan = sh(2025, 1, 24, 16)  # Fri 1.5 h, Sun 26 and Mon 27 working, 28 Jan-4 Feb off
    assert CAL.add_working(jan, 3 * DAY) == sh(2025, 2, 5, 16)
    assert CAL.add_working(sh(2025, 2, 7, 9), DAY + H) == sh(2025, 2, 8, 10)  # make-up Saturday


def test_2026_examples() -> None:
    assert CAL.add_working(sh(2025, 12, 31, 17), H) == sh(2026, 1, 4, 9, 30)  # New Year, Sunday make-up
    spring = sh(2026, 2, 13, 9)
    assert CAL.add_working(spring, 2 * DAY) == sh(2026, 2, 14, 17, 30)
    assert CAL.deadline(spring, 2 * DAY) == sh(2026, 2, 24, 9)
    assert CAL.working_seconds(spring, sh(2026, 3, 2, 9)) == 7 * DAY  # 13, 14, 24, 25, 26, 27, 28 Feb


def test_end_of_period_rule() -> None:
    mon = sh(2025, 3, 3, 9)
    assert CAL.add_working(mon, DAY) == sh(2025, 3, 3, 17, 30)
    assert CAL.deadline(mon, DAY) == sh(2025, 3, 4, 9)
    assert CAL.working_seconds(mon, sh(2025, 3, 3, 17, 45)) == DAY  # finished 17:45: on time
    assert CAL.working_seconds(mon, sh(2025, 3, 4, 9, 0, 1)) == DAY + 1  # one second late
    assert (CAL.add_working(mon, 3 * H), CAL.deadline(mon, 3 * H)) == (
        sh(2025, 3, 3, 12),
        sh(2025, 3, 3, 13, 30),
    )
    assert CAL.deadline(sh(2025, 3, 7, 9), DAY) == sh(2025, 3, 10, 9)  # Friday -> Monday
    assert CAL.deadline(sh(2025, 9, 30, 9), DAY) == sh(2025, 10, 9, 9)  # eve of National Day
    assert CAL.add_working(mon, DAY + 1) == CAL.deadline(mon, DAY + 1) == sh(2025, 3, 4, 9, 0, 1)


def test_acceptance_outside_working_hours() -> None:
    sat = sh(2025, 3, 8, 10)
    assert CAL.working_seconds(sat, sh(2025, 3, 10, 9)) == 0
    assert CAL.add_working(sat, DAY) == sh(2025, 3, 10, 17, 30)
    assert CAL.deadline(sat, DAY) == sh(2025, 3, 11, 9)
    assert CAL.next_working_start(sat) == sh(2025, 3, 10, 9)
    assert CAL.deadline(sh(2025, 3, 3, 20), H) == sh(2025, 3, 4, 10)
    assert CAL.add_working(sat, 0) == sat and CAL.deadline(sat, 0) == sh(2025, 3, 10, 9)
    lunch = sh(2025, 3, 3, 12, 30)
    assert CAL.next_working_start(lunch) == sh(2025, 3, 3, 13, 30)
    assert CAL.next_working_start(sh(2025, 3, 3, 10, 15)) == sh(2025, 3, 3, 10, 15)
    flags = [
        CAL.is_working_time(sh(2025, 3, 3, h, m)) for h, m in [(8, 59), (9, 0), (12, 0), (13, 30), (17, 30)]
    ]
    assert flags == [False, True, False, True, False]


def test_timezones_naive_and_range() -> None:
    t = sh(2025, 3, 3, 10)
    assert CAL.to_index(t.astimezone(UTC)) == CAL.to_index(t) == CAL.to_index(t.astimezone(ZONES[3]))
    out = CAL.deadline(t.astimezone(UTC), DAY)
    assert out == sh(2025, 3, 4, 10) and out.utcoffset() == timedelta(hours=8)
    assert CAL.to_index(datetime(2003, 12, 31, 16, tzinfo=UTC)) == 0.0  # 2004-01-01 00:00 local
    with pytest.raises(ValueError, match="naive"):
        CAL.to_index(datetime(2025, 3, 3, 10))
    with pytest.raises(CalendarRangeError, match=r"2027-01-01 .*2004-01-01\.\.2026-12-31"):
        CAL.to_index(datetime(2026, 12, 31, 16, tzinfo=UTC))
    with pytest.raises(CalendarRangeError, match="2003-12-31"):
        CAL.working_seconds(sh(2003, 12, 31, 10), t)
    with pytest.raises(CalendarRangeError, match="2026-12-31"):
        CAL.add_working(sh(2026, 12, 30, 10), 3 * DAY)
    with pytest.raises(CalendarRangeError):
        CAL.deadline(sh(2026, 12, 31, 9), DAY)  # latest instant would lie in 2027
    with pytest.raises(ValueError):
        CAL.add_working(t, -1)


def test_from_index_ends_and_working_seconds_order() -> None:
    assert CAL.from_index(0) == sh(2004, 1, 1)
    assert CAL.from_index(0, latest=True) == sh(2004, 1, 2, 9)  # 1 Jan is a holiday
    assert CAL.from_index(CAL.to_index(sh(2026, 12, 31, 17, 30))) == sh(2026, 12, 31, 17, 30)
    assert CAL.working_seconds(sh(2025, 3, 4, 10), sh(2025, 3, 3, 10)) == 0.0


def test_construction_rules() -> None:
    kw: dict[str, Any] = {"first": date(2025, 1, 1), "last": date(2025, 12, 31)}
    with pytest.raises(ValueError, match="overlap"):
        WorkingCalendar(periods=[(time(9), time(12)), (time(11), time(13))], **kw)
    with pytest.raises(ValueError, match="both"):
        WorkingCalendar(holidays=[date(2025, 5, 5)], makeup_workdays=[date(2025, 5, 5)], **kw)
    with pytest.raises(ValueError, match="offset"):
        WorkingCalendar(tz=ZoneInfo("Europe/Berlin"), **kw)
    with pytest.raises(ValueError, match="empty"):
        WorkingCalendar(first=date(2025, 2, 1), last=date(2025, 1, 1))
    cal = WorkingCalendar.china(
        periods=[(time(8), time(12))], extra_holidays=[date(2025, 3, 3)], extra_workdays=[date(2025, 10, 2)]
    )
    assert CAL.periods == DEFAULT_PERIODS == ((time(9), time(12)), (time(13, 30), time(17, 30)))
    assert cal.day_seconds == 4 * H and CAL.day_seconds == DAY and cal.periods == ((time(8), time(12)),)
    assert not cal.is_working_day(date(2025, 3, 3)) and cal.is_working_day(date(2025, 10, 2))
    assert cal.add_working(sh(2025, 2, 28, 11), 2 * H) == sh(2025, 3, 4, 9)


# -- properties against the reference ----------------------------------------------------

PROPS = settings(max_examples=150, deadline=None)


@PROPS
@given(instants(), instants())
def test_working_seconds_matches_reference(a: datetime, b: datetime) -> None:
    assert CAL.working_seconds(a, b) == REF.working_seconds(a, b)
    assert CAL.is_working_time(a) == REF.is_working_time(a)


@PROPS
@given(instants(), amounts)
def test_add_working_and_deadline_match_reference(t: datetime, s: int) -> None:
    early, late = CAL.add_working(t, s), CAL.deadline(t, s)
    assert early == REF.walk(t, s, latest=False) and late == REF.walk(t, s, latest=True)
    assert CAL.working_seconds(t, early) == s == CAL.working_seconds(t, late)
    assert t <= early <= late
    assert CAL.working_seconds(t, late + timedelta(seconds=1)) == s + 1  # anything later is late
    if s > 0:
        assert CAL.working_seconds(t, early - timedelta(seconds=1)) == s - 1
    assert CAL.next_working_start(t) == CAL.deadline(t, 0) == REF.walk(t, 0, latest=True)


@PROPS
@given(st.lists(instants(), min_size=3, max_size=3), amounts, amounts)
def test_additivity_and_monotonicity(ts: list[datetime], s1: int, s2: int) -> None:
    a, b, c = sorted(ts)
    assert CAL.working_seconds(a, c) == CAL.working_seconds(a, b) + CAL.working_seconds(b, c)
    assert CAL.to_index(a) <= CAL.to_index(b) <= CAL.to_index(c)
    assert CAL.working_seconds(a, b) <= (b - a).total_seconds()
    lo, hi = sorted((s1, s2))
    assert CAL.add_working(a, lo) <= CAL.add_working(a, hi) and CAL.deadline(a, lo) <= CAL.deadline(a, hi)
    assert CAL.add_working(CAL.add_working(a, lo), hi - lo) == CAL.add_working(a, hi)


@st.composite
def custom_calendars(draw: st.DrawFn) -> tuple[WorkingCalendar, Reference]:
    bounds = sorted(draw(st.lists(st.integers(0, 86399), min_size=2, max_size=6, unique=True)))
    as_time = [time(x // H, x // 60 % 60, x % 60) for x in bounds]
    periods = list(zip(as_time[::2], as_time[1::2], strict=False))
    first, last = date(2025, 1, 1), date(2025, 12, 31)
    holidays = draw(st.sets(st.dates(first, last), max_size=40))
    workdays = draw(st.sets(st.dates(first, last).filter(lambda d: d.weekday() >= 5), max_size=10)) - holidays
    tz = draw(st.sampled_from([SHANGHAI, UTC, timezone(timedelta(hours=-5))]))
    cal = WorkingCalendar(
        first=first, last=last, periods=periods, holidays=holidays, makeup_workdays=workdays, tz=tz
    )
    return cal, Reference(cal, holidays, workdays)


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_custom_periods_match_reference(data: st.DataObject) -> None:
    cal, ref = data.draw(custom_calendars())
    window: dict[str, Any] = {"lo": date(2025, 1, 2), "hi": date(2025, 11, 30), "cal": cal}
    a, b = data.draw(instants(**window)), data.draw(instants(**window))
    s = data.draw(st.integers(0, 20 * cal.day_seconds))
    assert cal.working_seconds(a, b) == ref.working_seconds(a, b)
    assert cal.day_seconds == sum(
        (datetime.combine(date.min, y) - datetime.combine(date.min, x)).seconds for x, y in cal.periods
    )
    for latest, op in ((False, cal.add_working), (True, cal.deadline)):
        try:
            expected = ref.walk(a, s, latest=latest)
        except CalendarRangeError:
            with pytest.raises(CalendarRangeError):
                op(a, s)
        else:
            assert op(a, s) == expected


# -- vectorised helpers ------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(instants(), min_size=1, max_size=20), st.lists(amounts, min_size=20, max_size=20))
def test_vectorised_helpers_agree_with_scalar(ts: list[datetime], secs: list[int]) -> None:
    expected = np.array([CAL.to_index(t) for t in ts])
    epoch = np.array([int(t.timestamp()) for t in ts])
    np.testing.assert_array_equal(CAL.to_index_many(epoch), expected)
    np.testing.assert_array_equal(CAL.to_index_many(epoch.astype("datetime64[s]")), expected)
    s = np.array(secs[: len(ts)], dtype=np.float64)
    want = np.array([CAL.deadline(t, x).timestamp() for t, x in zip(ts, s, strict=True)])
    np.testing.assert_array_equal(CAL.deadline_many(expected, s), want)


def test_vectorised_helpers_reject_bad_input() -> None:
    with pytest.raises(CalendarRangeError, match="2027-01-01"):
        CAL.to_index_many(np.array(["2026-12-31T16:00:00"], dtype="datetime64[s]"))
    with pytest.raises(ValueError, match="NaT"):
        CAL.to_index_many(np.array(["NaT"], dtype="datetime64[s]"))
    with pytest.raises(CalendarRangeError):
        CAL.deadline_many(np.array([CAL.to_index(sh(2026, 12, 31, 9))]), np.array([float(DAY)]))
    with pytest.raises(ValueError):
        CAL.deadline_many(np.array([0.0]), np.array([-1.0]))


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_from_index_many_agrees_with_scalar(data: st.DataObject) -> None:
    cal, _ = data.draw(custom_calendars())
    total = cal.to_index(datetime.combine(cal.last, time(23, 59, 59), tzinfo=cal.tz))
    ints = st.integers(0, int(total) - 1).map(float)
    xs = data.draw(st.lists(st.one_of(ints, ints.map(lambda v: v + 0.25)), min_size=1, max_size=30))
    xs.append(0.0)
    for latest in (False, True):
        want = np.array([cal.from_index(x, latest=latest).timestamp() for x in xs])
        np.testing.assert_array_equal(cal.from_index_many(np.array(xs), latest=latest), want)


def test_from_index_many_places_boundaries_like_from_index() -> None:
    noon = CAL.to_index(sh(2025, 9, 26, 12))  # end of the morning = start of the afternoon
    friday_close = CAL.to_index(sh(2025, 9, 26, 17, 30))
    got = CAL.from_index_many([noon, friday_close])
    assert got.tolist() == [sh(2025, 9, 26, 12).timestamp(), sh(2025, 9, 26, 17, 30).timestamp()]
    late = CAL.from_index_many([noon, friday_close], latest=True)
    # the make-up working Sunday 28 September 2025 follows that Friday
    assert late.tolist() == [sh(2025, 9, 26, 13, 30).timestamp(), sh(2025, 9, 28, 9).timestamp()]
    assert CAL.from_index_many([0.0])[0] == datetime.combine(CAL.first, time(0), tzinfo=SHANGHAI).timestamp()


def test_from_index_many_rejects_indices_outside_the_calendar() -> None:
    end = CAL.to_index(datetime.combine(CAL.last, time(23), tzinfo=SHANGHAI))
    assert CAL.from_index_many([end])[0] == CAL.from_index(end).timestamp()
    with pytest.raises(CalendarRangeError):
        CAL.from_index_many([end], latest=True)
    for bad in (-1.0, end + 1, float("nan")):
        with pytest.raises(CalendarRangeError):
            CAL.from_index_many([0.0, bad])
