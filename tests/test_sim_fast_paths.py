"""The simulator's fast paths give exactly what the plain ``datetime`` / per-case routes give.

The SimPy loop converts working waits with the clock's day table, arrivals are placed on
the calendar in one vectorised pass and misconduct kinds are drawn per table with
``searchsorted``; each is checked here against the straightforward computation it replaces.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.contract.calendar import SHANGHAI, CalendarRangeError, WorkingCalendar
from sim.common.clock import SimClock
from sim.common.hall_model import build_halls
from sim.common.scenario import load_scenario
from sim.hall.arrivals import draw_arrivals
from sim.hall.draws import SHAPE_DRAWS, draw_cases
from sim.hall.misconduct import KindTable

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
CHINA = WorkingCalendar.china()
ODD = WorkingCalendar(
    first=date(2025, 1, 1),
    last=date(2025, 12, 31),
    periods=((time(8, 15), time(11, 45)), (time(13), time(17, 5)), (time(18), time(19, 30))),
    holidays={date(2025, 5, 1), date(2025, 5, 2)},
    makeup_workdays={date(2025, 4, 27)},
)


def reference_delay(clock: SimClock, t: int, work: float) -> int:
    """The wait as the clock defines it, through ``datetime`` objects and the calendar."""
    cal, beyond = clock.calendar, int((clock.end - clock.start).total_seconds()) + 1
    try:
        x = cal.to_index(clock.start + timedelta(seconds=t))
        u = cal.from_index(x + work)
    except CalendarRangeError:
        return max(beyond - t, 0)
    return max(math.ceil((u - clock.start).total_seconds() - t), 0)


@st.composite
def clocks(draw: st.DrawFn) -> SimClock:
    cal = draw(st.sampled_from([CHINA, ODD]))
    day = draw(st.dates(date(2025, 1, 1), date(2025, 12, 20) if cal is ODD else date(2026, 12, 20)))
    start = datetime.combine(day, time(0), tzinfo=SHANGHAI)
    if draw(st.booleans()):  # a run need not start at midnight
        start += timedelta(seconds=draw(st.integers(0, 86_399)))
    return SimClock(cal, start, start + timedelta(days=draw(st.integers(1, 40))))


works = st.one_of(
    st.floats(0.0, 40 * 25_200.0, allow_nan=False),
    st.integers(0, 5 * 25_200).map(float),
    st.floats(0.0, 1e-3),
)


@settings(max_examples=150, deadline=None)
@given(clocks(), st.lists(st.tuples(st.integers(0, 60 * 86_400), works), min_size=1, max_size=25))
def test_clock_waits_equal_the_datetime_route(clock: SimClock, waits: list[tuple[int, float]]) -> None:
    cal = clock.calendar
    for t, work in waits:
        assert clock.delay(t, work) == reference_delay(clock, t, work)
        try:
            x = cal.to_index(clock.start + timedelta(seconds=t))
        except CalendarRangeError:
            continue
        assert clock.index(t) == x
        assert clock.until_index(t, x + work) == reference_delay(clock, t, work)


def test_clock_waits_at_period_edges_and_near_the_calendar_end() -> None:
    start = datetime(2026, 12, 1, tzinfo=SHANGHAI)  # the shipped table ends on 31 December 2026
    clock = SimClock(CHINA, start, start + timedelta(days=31))
    edges = [9 * 3600, 12 * 3600, 13.5 * 3600, 17.5 * 3600, 86_399]
    for day in range(0, 35):
        for edge in edges:
            t = int(day * 86_400 + edge)
            # sub-microsecond excesses: ``datetime`` rounds them away (or up to 1 µs), and so must the clock
            for work in (0.0, 0.5, 1.0, 100 + 1e-7, 100 + 4e-7, 100 + 6e-7, 3 * 25_200 + 0.25, 30 * 25_200.0):
                assert clock.delay(t, work) == reference_delay(clock, t, work), (t, work)


def test_a_year_of_arrivals_is_placed_where_the_scalar_route_puts_it() -> None:
    scenario = load_scenario(SCENARIOS / "county_hall.yaml")
    (hall,) = build_halls(scenario, np.random.default_rng(2))
    start = datetime(2025, 9, 15, tzinfo=SHANGHAI)
    clock = SimClock(CHINA, start, start + timedelta(days=365))
    arrivals = draw_arrivals(hall, clock, profile=None, online_share=0.3, rng=np.random.default_rng(4))
    horizon = clock.at(clock.end)
    working_days = sum(CHINA.is_working_day(start.date() + timedelta(days=k)) for k in range(365))
    expected = hall.cases_per_day * working_days
    assert abs(len(arrivals) - expected) < 4 * expected**0.5
    assert arrivals.times == sorted(arrivals.times) and arrivals.times[-1] < horizon
    assert arrivals.index.shape == (len(arrivals),)
    for t, x in list(zip(arrivals.times, arrivals.index.tolist(), strict=True))[
        :: max(len(arrivals) // 2000, 1)
    ]:
        assert clock.index(t) == x
        at = clock.dt(t)
        assert CHINA.is_working_time(at)  # the start of its working second, never a period's end
        assert clock.at(CHINA.from_index(clock.index(t), latest=True)) == t


def test_kinds_drawn_in_bulk_equal_kinds_drawn_one_by_one() -> None:
    scenario = load_scenario(SCENARIOS / "county_hall.yaml")
    (hall,) = build_halls(scenario, np.random.default_rng(2))
    kinds = KindTable(scenario, hall.items, {d.id: d for d in hall.departments})
    rng = np.random.default_rng(9)
    items = rng.integers(0, len(hall.items), 20_000)
    u = rng.random(20_000) * 0.2  # the mass of the kinds sits near zero
    u[:200] = 0.0
    bulk = kinds.draw_many(items, u)
    assert bulk == [kinds.draw(i, x) for i, x in zip(items.tolist(), u.tolist(), strict=True)]
    assert len({k for k in bulk if k is not None}) > 10
    assert kinds.draw_many([], []) == []


def test_case_draws_are_compact_columns_one_row_per_case() -> None:
    scenario = load_scenario(SCENARIOS / "county_hall.yaml")
    (hall,) = build_halls(scenario, np.random.default_rng(2))
    kinds = KindTable(scenario, hall.items, {d.id: d for d in hall.departments})
    items = list(range(len(hall.items))) * 3
    width = max(len(item.steps) for item in hall.items)
    a = draw_cases(scenario, hall, items, kinds, np.random.default_rng(5), np.random.default_rng(6))
    b = draw_cases(scenario, hall, np.array(items), kinds, np.random.default_rng(5), np.random.default_rng(6))
    n = len(items)
    assert a.handling_s.shape == a.fraction.shape == a.overrun_days.shape == (n, width)
    assert a.shape.shape == (n, SHAPE_DRAWS) and a.accept_s.shape == a.approve.shape == (n,)
    steps = np.array([len(hall.items[i].steps) for i in items])
    assert (a.overrun_days[np.arange(width)[None, :] >= steps[:, None]] == 0).all()
    assert a.kind == b.kind and np.array_equal(a.handling_s, b.handling_s)
    assert len(a.kind) == n


@pytest.mark.parametrize("latest", [False, True])
def test_calendar_bulk_placement_agrees_with_the_clock(latest: bool) -> None:
    start = datetime(2025, 9, 26, tzinfo=SHANGHAI)
    clock = SimClock(CHINA, start, start + timedelta(days=10))
    xs = clock.index(0) + np.arange(0, 8 * 25_200, 977, dtype=np.float64)
    got = CHINA.from_index_many(xs, latest=latest)
    want = [CHINA.from_index(float(x), latest=latest).timestamp() for x in xs]
    assert got.tolist() == want
