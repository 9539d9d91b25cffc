"""The SimPy approval world: determinism, time discipline and the shape of the stream."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest

from engine.contract.events import (
    CaseAccepted,
    CaseDecided,
    CaseSubmitted,
    Event,
    ItemPublished,
    SourceHeartbeat,
    StaffAuthorised,
    decode_events,
    encode_event,
)
from sim.common.scenario import Scenario, load_scenario
from sim.hall.world import SimResult, simulate

SMOKE = Path(__file__).resolve().parent.parent / "scenarios" / "smoke.yaml"


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(SMOKE)


@pytest.fixture(scope="module")
def run(scenario: Scenario) -> SimResult:
    return simulate(scenario)


def _bytes(result: SimResult) -> tuple[bytes, bytes]:
    events = b"\n".join(encode_event(e) for e in result.events)
    truth = msgspec.json.encode(result.truth)
    return events, truth


def test_same_seed_gives_identical_events_and_truth(scenario: Scenario, run: SimResult) -> None:
    again = simulate(scenario)
    assert _bytes(again) == _bytes(run)
    assert again.stats == run.stats


def test_different_seed_gives_a_different_world(scenario: Scenario, run: SimResult) -> None:
    other = simulate(scenario, seed=scenario.seed + 1)
    events, truth = _bytes(other)
    assert events != _bytes(run)[0]
    assert truth != _bytes(run)[1]


def test_misconduct_rates_do_not_reshuffle_demand(scenario: Scenario, run: SimResult) -> None:
    clean = msgspec.structs.replace(
        scenario,
        misconduct=type(scenario.misconduct)(),
        lookalikes=type(scenario.lookalikes)(),
    )
    quiet = simulate(clean)

    def arrivals(r: SimResult) -> list[tuple[object, ...]]:
        return [(e.ts, e.case_id, e.item_id, e.channel) for e in r.events if isinstance(e, CaseSubmitted)]

    assert arrivals(quiet) == arrivals(run)
    assert not any(ep.cause in ("injected", "lookalike") for ep in quiet.truth)


def test_events_are_sorted_aware_and_inside_the_horizon(run: SimResult) -> None:
    keys = [(e.ts, e.event_id) for e in run.events]
    assert keys == sorted(keys)
    assert len({e.event_id for e in run.events}) == len(run.events)
    assert all(e.ts.tzinfo is not None and e.ts.utcoffset() is not None for e in run.events)
    assert all(e.ts.microsecond == 0 for e in run.events)
    assert all(run.start <= e.ts <= run.end for e in run.events)


def test_the_stream_round_trips_through_the_event_contract(run: SimResult) -> None:
    wire = b"[" + b",".join(encode_event(e) for e in run.events) + b"]"
    assert decode_events(wire) == run.events


def test_arrivals_only_in_working_time(run: SimResult) -> None:
    cal = run.calendar
    submitted = [e for e in run.events if isinstance(e, CaseSubmitted)]
    assert len(submitted) == run.stats["cases"] > 0
    assert all(cal.is_working_time(e.ts) for e in submitted)
    days = {e.ts.date() for e in submitted}
    weekend = [d for d in days if d.weekday() >= 5]
    assert not weekend
    calendar_days = [run.start.date() + timedelta(days=k) for k in range((run.end - run.start).days)]
    assert days == {d for d in calendar_days if cal.is_working_day(d)}


def test_hourly_profile_shapes_the_day(scenario: Scenario) -> None:
    peaked = msgspec.structs.replace(
        scenario,
        arrivals=msgspec.structs.replace(scenario.arrivals, hourly_profile=[0, 0, 0, 0, 0, 0, 1]),
    )
    result = simulate(peaked)
    hours = {e.ts.hour for e in result.events if isinstance(e, CaseSubmitted)}
    assert hours == {16, 17}  # the last working hour is 16:30-17:30


def test_reference_data_opens_the_stream_and_a_heartbeat_closes_it(run: SimResult) -> None:
    ref = [e for e in run.events if isinstance(e, ItemPublished | StaffAuthorised)]
    assert ref and all(e.ts == run.start for e in ref)
    assert isinstance(run.events[-1], SourceHeartbeat)
    assert run.events[-1].ts == run.end
    daily = [e for e in run.events if isinstance(e, SourceHeartbeat) and e.ts < run.end]
    working_days = {e.ts.date() for e in run.events if isinstance(e, CaseSubmitted)}
    assert {e.ts.date() for e in daily} == working_days
    assert all(run.calendar.to_index(e.ts) == run.calendar.to_index(e.ts.replace(hour=23)) for e in daily)


def test_authorisations_follow_the_fixed_flow(run: SimResult) -> None:
    items = {e.item_id: e for e in run.events if isinstance(e, ItemPublished)}
    for staff in (e for e in run.events if isinstance(e, StaffAuthorised)):
        dept_items = {i for i, it in items.items() if it.department_id == staff.department_id}
        decided = set(staff.may_decide)
        if staff.posts == ("window",):
            assert decided == {i for i in dept_items if items[i].promised_days == 0}
        elif staff.posts in (("decide",), ("lead",)):
            assert decided == dept_items
        else:
            assert decided == set()
        assert staff.staff_id.startswith(f"{staff.department_id}-S")


def test_instant_cases_are_accepted_and_decided_by_one_clerk_at_a_window(run: SimResult) -> None:
    by_case: dict[str, list[Event]] = defaultdict(list)
    for e in run.events:
        if isinstance(e, CaseAccepted | CaseDecided):
            by_case[e.case_id].append(e)
    instant = 0
    for events in by_case.values():
        acc = [e for e in events if isinstance(e, CaseAccepted)]
        dec = [e for e in events if isinstance(e, CaseDecided)]
        if acc and dec and acc[0].case_type == "instant":
            instant += 1
            assert acc[0].staff_id == dec[0].approver_id
            first, last = sorted((acc[0].ts, dec[0].ts))
            assert run.calendar.working_seconds(first, last) < 3600
    assert instant > 20


def test_progress_reports_every_day_in_order(scenario: Scenario) -> None:
    calls: list[tuple[int, int]] = []
    simulate(scenario, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(d, scenario.days) for d in range(1, scenario.days + 1)]


def test_stats_count_what_the_stream_holds(run: SimResult) -> None:
    kinds = Counter(type(e).__struct_config__.tag for e in run.events)
    assert run.stats["events"] == len(run.events)
    assert all(run.stats[f"events.{k}"] == n for k, n in kinds.items())
    assert run.stats["simpy_events"] > run.stats["events"] / 2
    assert sum(v for k, v in run.stats.items() if k.startswith("truth.")) == len(run.truth)
    assert set(run.staff_names) == {e.staff_id for e in run.events if isinstance(e, StaffAuthorised)}
