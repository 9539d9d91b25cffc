"""The future-event rule: a jump is confirmed by another source (or a reference clock), never by itself.

Replays here use no reference clock unless a test says so: the rule under test is the one
a user's export meets in ``supsim detect``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest
from case_streams import CaseScript, reference_events, stream, wd
from hypothesis import given, settings
from hypothesis import strategies as st
from test_contract_bounds import valid
from test_runtime import _heap_only, _outputs

from engine.contract import events as ev
from engine.core import Engine
from engine.replay import DetectResult, detect, fixed_clock
from engine.rules.rulebook import Rulebook
from engine.runtime.eventtime import source_of
from sim.common.scenario import load_scenario
from sim.hall.world import simulate

ROOT = Path(__file__).resolve().parent.parent
MAX_FUTURE = timedelta(seconds=Rulebook.default().max_future)


@pytest.fixture(scope="module")
def smoke() -> list[ev.Event]:
    """A simulated hall: several departments' systems and the hall platform's heartbeats."""
    return simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events


@pytest.fixture(scope="module")
def baseline(smoke: list[ev.Event]) -> DetectResult:
    return detect(smoke)


def _bad_clock(
    smoke: list[ev.Event], n: int, rng: np.random.Generator, *, one_source: bool
) -> list[ev.Event]:
    """``n`` events stamped long after the stream ends, about real cases and halls.

    With ``one_source``, one department's system has a clock that jumped (any times, any
    order); otherwise each comes from its own clock and no two lie within ``max_future``.
    Applied, each would change the verdicts: a fee above any standard, a case closed, a
    decision by a clerk.
    """
    end = max(e.ts for e in smoke)
    cases = [e for e in smoke if isinstance(e, ev.CaseAccepted)]
    dept = cases[0].department_id
    if one_source:
        cases = [c for c in cases if c.department_id == dept]
    out: list[ev.Event] = []
    for j in range(n):
        c = cases[int(rng.integers(len(cases)))]
        if one_source:
            ts = end + timedelta(hours=2) + timedelta(minutes=float(rng.uniform(0, 60 * 24 * 365 * 5)))
        else:
            ts = end + timedelta(hours=2 + 3 * j, minutes=float(rng.uniform(0, 30)))
        base: dict[str, Any] = {"event_id": f"bad-{j}", "ts": ts, "hall_id": c.hall_id, "case_id": c.case_id}
        which = j % 4
        if not one_source:  # a heartbeat names its own source
            out.append(
                ev.SourceHeartbeat(event_id=f"bad-{j}", ts=ts, source_id=f"clock-{j}", hall_id=c.hall_id)
            )
        elif which == 0:
            out.append(ev.FeeCharged(**base, department_id=dept, amount=99_999.0, staff_id=c.staff_id))
        elif which == 1:
            out.append(ev.CaseClosed(**base, department_id=dept, staff_id=c.staff_id, outcome="withdrawn"))
        elif which == 2:
            out.append(ev.CaseDecided(**base, department_id=dept, approver_id="nobody", decision="approve"))
        else:
            out.append(ev.StepStarted(**base, department_id=dept, step="review", post="review", staff_id="x"))
    return out


@settings(max_examples=30, deadline=None)
@given(
    k=st.integers(1, 10),
    seed=st.integers(0, 2**32 - 1),
    one_source=st.booleans(),
    consecutive=st.booleans(),
)
def test_k_far_future_events_anywhere_change_nothing_and_all_go_to_the_side_output(
    smoke: list[ev.Event], baseline: DetectResult, k: int, seed: int, one_source: bool, consecutive: bool
) -> None:
    rng = np.random.default_rng(seed)
    bad = _bad_clock(smoke, k, rng, one_source=one_source)
    events = list(smoke)
    if consecutive:  # one run of bad stamps (the case), anywhere, the very first line included
        at = int(rng.integers(0, len(events) + 1))
        events[at:at] = bad
    else:
        for e in bad:
            events.insert(int(rng.integers(0, len(events) + 1)), e)
    result = detect(events)
    assert result.alerts == baseline.alerts
    new = [r for r in result.side_output if r not in baseline.side_output]
    assert sorted(r.event_id for r in new) == sorted(e.event_id for e in bad)
    assert {r.reason for r in new} == {"future"}
    assert result.stats["future"] == baseline.stats["future"] + k
    assert result.stats["late"] == baseline.stats["late"]


def test_two_consecutive_bad_stamps_do_not_confirm_each_other(
    smoke: list[ev.Event], baseline: DetectResult
) -> None:
    # The report: the second far-future event used to confirm the first, and the
    # watermark jumped months ahead (205 late events, missing and extra alerts).
    bad = _bad_clock(smoke, 2, np.random.default_rng(1), one_source=True)
    bad = [msgspec.structs.replace(b, ts=bad[0].ts + timedelta(minutes=5 * i)) for i, b in enumerate(bad)]
    middle = len(smoke) // 2
    result = detect([*smoke[:middle], *bad, *smoke[middle:]])
    assert result.alerts == baseline.alerts
    assert result.stats["late"] == 0
    assert [r.event_id for r in result.side_output if r.event_id.startswith("bad")] == ["bad-0", "bad-1"]


def test_a_far_future_last_event_goes_to_the_side_output_and_is_not_applied(
    smoke: list[ev.Event], baseline: DetectResult
) -> None:
    open_case = next(e for e in smoke if isinstance(e, ev.CaseAccepted))
    last = ev.CaseClosed(
        event_id="last", ts=max(e.ts for e in smoke) + timedelta(days=40), hall_id=open_case.hall_id,
        case_id=open_case.case_id, department_id=open_case.department_id, staff_id="x", outcome="withdrawn",
    )  # fmt: skip
    engine = Engine()
    engine.process_many([*smoke, last])
    alerts = engine.process_many([]) + engine.finish()
    record = engine.side_output[-1]
    assert (record.event_id, record.kind, record.reason) == ("last", "case.closed", "future")
    assert record.ts == last.ts and record.hall_id == open_case.hall_id
    assert record.subject == f"case:{open_case.case_id}"
    assert engine.stats["applied"] == baseline.stats["applied"]
    assert engine.watermark == max(e.ts for e in smoke if e.event_id != "hb-H1-end")
    assert all(a.ts <= engine.watermark for a in alerts)


def test_the_simulators_end_of_run_heartbeat_needs_the_reference_clock(
    smoke: list[ev.Event], baseline: DetectResult
) -> None:
    # One hall, one platform: nothing but a reference clock can vouch for its last heartbeat.
    assert [(r.event_id, r.reason) for r in baseline.side_output] == [("hb-H1-end", "future")]
    end = max(e.ts for e in smoke)
    referenced = detect(smoke, reference=end)
    assert referenced.side_output == [] and referenced.stats["future"] == 0
    late = detect(smoke, reference=end - MAX_FUTURE - timedelta(seconds=1))
    assert [(r.event_id, r.reason) for r in late.side_output] == [("hb-H1-end", "future")]


# --- hand-built: the start of a stream, nights, one source --------------------------------


def _heartbeat(ts: datetime, source: str, n: int) -> ev.SourceHeartbeat:
    return ev.SourceHeartbeat(event_id=f"hb-{source}-{n}", ts=ts, source_id=source, hall_id="H1")


def test_a_stream_starts_where_two_sources_agree_and_a_bad_first_line_stays_aside() -> None:
    first = _heartbeat(wd(40, "09:00"), "bad-clock", 0)
    events = [first, *stream(CaseScript())]
    # Department D1's system alone cannot confirm its own jumps (Monday → Tuesday → Wednesday):
    alone = detect(events)
    assert alone.stats["applied"] == 0 and alone.stats["future"] == len(events)
    # A hall platform beating each morning and evening gives the second clock.
    platform = [_heartbeat(wd(d, hhmm), "platform", i) for i, (d, hhmm) in enumerate(
        [(0, "08:05"), (0, "09:40"), (1, "09:55"), (1, "15:20"), (2, "10:15"), (2, "11:05")]
    )]  # fmt: skip
    both = detect(sorted([*events, *platform], key=lambda e: e.ts))
    assert [(r.event_id, r.reason) for r in both.side_output] == [("hb-bad-clock-0", "future")]
    referenced = detect(events, reference=wd(2, "11:00"))
    assert both.alerts == referenced.alerts == []
    assert both.stats["open_cases"] == referenced.stats["open_cases"] == 0


def test_a_quiet_night_is_confirmed_by_the_first_other_source_in_the_morning() -> None:
    events = reference_events()
    d2 = [msgspec.structs.replace(e, event_id=f"{e.event_id}-D2", department_id="D2") for e in events]
    c1 = stream(CaseScript())[len(events) :]
    c2 = [
        msgspec.structs.replace(e, event_id=f"D2-{e.event_id}", case_id="C2", department_id="D2",
                                ts=e.ts + timedelta(minutes=20))
        for e in c1
    ]  # fmt: skip
    merged = sorted([*events, *d2, *c1, *c2], key=lambda e: (e.ts, e.event_id))
    engine = Engine()
    engine.process_many(merged)
    assert engine.stats["buffered"] > 0  # the two closes at the end wait: nothing later confirms them
    engine.finish()
    assert engine.stats["future"] == 0 and engine.stats["open_cases"] == 0
    assert engine.stats["applied"] == len(merged)


def test_a_reference_clock_confirms_jumps_and_rejects_what_lies_beyond_it() -> None:
    now = wd(2, "12:00")
    engine = Engine(clock=fixed_clock(now))
    engine.process_many(stream(CaseScript()))
    engine.process_one(_heartbeat(now + MAX_FUTURE, "platform", 1))
    engine.process_one(_heartbeat(now + MAX_FUTURE + timedelta(seconds=1), "platform", 2))
    engine.finish()
    assert [(r.event_id, r.reason) for r in engine.side_output] == [("hb-platform-2", "future")]


def test_every_kind_has_a_source() -> None:
    for etype in ev.EVENT_TYPES:
        tag = etype.__struct_config__.tag
        event = ev.decode_event(msgspec.json.encode(valid(str(tag))))
        assert source_of(event).split(":")[0] in {
            "dept", "source", "camera", "attendance", "queue", "tender", "bidder", "expert", "complaints",
        }, tag  # fmt: skip


# --- every path through the runtime agrees ---------------------------------------------


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), one_by_one=st.booleans())
def test_fast_path_and_heap_path_agree_with_held_events(
    smoke: list[ev.Event], seed: int, one_by_one: bool
) -> None:
    rng = np.random.default_rng(seed)
    lateness = Rulebook.default().allowed_lateness
    part = smoke[:1500]
    arrives = np.array([e.ts.timestamp() for e in part]) + rng.uniform(0, 1.2 * lateness, len(part))
    arrival = [part[int(i)] for i in np.argsort(arrives, kind="stable")]
    for e in _bad_clock(smoke, 3, rng, one_source=True):
        arrival.insert(int(rng.integers(0, len(arrival) + 1)), e)
    arrival += [arrival[int(i)] for i in rng.integers(0, len(arrival), 4)]  # duplicates
    runs = []
    for engine in (Engine(), _heap_only(Engine())):
        if one_by_one:
            alerts = [a for e in arrival for a in engine.process_one(e)]
        else:
            alerts = engine.process_many(arrival[:500]) + engine.process_many(arrival[500:])
        runs.append(_outputs(engine, alerts + engine.finish()))
    assert runs[0] == runs[1]
    # (The vectorised sweep path runs this same engine, so it needs no check of its own here.)
