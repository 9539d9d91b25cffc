"""The discipline rules on hand-built camera streams: hysteresis, outages, breaks, attendance."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.replay import detect
from engine.rules.rulebook import Rulebook

TZ = ZoneInfo("Asia/Shanghai")
DAY = datetime(2025, 11, 3, tzinfo=TZ)  # a Monday, a working day
CAM, WIN, STAFF, DEPT = "W1-CAM", "W1", "S1", "D1"


def at(h: int, m: int, s: float = 0.0) -> datetime:
    return DAY + timedelta(hours=h, minutes=m, seconds=s)


END = at(17, 59)


def base(*, until: datetime = END, silent: tuple[datetime, datetime] | None = None) -> list[ev.Event]:
    """Roster, clock-in at 08:50, clock-out at 17:35, heartbeats every minute (except ``silent``)."""
    out: list[ev.Event] = [
        ev.StaffRoster(
            event_id="ro",
            ts=at(8, 0),
            hall_id="H",
            staff_id=STAFF,
            window_id=WIN,
            department_id=DEPT,
            shift_start=at(9, 0),
            shift_end=at(17, 30),
            breaks=(ev.TimeSpan(start=at(15, 0), end=at(15, 15)),),
        ),
        ev.StaffClockIn(event_id="ci", ts=at(8, 50), hall_id="H", staff_id=STAFF, window_id=WIN),
        ev.StaffClockOut(event_id="co", ts=at(17, 35), hall_id="H", staff_id=STAFF, window_id=WIN),
    ]
    t = at(8, 30)
    while t < until:
        if silent is None or not silent[0] <= t < silent[1]:
            out.append(ev.CameraHeartbeat(event_id=f"hb{t:%H%M}", ts=t, hall_id="H", camera_id=CAM))
        t += timedelta(minutes=1)
    return out


def seen(t: datetime, present: bool, conf: float = 0.9, tag: str = "") -> ev.PresenceDetected:
    return ev.PresenceDetected(
        event_id=f"p{t:%H%M%S%f}{tag}",
        ts=t,
        hall_id="H",
        camera_id=CAM,
        zone="seat",
        present=present,
        confidence=conf,
        window_id=WIN,
    )


def run(events: list[ev.Event], *rules: str, **discipline: float) -> list[Alert]:
    book = Rulebook.default()
    if discipline:
        section = msgspec.structs.replace(book.rules.discipline, **discipline)
        book = msgspec.structs.replace(book, rules=msgspec.structs.replace(book.rules, discipline=section))
    book = book.with_enabled(*(rules or ("discipline.absence",)))
    stream = sorted(events, key=lambda e: (e.ts, e.event_id))
    return detect(stream, book).alerts


def flicker(start: datetime, end: datetime, every_s: float, burst_s: float, value: bool) -> list[ev.Event]:
    """Short bursts of the wrong verdict (``value``) between ``start`` and ``end``."""
    out: list[ev.Event] = []
    t = start
    while t + timedelta(seconds=burst_s) < end:
        out += [seen(t, value, 0.7), seen(t + timedelta(seconds=burst_s), not value, 0.9)]
        t += timedelta(seconds=every_s)
    return out


def test_flicker_while_present_never_starts_an_absence() -> None:
    events = [*base(), seen(at(8, 55), True), *flicker(at(9, 0), at(17, 0), 90, 20, False)]
    assert run(events) == []


def test_a_real_absence_with_flicker_alerts_once_dated_from_its_first_verdict() -> None:
    events = [*base(), seen(at(8, 55), True), seen(at(10, 0), False)]
    events += flicker(at(10, 2), at(10, 30), 120, 10, True)  # false "present" bursts while away
    events.append(seen(at(10, 30), True))
    alerts = run(events)
    assert len(alerts) == 1
    assert alerts[0].ts == at(10, 15)
    assert alerts[0].evidence["since"] == at(10, 0).isoformat()
    assert alerts[0].subject == f"staff:{STAFF}"


def test_a_short_return_does_not_end_the_absence_but_a_long_one_does() -> None:
    short = [
        *base(),
        seen(at(8, 55), True),
        seen(at(10, 0), False),
        seen(at(10, 8), True),
        seen(at(10, 8, 20), False),
    ]
    assert [a.ts for a in run(short)] == [at(10, 15)]
    long = [
        *base(),
        seen(at(8, 55), True),
        seen(at(10, 0), False),
        seen(at(10, 8), True),
        seen(at(10, 9), False),
    ]
    assert [a.ts for a in run(long)] == [at(10, 24)]


def test_absence_below_the_threshold_or_the_debounce_is_silent() -> None:
    events = [*base(), seen(at(8, 55), True), seen(at(10, 0), False), seen(at(10, 14), True)]
    assert run(events) == []
    assert len(run(events, absence_minutes=10.0)) == 1


def test_service_time_only_lunch_does_not_count() -> None:
    # 11:50-12:00 and 13:30-13:34 are 14 service minutes, although 104 wall-clock minutes.
    events = [*base(), seen(at(8, 55), True), seen(at(11, 50), False), seen(at(13, 34), True)]
    assert run(events) == []
    events[-1] = seen(at(13, 40), True)
    assert [a.ts for a in run(events)] == [at(13, 35)]


def test_roster_rest_and_declared_break_are_excused_but_overstay_is_not() -> None:
    rest = [*base(), seen(at(8, 55), True), seen(at(15, 0), False), seen(at(15, 20), True)]
    assert run(rest) == []
    escort = [
        *base(),
        seen(at(8, 55), True),
        ev.StaffBreak(
            event_id="br",
            ts=at(10, 0),
            hall_id="H",
            staff_id=STAFF,
            window_id=WIN,
            reason="escort",
            until=at(10, 20),
        ),
        seen(at(10, 0), False),
        seen(at(10, 30), True),
    ]
    assert run(escort) == []
    overstay = [*escort[:-1], seen(at(10, 40), True)]
    assert [a.ts for a in run(overstay)] == [at(10, 35)]


def test_outage_suppresses_the_absence_and_raises_an_equipment_alert() -> None:
    events = [
        *base(silent=(at(10, 5), at(10, 40))),
        seen(at(8, 55), True),
        seen(at(10, 0), False),
        seen(at(10, 40), True),
    ]
    names = ("discipline.absence", "discipline.camera_offline")
    alerts = run(events, *names)
    assert [a.rule for a in alerts] == ["discipline.camera_offline"]
    assert alerts[0].ts == at(10, 9)  # last heartbeat 10:04 + 5 min
    assert alerts[0].subject == f"camera:{CAM}"
    assert alerts[0].hall_id == "H"  # before: None, so a hall's alert list and board never showed it


def test_no_equipment_alert_overnight() -> None:
    events = base(until=at(18, 0))
    events.append(
        ev.CameraHeartbeat(event_id="next", ts=at(8, 30) + timedelta(days=1), hall_id="H", camera_id=CAM)
    )
    assert run(events, "discipline.camera_offline") == []


def test_clock_skew_and_duplicates_within_lateness_give_the_same_alerts() -> None:
    events = [*base(), seen(at(8, 55), True), seen(at(10, 0), False), seen(at(10, 30), True)]
    events += [seen(at(13, 40), False), seen(at(14, 0), True)]
    ref = run(events, "discipline.absence", "discipline.blue_card", "discipline.yellow_card")
    skewed = [
        msgspec.structs.replace(e, ts=e.ts + timedelta(seconds=7))
        if "CAM" in getattr(e, "camera_id", "")
        else e
        for e in events
    ]
    shuffled = list(reversed(skewed)) + skewed[::5]  # reversed within lateness, plus duplicates
    book = Rulebook.default().with_enabled(
        "discipline.absence", "discipline.blue_card", "discipline.yellow_card"
    )
    got = detect(shuffled, msgspec.structs.replace(book, allowed_lateness=86400)).alerts
    assert [a.alert_id for a in got] == [a.alert_id for a in ref]
    assert [a.rule for a in ref] == [
        "discipline.absence",
        "discipline.blue_card",
        "discipline.absence",
        "discipline.yellow_card",
    ]


def test_late_and_early_against_the_roster() -> None:
    events = [e for e in base() if e.event_id not in ("ci", "co")]
    events += [
        ev.StaffClockIn(event_id="ci", ts=at(9, 20), hall_id="H", staff_id=STAFF, window_id=WIN),
        ev.StaffClockOut(event_id="co", ts=at(17, 0), hall_id="H", staff_id=STAFF, window_id=WIN),
    ]
    alerts = run(events, "discipline.late_arrival", "discipline.early_departure")
    assert [(a.rule, a.ts) for a in alerts] == [
        ("discipline.late_arrival", at(9, 5)),
        ("discipline.early_departure", at(17, 0)),
    ]
    assert run(base(), "discipline.late_arrival", "discipline.early_departure") == []


def test_empty_window_needs_the_queue_and_the_time() -> None:
    events = [*base(), seen(at(8, 55), True), seen(at(10, 0), False), seen(at(10, 20), True)]
    counts = [3, 4, 2, 3, 5, 4, 4, 4, 4, 4, 4, 4, 4, 1, 0]
    for k, c in enumerate(counts):
        t = at(10, 0) + timedelta(minutes=k)
        events.append(
            ev.QueueCount(
                event_id=f"q{k}", ts=t, hall_id="H", camera_id="Q", zone="q", count=c, department_id=DEPT
            )
        )
    alerts = run(events, "discipline.empty_window")
    assert [a.ts for a in alerts] == [at(10, 5, 30)]  # seat empty after the 30-s debounce, queue on
    assert run(events, "discipline.empty_window", queue_threshold=6) == []


def test_dispute_needs_two_confident_detections_close_together() -> None:
    def audio(t: datetime, c: float) -> ev.AudioAlert:
        return ev.AudioAlert(
            event_id=f"a{t:%H%M%S}",
            ts=t,
            hall_id="H",
            camera_id=CAM,
            sound="raised_voice",
            confidence=c,
            window_id=WIN,
        )

    events = [
        *base(),
        seen(at(8, 55), True),
        audio(at(10, 0), 0.9),
        audio(at(10, 5), 0.9),
        audio(at(11, 0), 0.3),
    ]
    events += [audio(at(11, 1), 0.9), audio(at(14, 0), 0.8), audio(at(14, 1), 0.8), audio(at(14, 2), 0.8)]
    alerts = run(events, "discipline.dispute")
    assert [a.ts for a in alerts] == [at(14, 1)]


def test_a_one_count_dip_of_the_queue_does_not_restart_the_empty_window() -> None:
    events = [*base(), seen(at(8, 55), True), seen(at(10, 0), False), seen(at(10, 20), True)]
    for k in range(30):  # every 30 s from 10:00, one count below the threshold at 10:02
        t = at(10, 0) + timedelta(seconds=30 * k)
        c = 2 if k == 4 else 4
        events.append(
            ev.QueueCount(
                event_id=f"q{k}", ts=t, hall_id="H", camera_id="Q", zone="q", count=c, department_id=DEPT
            )
        )
    alerts = run(events, "discipline.empty_window", queue_window=1)
    assert [a.ts for a in alerts] == [at(10, 5, 30)]  # the dip is shorter than queue_off_seconds
    alerts = run(events, "discipline.empty_window", queue_window=1, queue_off_seconds=0.0)
    assert [a.ts for a in alerts] == [at(10, 7, 30)]  # without it the 5 minutes restart at 10:02:30
