"""The complaint rules on hand-made streams: limits on the working calendar, extensions, repeats, findings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.replay import detect
from engine.rules.rulebook import Rulebook

TZ = timezone(timedelta(hours=8))
# Monday 2025-03-03; default periods 09:00-12:00 and 13:30-17:30 (7 working hours a day).
MON = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)
BOOK = Rulebook.default().with_enabled(
    "complaint.overdue", "complaint.feedback_overdue", "complaint.repeat", "complaint.substantiated"
)


def _day(n: int, hour: int = 10, minute: int = 0) -> datetime:
    """The n-th calendar day after MON at hour:minute (March 2025 has no holidays)."""
    return (MON + timedelta(days=n)).replace(hour=hour, minute=minute)


class _Stream:
    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def add(self, cls: type[Any], ts: datetime, cid: str = "K1", **fields: Any) -> None:
        n = len(self.events) + 1
        self.events.append(cls(event_id=f"e{n:03d}", ts=ts, hall_id="H1", complaint_id=cid, **fields))

    def opened(self, ts: datetime, cid: str = "K1", staff: str | None = "S1", dept: str = "D1") -> None:
        self.add(ev.ComplaintReceived, ts, cid, channel="phone")
        self.add(ev.ComplaintClassified, ts, cid, category="attitude", department_id=dept, staff_id=staff)
        self.add(ev.ComplaintAssigned, ts, cid, department_id=dept)

    def run(self, until: datetime) -> list[Alert]:
        hb = ev.SourceHeartbeat(event_id="hb-end", ts=until, source_id="H1-complaints", hall_id="H1")
        return detect([*self.events, hb], BOOK, reference=until).alerts


def _rules(alerts: list[Alert]) -> list[tuple[str, str, datetime]]:
    return [(a.rule, a.subject, a.ts) for a in alerts]


def test_an_unanswered_complaint_is_overdue_at_the_limit_instant() -> None:
    s = _Stream()
    s.opened(MON)  # Monday 09:00: ten working days end Friday 14 March 17:30, latest instant Monday 09:00
    alerts = s.run(_day(20))
    limit = _day(14, 9)
    assert ("complaint.overdue", "complaint:K1", limit) in _rules(alerts)
    (a,) = [a for a in alerts if a.rule == "complaint.overdue"]
    assert a.staff_id == "S1" and a.department_id == "D1" and a.evidence["round"] == 1


def test_an_answer_on_the_last_minutes_is_not_overdue_and_one_after_is() -> None:
    s = _Stream()
    s.opened(MON)
    s.add(
        ev.ComplaintAnswered, _day(11, 17, 10), department_id="D1", staff_id="S1", finding="unsubstantiated"
    )
    s.add(ev.ComplaintFeedbackGiven, _day(12, 10), via="phone")
    assert not [a for a in s.run(_day(20)) if a.rule == "complaint.overdue"]
    late = _Stream()
    late.opened(MON)
    late.add(
        ev.ComplaintAnswered, _day(14, 9, 30), department_id="D1", staff_id="S1", finding="unsubstantiated"
    )
    alerts = late.run(_day(20))
    assert ("complaint.overdue", "complaint:K1", _day(14, 9)) in _rules(alerts)


def test_an_extension_before_the_limit_moves_it_and_one_after_does_not() -> None:
    s = _Stream()
    s.opened(MON)
    s.add(ev.ComplaintExtended, _day(7), extra_days=5, reason="site_visit", approved_by="SUP")
    s.add(ev.ComplaintAnswered, _day(15), department_id="D1", staff_id="S1", finding="unsubstantiated")
    s.add(ev.ComplaintFeedbackGiven, _day(15, 11), via="phone")
    assert not [a for a in s.run(_day(30)) if a.rule == "complaint.overdue"]
    after = _Stream()
    after.opened(MON)
    after.add(ev.ComplaintExtended, _day(14), extra_days=5, reason="site_visit", approved_by="SUP")
    alerts = after.run(_day(30))
    assert _rules([a for a in alerts if a.rule == "complaint.overdue"]) == [
        ("complaint.overdue", "complaint:K1", _day(14, 9))
    ]


def test_closing_without_feedback_is_feedback_overdue_and_feedback_in_time_is_not() -> None:
    s = _Stream()
    s.opened(MON)
    s.add(ev.ComplaintAnswered, _day(1, 9), department_id="D1", staff_id="S9", finding="unsubstantiated")
    s.add(ev.ComplaintClosed, _day(1, 10), outcome="resolved")
    alerts = [a for a in s.run(_day(10)) if a.rule == "complaint.feedback_overdue"]
    # answered Tuesday 09:00: three working days end Thursday 17:30 (the latest instant: Friday 09:00)
    assert [(a.ts, a.staff_id, a.evidence["closed"]) for a in alerts] == [(_day(4, 9), "S9", True)]
    ok = _Stream()
    ok.opened(MON)
    ok.add(ev.ComplaintAnswered, _day(1, 9), department_id="D1", staff_id="S9", finding="unsubstantiated")
    ok.add(ev.ComplaintFeedbackGiven, _day(3, 17), via="sms")
    assert not [a for a in ok.run(_day(10)) if a.rule == "complaint.feedback_overdue"]


def test_a_reopened_complaint_gets_a_fresh_limit_per_round() -> None:
    s = _Stream()
    s.opened(MON)
    s.add(ev.ComplaintAnswered, _day(1), department_id="D1", staff_id="S1", finding="unsubstantiated")
    s.add(ev.ComplaintFeedbackGiven, _day(1, 11), via="phone", satisfied=False)
    s.add(ev.ComplaintReopened, _day(2))
    s.add(ev.ComplaintAssigned, _day(2, 11), department_id="D1")
    alerts = [a for a in s.run(_day(30)) if a.rule == "complaint.overdue"]
    assert [(a.alert_id.rsplit(":", 1)[1], a.ts) for a in alerts] == [("2", _day(16, 11))]


def test_repeat_complaints_about_an_official_raise_one_alert_per_window() -> None:
    s = _Stream()
    for k, day in enumerate((0, 7, 14)):
        s.opened(_day(day), cid=f"K{k}", staff="S1")
    s.opened(_day(120), cid="K9", staff="S1")
    s.opened(_day(127), cid="K10", staff="S1")
    alerts = [a for a in s.run(_day(140)) if a.rule == "complaint.repeat" and a.subject == "staff:S1"]
    assert [(a.ts, a.evidence["complaint_ids"]) for a in alerts] == [
        (_day(7), ["K0", "K1"]),
        (_day(127), ["K9", "K10"]),
    ]


def test_a_substantiated_complaint_naming_an_official_suspends_them() -> None:
    s = _Stream()
    s.opened(MON, cid="K1", staff="S1")
    s.opened(MON, cid="K2", staff=None)
    for cid in ("K1", "K2"):
        s.add(ev.ComplaintAnswered, _day(2), cid, department_id="D1", staff_id="L1", finding="substantiated")
    alerts = [a for a in s.run(_day(5)) if a.rule == "complaint.substantiated"]
    assert [(a.subject, a.staff_id, a.level) for a in alerts] == [("complaint:K1", "S1", "red")]
