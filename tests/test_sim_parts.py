"""The world's parts: the working-time clock, the generated catalogue, demand, several halls."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import msgspec
import numpy as np
import pytest

from engine.contract.calendar import SHANGHAI, WorkingCalendar
from engine.contract.events import CaseSubmitted, SourceHeartbeat, StaffAuthorised
from sim.common.clock import SimClock
from sim.common.hall_model import build_halls
from sim.common.scenario import ScenarioError, decode_scenario, load_scenario
from sim.common.scenario_types import DECIDE_POST
from sim.hall.arrivals import draw_arrivals
from sim.hall.world import simulate

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.fixture(scope="module")
def clock() -> SimClock:
    start = datetime(2025, 9, 26, tzinfo=SHANGHAI)  # a Friday; Sunday 28 September is a make-up day
    return SimClock(WorkingCalendar.china(), start, start + timedelta(days=30))


def test_working_waits_skip_nights_and_weekends(clock: SimClock) -> None:
    friday_1700 = 17 * 3600
    wait = clock.delay(friday_1700, 3600)  # 30 min on Friday, 30 min on the make-up Sunday
    assert clock.dt(friday_1700 + wait) == datetime(2025, 9, 28, 9, 30, tzinfo=SHANGHAI)
    noon = 12 * 3600
    assert clock.dt(noon + clock.delay(noon, 60)) == datetime(2025, 9, 26, 13, 31, tzinfo=SHANGHAI)
    assert clock.delay(20 * 3600, 0) == 0


def test_waits_are_whole_seconds_and_never_short(clock: SimClock) -> None:
    cal = clock.calendar
    for t, work in [(33_000, 0.4), (50_000, 1234.5), (36_000, 25_200 * 3 + 0.1)]:
        wait = clock.delay(t, work)
        assert isinstance(wait, int)
        assert cal.working_seconds(clock.dt(t), clock.dt(t + wait)) >= work
        assert cal.working_seconds(clock.dt(t), clock.dt(t + wait - 1)) < work


def test_waits_past_the_calendar_end_after_the_horizon() -> None:
    cal = WorkingCalendar(first=datetime(2025, 1, 1).date(), last=datetime(2025, 1, 31).date())
    start = datetime(2025, 1, 20, tzinfo=SHANGHAI)
    clock = SimClock(cal, start, start + timedelta(days=5))
    assert clock.delay(0, 30 * 25_200) > 5 * 86_400


def test_city_catalogue_is_generated_as_configured() -> None:
    scenario = load_scenario(SCENARIOS / "city_hall.yaml")
    (hall,) = build_halls(scenario, np.random.default_rng(1))
    mix = scenario.halls[0].item_mix
    assert mix is not None
    assert len(hall.items) == 441
    assert sum(len(d.staff()) for d in hall.departments) == 346
    for dept in hall.departments:
        assert len(dept.items) == mix.counts[dept.key]
        posts = [p for p in dept.posts if p != DECIDE_POST]
        for item in dept.items:
            if item.instant:
                assert item.steps == ()
            else:
                assert [s.post for s in item.steps] == posts
                assert sum(s.limit_days for s in item.steps) <= item.promised_days * mix.step_budget + 1e-9
                assert item.promised_days in mix.promised_days
            assert item.fee_standard == 0 or mix.fee_range.min <= item.fee_standard <= mix.fee_range.max
    share = sum(item.instant for item in hall.items) / len(hall.items)
    assert 0.25 < share < 0.40  # instant_share 0.32
    staff_ids = [s.id for d in hall.departments for s in d.staff()]
    assert len(set(staff_ids)) == len(staff_ids)


def test_demand_matches_the_configured_rate() -> None:
    scenario = load_scenario(SCENARIOS / "county_hall.yaml")
    (hall,) = build_halls(scenario, np.random.default_rng(2))
    start, end = scenario.horizon()
    cal = scenario.build_calendar()
    clock = SimClock(cal, start, end)
    arrivals = draw_arrivals(hall, clock, profile=None, online_share=0.35, rng=np.random.default_rng(3))
    working_days = sum(cal.is_working_day(start.date() + timedelta(days=k)) for k in range(scenario.days))
    expected = hall.cases_per_day * working_days
    assert abs(len(arrivals) - expected) < 4 * expected**0.5
    assert arrivals.times == sorted(arrivals.times)
    assert abs(sum(arrivals.online) / len(arrivals) - 0.35) < 0.03


def test_several_halls_share_one_stream() -> None:
    data = msgspec.yaml.decode((SCENARIOS / "smoke.yaml").read_bytes())
    data["days"] = 3
    second = msgspec.json.decode(msgspec.json.encode(data["halls"][0]))
    second["id"] = "H2"
    data["halls"].append(second)
    with pytest.raises(ScenarioError, match=r"`\$\.halls\[1\]\.items\[0\]\.id` - duplicate item id"):
        decode_scenario(msgspec.yaml.encode(data))
    for item in second["items"]:
        item["id"] += "B"
    result = simulate(decode_scenario(msgspec.yaml.encode(data), source="two-halls"))
    halls = {e.hall_id for e in result.events if isinstance(e, CaseSubmitted)}
    assert halls == {"H1", "H2"}
    staff = [e.staff_id for e in result.events if isinstance(e, StaffAuthorised)]
    assert len(staff) == len(set(staff)) == 2 * 17
    tail = result.events[-2:]
    assert all(isinstance(e, SourceHeartbeat) and e.ts == result.end for e in tail)
    assert {e.hall_id for e in tail} == {"H1", "H2"}  # type: ignore[attr-defined]
