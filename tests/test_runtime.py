"""The runtime: event time, watermark, late/future side output, duplicates, timers, cards."""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
from case_streams import CaseScript, StepScript, Suspension, heartbeat, replay, stream, wd
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.core import Engine, SideRecord
from engine.rules.rulebook import Rulebook
from engine.runtime.buffer import Entry, PosixClock, WatermarkBuffer
from engine.runtime.timers import TimerKey, TimerWheel

LATENESS = Rulebook.default().allowed_lateness
OPEN = replace(CaseScript(), decided=None, certificate=None, closed=None)
#: These streams come from one source (department D1's system): nothing but a reference
#: clock can confirm their jumps over nights, so they are replayed as exports taken at the
#: end of the run (the replay-only rule has its own tests in test_future_events.py).
END = wd(30, "10:00")


def _clock() -> float:
    return END.timestamp()


def _mixed_stream() -> list[ev.Event]:
    """A dozen cases with most violation kinds, interleaved by shifting each case in time."""
    c = CaseScript()
    scripts = [
        c,
        OPEN,
        replace(c, steps=c.steps[:1]),
        replace(c, fee=80.0),
        replace(c, approver="X9"),
        replace(c, decided_stated=wd(2, "08:00")),
        replace(OPEN, suspensions=(Suspension(wd(1, "09:00"), wd(1, "11:00"), "leader_away", None),)),
        replace(OPEN, suspensions=(Suspension(wd(1, "09:00"), wd(2, "09:00")),)),
        replace(c, decision="reject"),
        replace(c, acceptor="A1"),
        replace(
            c,
            steps=(
                StepScript("review", "R1", wd(0, "09:30"), wd(2, "14:00")),
                StepScript("check", "K1", wd(1, "09:30"), wd(1, "11:00")),
            ),
        ),
        replace(OPEN, steps=()),
    ]
    events: list[ev.Event] = []
    for i, script in enumerate(scripts):
        shift = timedelta(minutes=37 * i)
        for e in stream(replace(script, case_id=f"C{i:02d}")):
            if isinstance(e, ev.ItemPublished | ev.StaffAuthorised):
                if i == 0:
                    events.append(e)
                continue
            events.append(msgspec.structs.replace(e, ts=e.ts + shift))
    events.append(heartbeat(wd(30, "10:00")))
    events.sort(key=lambda e: (e.ts, e.event_id))
    return events


MIXED = _mixed_stream()
BASELINE = replay(MIXED)


def test_mixed_stream_baseline_is_rich() -> None:
    rules = {a.rule for a in BASELINE.alerts}
    assert len(rules) >= 11
    # Case C10 closes before its review step completes: that record is about a closed case.
    assert [(r.event_id, r.reason) for r in BASELINE.side_output] == [("C10-04", "after_close")]
    assert BASELINE.stats["late"] == BASELINE.stats["future"] == BASELINE.stats["duplicates"] == 0
    assert BASELINE.alerts == sorted(BASELINE.alerts, key=lambda a: (a.ts, a.alert_id))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_shuffle_within_lateness_and_duplicates_give_identical_alerts(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # Arrival order: event time plus a random delay shorter than the allowed lateness.
    arrives_at = np.array([e.ts.timestamp() for e in MIXED]) + rng.uniform(0, LATENESS * 0.999, len(MIXED))
    arrival = [MIXED[int(i)] for i in np.argsort(arrives_at, kind="stable")]
    # Re-send a few events later in the stream.
    n_dup = int(rng.integers(1, 8))
    for i in rng.choice(len(arrival), n_dup, replace=False):
        arrival.insert(int(rng.integers(int(i) + 1, len(arrival) + 1)), arrival[int(i)])
    result = replay(arrival)
    assert result.alerts == BASELINE.alerts
    assert result.stats["duplicates"] + result.stats["late"] == n_dup
    extra = [(r.reason, r.event_id) for r in result.side_output if r.reason != "after_close"]
    assert len(extra) == n_dup
    assert {reason for reason, _ in extra} <= {"late", "duplicate"}


def test_process_one_matches_process_many() -> None:
    eng = Engine(clock=_clock)
    alerts = []
    for e in MIXED:
        alerts += eng.process_one(e)
    alerts += eng.finish()
    assert sorted(alerts, key=lambda a: (a.ts, a.alert_id)) == BASELINE.alerts
    assert eng.stats == BASELINE.stats


def test_alerts_released_when_the_watermark_passes_the_deadline() -> None:
    eng = Engine(clock=_clock)
    assert eng.process_many(stream(OPEN)) == []
    assert eng.watermark == wd(1, "14:50")  # the last record is Tuesday 15:00
    # The warning is due a day before the deadline (Mon 09:05 next week).
    assert [a.rule for a in eng.process_one(heartbeat(wd(7, "09:00"), "hb0"))] == ["deadline.warning"]
    assert eng.watermark == wd(7, "08:50")
    # Watermark = newest event time - 10 minutes.
    assert eng.process_one(heartbeat(wd(7, "09:14"), "hb1")) == []
    assert eng.process_one(heartbeat(wd(7, "09:15"), "hb2")) == []  # watermark exactly at the deadline
    assert [a.rule for a in eng.process_one(heartbeat(wd(7, "09:16"), "hb3"))] == ["deadline.overdue"]
    assert eng.watermark == wd(7, "09:06")


def test_events_wait_in_the_buffer_until_the_watermark_passes_them() -> None:
    eng = Engine()
    first = stream()[0]
    assert eng.process_one(first) == []
    assert eng.stats["buffered"] == 1 and eng.stats["applied"] == 0
    eng.process_one(heartbeat(first.ts + timedelta(seconds=LATENESS), "hb"))
    assert eng.stats["applied"] == 1
    assert eng.finish() == []
    assert eng.stats["buffered"] == 0 and eng.stats["applied"] == 2


def test_late_event_goes_to_side_output_and_is_not_applied() -> None:
    events = stream(OPEN)  # the last record is Tuesday 15:00
    late_close = ev.CaseClosed(
        event_id="late-close", ts=wd(0, "10:00"), hall_id="H1", case_id="C1", department_id="D1",
        staff_id="A1", outcome="approved",
    )  # fmt: skip
    result = replay([*events, late_close, heartbeat(wd(30, "10:00"))])
    expected = SideRecord(
        event_id="late-close", kind="case.closed", ts=wd(0, "10:00"), reason="late",
        hall_id="H1", subject="case:C1",
    )  # fmt: skip
    assert result.side_output == [expected]
    assert result.stats["late"] == 1
    assert {a.rule for a in result.alerts} == {"deadline.warning", "deadline.overdue", "deadline.severe"}


def test_injected_reference_clock_decides_future() -> None:
    now = wd(0, "12:00")
    eng = Engine(clock=lambda: now.timestamp())
    eng.process_one(heartbeat(now + timedelta(minutes=30), "near"))
    eng.process_one(heartbeat(now + timedelta(hours=2), "far"))
    assert [(r.event_id, r.reason) for r in eng.side_output] == [("far", "future")]
    assert eng.stats["future"] == 1


def test_duplicates_are_ignored_and_counted() -> None:
    events = stream(replace(CaseScript(), fee=80.0), end=wd(30, "10:00"))
    twice = [e for e in events for _ in (0, 1)]
    result = replay(twice)
    assert result.stats["duplicates"] == len(events)
    assert result.alerts == replay(events).alerts
    assert [a.rule for a in result.alerts] == ["logic.excess_fee"]


def test_closed_case_cancels_timers_and_stops_being_watched() -> None:
    eng = Engine(clock=_clock)
    eng.process_many(stream(CaseScript()))
    eng.finish()
    assert eng.stats["open_cases"] == 0
    assert len(eng.timers) == 0
    after = ev.CertificateIssued(
        event_id="after", ts=wd(3, "09:00"), hall_id="H1", case_id="C1", department_id="D1",
        certificate_no="Z-2", staff_id="X9",
    )  # fmt: skip
    assert eng.process_many([after, heartbeat(wd(3, "10:00"), "hb")]) == []
    eng.finish()
    assert eng.stats["after_close"] == 1


def test_card_level_only_goes_up() -> None:
    # The open case reaches red; a logic warning on it afterwards is recorded, the card stays red.
    cert = ev.CertificateIssued(
        event_id="cert", ts=wd(20, "09:00"), hall_id="H1", case_id="C1", department_id="D1",
        certificate_no="Z-9", staff_id="A1",
    )  # fmt: skip
    events = sorted([*stream(OPEN, end=wd(30, "10:00")), cert], key=lambda e: e.ts)
    result = replay(events)
    assert [a.level for a in result.alerts] == ["warning", "yellow", "red", "warning"]
    assert result.alerts[-1].rule == "logic.certificate_without_approval"
    assert result.card_levels == {"case:C1": "red"}


def test_stats_count_alerts_by_rule() -> None:
    stats = BASELINE.stats
    per_rule = {k: v for k, v in stats.items() if k.startswith("alerts.")}
    assert sum(per_rule.values()) == stats["alerts"] == len(BASELINE.alerts)
    assert stats["alerts.logic.excess_fee"] == 1
    assert set(per_rule) == {f"alerts.{n}" for n in Rulebook.default().rules.enabled}


def test_calendar_comes_from_the_rulebook() -> None:
    from engine.rules.rulebook import decode_rulebook

    # One 8-hour period a day and a local holiday on Tuesday: five working days from
    # Mon 09:05 skip that Tuesday and end on Tuesday of the next week.
    rb = decode_rulebook('calendar: {periods: [["09:00", "17:00"]], extra_holidays: [2025-03-04]}')
    result = replay(stream(OPEN, end=wd(30, "10:00")), rb)
    overdue = [a.ts for a in result.alerts if a.rule == "deadline.overdue"]
    assert overdue == [wd(8, "09:05")]


# --- the timer queue ------------------------------------------------------------------


def test_timer_wheel_matches_a_sorted_reference() -> None:
    rng = np.random.default_rng(7)
    wheel = TimerWheel(width=100.0)
    live: dict[TimerKey, float] = {}
    fired: list[tuple[float, TimerKey]] = []
    expected: list[tuple[float, TimerKey]] = []
    limit = 0.0
    for _ in range(300):
        op = rng.integers(0, 4)
        key: TimerKey = ("r", f"c{int(rng.integers(0, 40))}", "")
        if op <= 1:
            due = limit + float(rng.uniform(0, 1000))
            wheel.schedule(key, due)
            live[key] = due
        elif op == 2:
            wheel.cancel(key)
            live.pop(key, None)
        else:
            limit += float(rng.uniform(0, 300))
            ready = sorted((d, k) for k, d in live.items() if d < limit)
            expected += ready
            for _, k in ready:
                del live[k]
            wheel.fire_until(limit, lambda k, due: fired.append((due, k)))
            assert fired == expected
    assert len(wheel) == len(live)


def test_timer_callbacks_may_schedule_timers_that_fire_in_the_same_pass() -> None:
    wheel = TimerWheel(width=10.0)
    order: list[str] = []

    def cb(key: TimerKey, due: float) -> None:
        order.append(key[1])
        if key[1] == "a":
            wheel.schedule(("r", "b", ""), 5.0)
            wheel.schedule(("r", "c", ""), 50.0)

    wheel.schedule(("r", "a", ""), 1.0)
    wheel.fire_until(20.0, cb)
    assert order == ["a", "b"]
    assert wheel.horizon <= 50.0 and len(wheel) == 1


def test_card_board_keeps_the_highest_level() -> None:
    from engine.contract.alerts import Alert
    from engine.runtime.cards import CardBoard

    def alert(level: str, subject: str = "department:D1") -> Alert:
        return Alert(
            alert_id=f"r:{level}:{subject}", rule="r", level=level, subject=subject, ts=wd(0, "10:00")
        )

    board = CardBoard()
    assert board.record(alert("yellow")) is True
    assert board.record(alert("red")) is True
    assert board.record(alert("warning")) is False
    assert board.record(alert("yellow")) is False
    assert board.record(alert("warning", "case:C9")) is True
    assert board.levels() == {"case:C9": "warning", "department:D1": "red"}


# --- the watermark buffer: in-order fast path and heap ----------------------------------


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), spread=st.sampled_from([0.0, 5.0, 60.0]))
def test_watermark_buffer_matches_a_single_heap(seed: int, spread: float) -> None:
    """Run + heap release exactly what one heap would, and forget exactly the old ids."""
    rng = np.random.default_rng(seed)
    buf, ref = WatermarkBuffer(), list[Entry]()
    seen_buf: set[str] = set()
    released: list[tuple[float, str]] = []
    limit = 0.0
    for i in range(400):
        if rng.random() < 0.8:  # arrivals at or after the last limit, mostly in order
            ts = limit + float(rng.integers(0, 20)) + float(rng.uniform(0, spread))
            entry = (ts, f"e{int(rng.integers(0, 10**6)):07d}-{i}", None)
            buf.push(entry)
            heapq.heappush(ref, entry)
            seen_buf.add(entry[1])
        else:
            limit += float(rng.uniform(0, 15))
            due = buf.pop_due(limit)
            expected = [heapq.heappop(ref) for _ in range(sum(e[0] <= limit for e in ref))]
            assert due == expected
            released += [(e[0], e[1]) for e in due]
            buf.forget_before(limit - 10.0, seen_buf)
            forgotten = {eid for ts, eid in released if ts < limit - 10.0}
            assert not forgotten & seen_buf
            assert {eid for ts, eid in released if ts >= limit - 10.0} <= seen_buf
        assert len(buf) == len(ref)
    assert buf.first_ts() == (ref[0][0] if ref else math.inf)


class _HeapOnlyBuffer(WatermarkBuffer):
    """The buffer as it was before the in-order fast path: every arrival goes to the heap,
    one :meth:`push` at a time."""

    def push(self, entry: Entry) -> None:
        heapq.heappush(self._heap, entry)
        if entry[0] > self.newest:
            self.newest = entry[0]
            self.watermark = entry[0] - self._lateness

    def admit(
        self,
        events: Sequence[Any],
        times: Sequence[float],
        start: int,
        seen: set[str],
        *,
        ceiling: float,
        ahead: float | None,
        cap: float,
    ) -> int:
        """The batch path as the runtime's loop was: one :meth:`push` per arrival."""
        i = start
        while i < len(events):
            ts, eid = times[i], events[i].event_id
            if ts < self.watermark or ts > ceiling or eid in seen:
                break
            seen.add(eid)
            self.push((ts, eid, events[i]))
            if ahead is not None and ts + ahead > ceiling:
                ceiling = min(ts + ahead, cap)
            i += 1
        return i


def _heap_only(engine: Engine) -> Engine:
    engine._buffer = _HeapOnlyBuffer(engine._buffer._lateness)
    return engine


def _outputs(engine: Engine, alerts: list[Alert]) -> tuple[object, ...]:
    return alerts, engine.side_output, engine.stats, engine.card_levels


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), one_by_one=st.booleans())
def test_in_order_fast_path_matches_the_heap_path(seed: int, one_by_one: bool) -> None:
    rng = np.random.default_rng(seed)
    arrives_at = np.array([e.ts.timestamp() for e in MIXED]) + rng.uniform(0, LATENESS * 1.2, len(MIXED))
    arrival = [MIXED[int(i)] for i in np.argsort(arrives_at, kind="stable")]
    arrival += [arrival[int(i)] for i in rng.integers(0, len(arrival), 5)]  # duplicates, some late
    runs = []
    for engine in (Engine(clock=_clock), _heap_only(Engine(clock=_clock))):
        if one_by_one:
            alerts = [a for e in arrival for a in engine.process_one(e)]
        else:
            alerts = engine.process_many(arrival[:40]) + engine.process_many(arrival[40:])
        runs.append(_outputs(engine, alerts + engine.finish()))
    assert runs[0] == runs[1]
    assert runs[0][2]["late"] > 0 or runs[0][2]["duplicates"] > 0  # type: ignore[index]


@settings(max_examples=200, deadline=None)
@given(
    t=st.datetimes(min_value=datetime(1700, 1, 1), max_value=datetime(2400, 1, 1)),
    minutes=st.integers(-14 * 60, 14 * 60),
)
def test_posix_is_timestamp_bit_for_bit(t: datetime, minutes: int) -> None:
    aware = t.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    clock = PosixClock()
    assert clock.seconds(aware) == aware.timestamp()
    assert clock.seconds(aware) == aware.timestamp()  # second call: the remembered offset
    assert clock.seconds(t) == t.timestamp()  # naive: the local zone, through timestamp
    # A batch switching between tzinfos (fixed, naive, a zone with transitions) mid-stream.
    shanghai = t.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    batch = [aware, aware, t, shanghai, aware, aware.astimezone(UTC), shanghai]
    assert clock.many(batch) == [x.timestamp() for x in batch]


def test_cancelled_timers_do_not_hold_the_horizon_back() -> None:
    wheel = TimerWheel(width=10.0)
    for i in range(5):
        wheel.schedule(("r", f"c{i}", ""), 1.0 + i)
    for i in range(4):
        wheel.cancel(("r", f"c{i}", ""))
    assert wheel.fire_until(0.5, lambda k, due: None) == 0
    assert wheel.horizon == 5.0  # the live timer, not the cancelled one due at 1.0


class _E:
    """An arrival as the buffer sees it: only its id matters."""

    def __init__(self, event_id: str) -> None:
        self.event_id = event_id


def test_admit_buffers_a_run_and_stops_at_what_needs_the_slow_path() -> None:
    buf = WatermarkBuffer(lateness=10.0)
    seen: set[str] = set()
    events = [_E(x) for x in ("a", "b", "c", "a", "d")]
    times = [100.0, 95.0, 120.0, 121.0, 130.0]
    # "a" again (index 3) is a duplicate: the caller takes it.
    assert buf.admit(events, times, 0, seen, ceiling=200.0, ahead=None, cap=math.inf) == 3
    assert seen == {"a", "b", "c"} and buf.newest == 120.0 and buf.watermark == 110.0
    # A late arrival (below the watermark) stops it too, before touching ``seen``.
    assert buf.admit([_E("e")], [109.0], 0, seen, ceiling=200.0, ahead=None, cap=math.inf) == 0
    assert "e" not in seen
    # A following ceiling: newest + ahead, capped; 131 is above 120 + 10.
    assert (
        buf.admit([_E("f"), _E("g")], [125.0, 136.0], 0, seen, ceiling=130.0, ahead=10.0, cap=math.inf) == 1
    )
    assert buf.admit([_E("g")], [136.0], 0, seen, ceiling=135.0, ahead=10.0, cap=135.0) == 0
    assert [e[1] for e in buf.pop_due(math.inf)] == ["b", "a", "c", "f"]
