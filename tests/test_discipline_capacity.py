"""The capacity alert on hand-built hall streams, and the wait truth it is scored against."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.core import Engine
from engine.rules.discipline.capacity import CapacityRule
from engine.rules.rulebook import Rulebook
from sim.floor.waits import capacity_truth, window_waits

TZ = ZoneInfo("Asia/Shanghai")
DAY = datetime(2025, 11, 3, tzinfo=TZ)  # a Monday, a working day
DEPT = "D1"


def at(h: int, m: int, s: float = 0.0) -> datetime:
    return DAY + timedelta(hours=h, minutes=m, seconds=s)


def roster(windows: int = 1) -> list[ev.Event]:
    return [
        ev.StaffRoster(
            event_id=f"ro{k}",
            ts=at(8, 0),
            hall_id="H",
            staff_id=f"S{k}",
            window_id=f"W{k}",
            department_id=DEPT,
            shift_start=at(9, 0),
            shift_end=at(17, 30),
        )
        for k in range(windows)
    ]


def sub(cid: str, t: datetime, channel: str = "window") -> ev.CaseSubmitted:
    return ev.CaseSubmitted(
        event_id=f"{cid}-s",
        ts=t,
        hall_id="H",
        case_id=cid,
        department_id=DEPT,
        item_id="I1",
        channel=channel,  # type: ignore[arg-type]
        case_type="promised",
    )


def acc(cid: str, t: datetime, staff: str = "S0") -> ev.CaseAccepted:
    return ev.CaseAccepted(
        event_id=f"{cid}-a",
        ts=t,
        hall_id="H",
        case_id=cid,
        department_id=DEPT,
        item_id="I1",
        staff_id=staff,
        case_type="promised",
        window_id="W0",
    )


def run(events: list[ev.Event], **params: float) -> list[Alert]:
    book = Rulebook.default()
    stream = sorted(events, key=lambda e: (e.ts, e.event_id))
    end = stream[-1].ts.timestamp()  # replayed as an export taken at its last event
    engine = Engine(book, rules=[CapacityRule(**params)], clock=lambda: end)
    alerts = engine.process_many(stream)
    return alerts + engine.finish()


def test_fires_at_the_threshold_not_below() -> None:
    # One window: A is served, B waits from 10:01.
    base = [*roster(1), sub("A", at(10, 0)), sub("B", at(10, 1))]
    assert run([*base, acc("A", at(10, 20, 59)), acc("B", at(10, 30))]) == []  # B waited 19:59
    alerts = run([*base, acc("A", at(10, 21, 30)), acc("B", at(10, 30))])
    assert [a.ts for a in alerts] == [at(10, 21)]
    a = alerts[0]
    assert a.rule == "discipline.capacity" and a.subject == f"department:{DEPT}" and a.level == "warning"
    assert a.evidence["windows"] == 1 and a.evidence["waiting"] == 1
    assert "emergency window" in str(a.evidence["advice"])


def test_one_alert_per_episode_and_it_ends_when_the_queue_clears() -> None:
    events = [
        *roster(1),
        sub("A", at(10, 0)),
        sub("B", at(10, 1)),
        sub("C", at(10, 10)),
        sub("D", at(10, 20)),
        acc("A", at(10, 30)),  # B waited 20 min at 10:21: alert
        acc("B", at(10, 35)),  # head D has waited 15 min: below, but back at 20 by 10:40
        acc("C", at(10, 50)),
        acc("D", at(11, 0)),  # the queue has cleared: the episode ends
        sub("E", at(11, 0)),
        sub("F", at(11, 1)),
        acc("E", at(11, 30)),  # a new episode: F at 11:21
        acc("F", at(11, 40)),
    ]
    assert [a.ts for a in run(events)] == [at(10, 21), at(11, 21)]
    # Without the 5-minute grace the dip at 10:35 ends the first episode.
    assert [a.ts for a in run(events, capacity_clear_minutes=0.0)] == [at(10, 21), at(10, 40), at(11, 21)]
    assert run(events, capacity_wait_minutes=30.0) == []


def test_windows_online_cases_and_lunch() -> None:
    waits = [sub("A", at(10, 0)), sub("B", at(10, 1)), sub("C", at(10, 2))]
    ends = [acc("A", at(10, 40)), acc("B", at(10, 50)), acc("C", at(11, 0))]
    # Two windows: only C is certainly waiting (from 10:02).
    assert [a.ts for a in run([*roster(2), *waits, *ends])] == [at(10, 22)]
    # No roster: the number of windows is unknown, so nobody is known to wait.
    assert run([*waits, *ends]) == []
    # Online submissions are not in the hall.
    online = [sub("A", at(10, 0), "online"), sub("B", at(10, 1), "online"), *ends[:2]]
    assert run([*roster(1), *online]) == []
    # Waits count working time: from 11:50 the 20 minutes end at 13:40, not 12:10.
    lunch = [*roster(1), sub("X", at(11, 40)), sub("Y", at(11, 50)), acc("X", at(14, 0)), acc("Y", at(14, 5))]
    assert [a.ts for a in run(lunch)] == [at(13, 40)]


def test_wait_truth_reconstructs_the_call_from_the_clerks_services() -> None:
    events: list[ev.Event] = [
        sub("A", at(10, 0)),
        sub("B", at(10, 1)),
        sub("O", at(9, 0), "online"),
        sub("C", at(10, 50)),
        acc("O", at(10, 5), "S1"),  # S1 holds an online intake until 10:05
        acc("A", at(10, 12), "S0"),
        acc("B", at(10, 30), "S1"),  # B called when S1 was freed, at 10:05
        acc("C", at(11, 0), "S0"),  # C arrived after S0 was free: no wait
        acc("Z", at(10, 40), "LEADER"),  # not a window clerk: ignored
    ]
    events.sort(key=lambda e: (e.ts, e.event_id))
    waits = {w.case_id: w for w in window_waits(events, {"S0", "S1"})}
    assert sorted(waits) == ["A", "B", "C"]
    assert (
        waits["A"].called == at(10, 0) and waits["B"].called == at(10, 5) and waits["C"].called == at(10, 50)
    )
    cal = Rulebook.default().build_calendar()
    eps = capacity_truth(list(waits.values()), cal, wait_minutes=3.0, merge_minutes=5.0)
    assert [(e.onset, e.end, e.subject) for e in eps] == [(at(10, 4), at(10, 5), f"department:{DEPT}")]
    assert capacity_truth(list(waits.values()), cal, wait_minutes=4.0, merge_minutes=5.0) == []


# --- the queue-number system -------------------------------------------------------------


def ticket(n: int, t: datetime, dept: str = DEPT) -> ev.QueueTicket:
    return ev.QueueTicket(
        event_id=f"{dept}-{n}-ticket", ts=t, hall_id="H", department_id=dept, ticket=f"{dept}-{n:03d}"
    )


def called(n: int, t: datetime, dept: str = DEPT) -> ev.QueueCalled:
    return ev.QueueCalled(
        event_id=f"{dept}-{n}-window",
        ts=t,
        hall_id="H",
        department_id=dept,
        ticket=f"{dept}-{n:03d}",
        window_id="W0",
        staff_id="S0",
    )


def test_tickets_fire_at_the_threshold_not_below_and_end_when_called() -> None:
    # Two windows, so the estimate (3rd oldest walk-in) would see nobody waiting: tickets know better.
    base = [*roster(2), ticket(1, at(10, 0)), ticket(2, at(10, 5))]
    assert run([*base, called(1, at(10, 19, 59)), called(2, at(10, 24, 59))]) == []
    alerts = run([*base, called(1, at(10, 20, 30)), called(2, at(10, 40)), ticket(3, at(11, 0))])
    assert [a.ts for a in alerts] == [at(10, 20)]  # one episode: ticket 2 crosses at 10:25 in it
    ev_ = alerts[0].evidence
    assert ev_["source"] == "queue_tickets" and ev_["waiting"] == 2 and ev_["longest_wait_minutes"] == 20.0
    # Called at 10:30, the episode is over; ticket 3 (11:00) uncalled opens a second one at 11:20
    # (timers fire when a later event arrives: ticket 4 at 11:30).
    again = run(
        [*base, called(1, at(10, 30)), called(2, at(10, 31)), ticket(3, at(11, 0)), ticket(4, at(11, 30))]
    )
    assert [a.ts for a in again] == [at(10, 20), at(11, 20)]
    # A threshold of 40 min: only ticket 3 (11:00, called 11:45) waits that long; and an uncalled
    # ticket 2 is passed over by that call, so the crossing reported is ticket 2's (10:45).
    tail = [ticket(3, at(11, 0)), called(3, at(11, 45))]
    assert [
        a.ts
        for a in run([*base, called(1, at(10, 30)), called(2, at(10, 31)), *tail], capacity_wait_minutes=40.0)
    ] == [at(11, 40)]
    assert [a.ts for a in run([*base, called(1, at(10, 30)), *tail], capacity_wait_minutes=40.0)] == [
        at(10, 45)
    ]


def test_abandoned_tickets_are_passed_over_and_numbers_restart_daily() -> None:
    # Ticket 1 is abandoned (过号): ticket 2 is called at 10:10, so 1 no longer waits.
    base = [*roster(1), ticket(1, at(10, 0)), ticket(2, at(10, 5)), called(2, at(10, 10))]
    assert run(base) == []
    # Not passed over before the threshold: the rule cannot know the holder left.
    assert [
        a.ts for a in run([*roster(1), ticket(1, at(10, 0)), ticket(2, at(10, 5)), called(2, at(10, 25))])
    ] == [at(10, 20)]
    # Numbers restart every day. Ticket 5 (17:20) uncalled at closing: abandoned if the next
    # morning's first call (today's 001, 09:05) passes it before its 20 working minutes (09:10) ...
    tomorrow = DAY + timedelta(days=1)
    day2 = [
        ticket(1, tomorrow + timedelta(hours=9, minutes=1)),
        called(1, tomorrow + timedelta(hours=9, minutes=5)),
    ]
    assert run([*roster(1), ticket(5, at(17, 20)), *day2]) == []
    # ... while a holder called first thing the next morning (09:15) waited over the night.
    carried = [*roster(1), ticket(5, at(17, 20)), called(5, tomorrow + timedelta(hours=9, minutes=15))]
    assert [a.ts for a in run(carried)] == [tomorrow + timedelta(hours=9, minutes=10)]
    # A call applied before its ticket (same instant, id order) leaves nobody waiting.
    early = [*roster(1), ticket(1, at(10, 0)), called(1, at(10, 0))]
    early[-1] = ev.QueueCalled(**{**msgspec.structs.asdict(early[-1]), "event_id": "0-first"})
    assert run([*early, ticket(2, at(10, 30)), called(2, at(10, 31))]) == []


def test_fallback_to_the_estimate_for_departments_without_tickets() -> None:
    other = "D2"

    def sub2(cid: str, t: datetime) -> ev.CaseSubmitted:
        return msgspec.structs.replace(sub(cid, t), department_id=other, event_id=f"{cid}-s2")

    def acc2(cid: str, t: datetime) -> ev.CaseAccepted:
        return msgspec.structs.replace(acc(cid, t), department_id=other, event_id=f"{cid}-a2")

    ro2 = [msgspec.structs.replace(r, department_id=other, event_id=f"{r.event_id}-2") for r in roster(1)]
    # D1 has tickets called promptly; its walk-ins' acceptance (as the estimate sees it) is slow.
    d1 = [*roster(1), sub("A", at(10, 0)), sub("B", at(10, 1)), ticket(1, at(10, 0)), ticket(2, at(10, 1))]
    d1 += [called(1, at(10, 0, 30)), called(2, at(10, 5)), acc("A", at(10, 30)), acc("B", at(10, 40))]
    d2 = [*ro2, sub2("X", at(10, 0)), sub2("Y", at(10, 1)), acc2("X", at(10, 30)), acc2("Y", at(10, 40))]
    alerts = run([*d1, *d2])
    assert [(a.department_id, a.ts, a.evidence["source"]) for a in alerts] == [
        (other, at(10, 21), "estimate")
    ]
    # Without the ticket records D1 falls back to the estimate, which fires.
    no_tickets = [e for e in d1 if not isinstance(e, ev.QueueTicket | ev.QueueCalled)]
    assert [a.department_id for a in run(no_tickets)] == [DEPT]
