"""The data-quality layer: each impairment on a tiny hand stream, with exact expectations.

The stream is one department's (``H1-D01``) approval records plus one record of another
department and a heartbeat, which must arrive untouched whatever the section says.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
import pytest

from engine.contract import events as ev
from sim.common.sections.quality import APPROVAL_KINDS, DataQuality, Outages
from sim.quality.delivery import draw_outages
from sim.quality.layer import Delivered, impair

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 3, 3, tzinfo=TZ)  # midnight of the first day
END = START + timedelta(days=7)


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return START + timedelta(days=day, hours=hh, minutes=mm)


def _case(kind: type[ev.Event], n: int, ts: datetime, dept: str = "H1-D01", **extra: Any) -> ev.Event:
    ids = {"hall_id": "H1", "case_id": f"C{n}", "department_id": dept}
    return kind(event_id=f"C{n}.{kind.__name__}", ts=ts, **ids, **extra)


def stream() -> list[ev.Event]:
    return [
        _case(ev.CaseAccepted, 1, at(0, 9, 5), item_id="I1", staff_id="S1", case_type="promised"),
        _case(ev.StepStarted, 1, at(0, 9, 20), step="review", post="review", staff_id="S2"),
        _case(ev.CaseAccepted, 2, at(0, 9, 25), "H1-D02", item_id="I2", staff_id="S9", case_type="promised"),
        _case(ev.StepCompleted, 1, at(2, 10), step="review", post="review", staff_id="S2"),
        ev.SourceHeartbeat(event_id="hb", ts=at(2, 17, 30), source_id="H1-approvals", hall_id="H1"),
    ]


def run(system: dict[str, Any], events: list[ev.Event] | None = None, seed: int = 7) -> Delivered:
    section = msgspec.convert({"systems": [{"name": "s1", "departments": ["D01"], **system}]}, DataQuality)
    return impair(section, stream() if events is None else events, seed=seed, start=START, end=END)


def records(d: Delivered) -> list[tuple[str, str, float]]:
    return [(r.event_id, r.impairment, r.amount_s) for r in d.impairments]


def untouched(d: Delivered) -> None:
    """The other department's record and the heartbeat arrive as they were, at their own ts."""
    other = stream()
    for e in (other[2], other[4]):
        i = d.events.index(e)
        assert d.arrivals[i] == e.ts


def test_a_system_without_habits_delivers_the_stream_unchanged() -> None:
    d = run({})
    assert d.events == stream()
    assert d.arrivals == [e.ts for e in stream()]
    assert d.impairments == []


def test_batch_sync_delays_arrival_and_reorders_but_keeps_event_time() -> None:
    d = run({"sync": {"every_minutes": 30}})
    s = stream()
    # C1's two morning records wait for the 09:30 sync: D02's 09:25 record overtakes them.
    assert [e.event_id for e in d.events[:3]] == [s[2].event_id, s[0].event_id, s[1].event_id]
    assert d.arrivals[:3] == [at(0, 9, 25), at(0, 9, 30), at(0, 9, 30)]
    assert [e.ts for e in d.events[:3]] == [s[2].ts, s[0].ts, s[1].ts]
    # on a sync instant: no wait
    assert records(d) == [(s[0].event_id, "sync_delay", 1500.0), (s[1].event_id, "sync_delay", 600.0)]
    untouched(d)


def test_nightly_sync_at_two_delivers_the_next_morning() -> None:
    d = run({"sync": {"every_minutes": 1440, "offset_minutes": 120}})
    s = stream()
    assert d.arrivals[d.events.index(s[0])] == at(1, 2)
    assert d.arrivals[d.events.index(s[3])] == at(3, 2)
    assert (s[3].event_id, "sync_delay", 16 * 3600.0) in records(d)


def test_an_outage_holds_records_then_delivers_them_in_one_burst() -> None:
    window = {"start": at(0, 9).isoformat(), "hours": 3}
    d = run({"outages": {"windows": [window]}})
    s = stream()
    assert d.arrivals[d.events.index(s[0])] == d.arrivals[d.events.index(s[1])] == at(0, 12)
    assert records(d) == [(s[0].event_id, "outage", 175 * 60.0), (s[1].event_id, "outage", 160 * 60.0)]
    untouched(d)


def test_drawn_outages_come_from_the_seed_within_the_run_and_merged() -> None:
    spec = msgspec.convert({"per_30_days": 30, "hours": {"min": 1, "max": 2}}, Outages)
    windows = draw_outages(spec, START, END, np.random.default_rng(1))
    assert windows == draw_outages(spec, START, END, np.random.default_rng(1))
    assert len(windows) >= 3  # Poisson, mean 7 over the week (some may merge)
    assert all(START <= b < e <= END + timedelta(hours=2) for b, e in windows)
    assert all(e1 < b2 for (_, e1), (b2, _) in itertools.pairwise(windows))


def test_clock_skew_and_drift_shift_the_stated_time_not_the_arrival() -> None:
    d = run({"clock": {"skew_minutes": 5, "drift_seconds_per_day": 60}})
    s = stream()
    late = d.events[[e.event_id for e in d.events].index(s[3].event_id)]
    assert late.ts == s[3].ts + timedelta(seconds=300 + 60 * (2 + 10 / 24))
    assert d.arrivals[d.events.index(late)] == s[3].ts
    assert records(d)[0] == (s[0].event_id, "clock_skew", 300.0 + round(60 * (9 + 5 / 60) / 24))
    untouched(d)


def test_missing_drops_only_the_kinds_named() -> None:
    d = run({"missing": {"step.started": 1.0}})
    s = stream()
    assert [e.event_id for e in d.events] == [e.event_id for e in s if e is not s[1]]
    assert records(d) == [(s[1].event_id, "missing", 0.0)]
    assert d.impairments[0].arrival is None and d.impairments[0].stated is None


@pytest.mark.parametrize(("new_id_share", "suffix"), [(0.0, ""), (1.0, "~dup")])
def test_duplicates_resend_or_reexport(new_id_share: float, suffix: str) -> None:
    ten = {"min": 10, "max": 10}
    spec = {"duplicates": {"rate": 1.0, "new_id_share": new_id_share, "delay_minutes": ten}}
    d = run(spec)
    s = stream()
    ids = [e.event_id for e in d.events]
    assert ids.count(s[0].event_id + suffix) == (2 if not suffix else 1)
    copy = (s[0].event_id + suffix, d.events.index(s[0]))
    j = max(i for i, e in enumerate(d.events) if e.event_id == copy[0] and i != copy[1])
    assert d.arrivals[j] == s[0].ts + timedelta(minutes=10)
    dup = [r for r in d.impairments if r.impairment == "duplicate"]
    first = dup[0]
    assert (first.event_id, first.copy_id, first.amount_s) == (s[0].event_id, s[0].event_id + suffix, 600.0)
    assert len(dup) == 3  # every D01 record, none of the others


def test_backfill_stated_arrives_late_with_its_true_time() -> None:
    d = run({"backfill": {"rate": 1.0, "delay_hours": {"median": 24, "sigma": 0}}})
    s = stream()
    assert d.arrivals[d.events.index(s[0])] == s[0].ts + timedelta(hours=24)
    assert (s[0].event_id, "backfill", 86400.0) in records(d)


def test_backfill_entry_stamps_entry_time_and_keeps_the_true_time_as_stated() -> None:
    d = run({"backfill": {"rate": 1.0, "delay_hours": {"median": 24, "sigma": 0}, "stamp": "entry"}})
    s = stream()
    (accepted,) = [e for e in d.events if e.event_id == s[0].event_id]
    assert isinstance(accepted, ev.CaseAccepted)
    assert accepted.ts == s[0].ts + timedelta(hours=24)
    assert accepted.stated_at == s[0].ts  # the look-alike of backdating
    (started,) = [e for e in d.events if e.event_id == s[1].event_id]
    assert started.ts == s[1].ts + timedelta(hours=24)  # no stated_at on this kind: the true time is lost


def test_what_would_arrive_after_the_run_is_not_in_the_stream() -> None:
    events = [*stream(), _case(ev.CaseClosed, 1, at(6, 23), staff_id="S1", outcome="approved")]
    d = run({"sync": {"every_minutes": 1440, "offset_minutes": 120}}, events)
    assert events[-1] not in d.events
    last = [r for r in d.impairments if r.event_id == events[-1].event_id]
    assert [(r.impairment, r.amount_s, r.arrival) for r in last] == [
        ("sync_delay", 3 * 3600.0, None),
        ("beyond_horizon", 2 * 3600.0, None),
    ]


def test_same_seed_same_delivery_and_another_seed_another() -> None:
    spec = {
        "sync": {"every_minutes": 15},
        "missing": {"step.started": 0.5, "step.completed": 0.5},
        "duplicates": {"rate": 0.5, "new_id_share": 0.5},
        "backfill": {"rate": 0.5},
    }
    many = [_case(ev.StepStarted, n, at(0, 9, n), step="r", post="r", staff_id="S") for n in range(1, 40)]
    a, b = run(spec, many, seed=3), run(spec, many, seed=3)
    enc = msgspec.json.encode
    assert enc(a.events) == enc(b.events) and enc(a.impairments) == enc(b.impairments)
    assert enc(run(spec, many, seed=4).impairments) != enc(a.impairments)


def test_the_missing_kinds_are_the_contracts_approval_kinds() -> None:
    tags = {t.__struct_config__.tag for t in ev.ApprovalEvent.__args__}  # type: ignore[attr-defined]
    assert set(APPROVAL_KINDS) == tags


def _decided(n: int, ts: datetime, decision: str) -> ev.Event:
    return _case(ev.CaseDecided, n, ts, approver_id="L1", decision=decision)


def test_an_old_catalogue_names_every_item_record_of_a_chosen_case_by_its_old_code() -> None:
    d = run({"old_catalogue": {"rate": 1.0, "suffix": "-v2019"}})
    s = stream()
    accepted = next(e for e in d.events if e.event_id == s[0].event_id)
    assert isinstance(accepted, ev.CaseAccepted) and accepted.item_id == "I1-v2019"
    assert accepted.ts == s[0].ts  # content, not timing
    assert records(d) == [(s[0].event_id, "old_catalogue", 0.0)]  # the step records name no item
    untouched(d)
    other = next(e for e in d.events if e.event_id == s[2].event_id)
    assert isinstance(other, ev.CaseAccepted) and other.item_id == "I2"  # D02 is not on that system


def test_the_catalogue_version_is_one_per_case() -> None:
    # half the cases on the old code: a case's submission and acceptance always agree
    events: list[ev.Event] = []
    for n in range(40):
        t = at(0, 9) + timedelta(minutes=n)
        events.append(_case(ev.CaseSubmitted, n, t, item_id="I1", channel="window", case_type="promised"))
        events.append(
            _case(
                ev.CaseAccepted,
                n,
                t + timedelta(seconds=30),
                item_id="I1",
                staff_id="S1",
                case_type="promised",
            )
        )
    d = run({"old_catalogue": {"rate": 0.5}}, events)
    by_case: dict[str, set[str]] = {}
    for e in d.events:
        by_case.setdefault(e.case_id, set()).add(e.item_id)  # type: ignore[attr-defined]
    assert all(len(items) == 1 for items in by_case.values())
    old = sum(1 for items in by_case.values() if items == {"I1-v2019"})
    assert 10 < old < 30


def test_a_wrong_status_mapping_swaps_approval_and_rejection_and_leaves_a_withdrawal() -> None:
    events = [
        _decided(1, at(0, 10), "approve"),
        _decided(2, at(0, 11), "reject"),
        _case(ev.CaseClosed, 1, at(0, 12), staff_id="S1", outcome="approved"),
        _case(ev.CaseClosed, 3, at(0, 13), staff_id="S1", outcome="withdrawn"),
    ]
    d = run({"status_mapping": {"rate": 1.0}}, events)
    assert [getattr(e, "decision", None) or getattr(e, "outcome", None) for e in d.events] == [
        "reject", "approve", "rejected", "withdrawn",
    ]  # fmt: skip
    assert [r.impairment for r in d.impairments] == ["status_mapping"] * 3
    assert run({"status_mapping": {"rate": 0.0}}, events).events == events


def test_content_errors_leave_the_other_families_draws_alone() -> None:
    # adding content errors to a system changes no timing draw: the same records arrive at the same times
    base = {"sync": {"every_minutes": 30}, "duplicates": {"rate": 0.5}, "backfill": {"rate": 0.3}}
    plain = run(base)
    worded = run({**base, "old_catalogue": {"rate": 1.0}, "status_mapping": {"rate": 1.0}})
    assert plain.arrivals == worded.arrivals
    assert [e.event_id for e in plain.events] == [e.event_id for e in worded.events]
