"""The inspection rules on hand-made streams: rectification deadlines in working days, namings by month."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.replay import detect
from engine.rules.inspections.named import months_after
from engine.rules.rulebook import Rulebook

TZ = timezone(timedelta(hours=8))
# Monday 2025-03-03; default periods 09:00-12:00 and 13:30-17:30 (7 working hours a day).
MON = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)
BOOK = Rulebook.default().with_enabled("inspection.rectification_overdue", "inspection.named_twice")


def _day(n: int, hour: int = 10, minute: int = 0) -> datetime:
    """The n-th calendar day after MON at hour:minute (March 2025 has no holidays)."""
    return (MON + timedelta(days=n)).replace(hour=hour, minute=minute)


class _Stream:
    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def add(self, cls: type[Any], ts: datetime, visit: str = "V1", dept: str = "D1", **fields: Any) -> None:
        n = len(self.events) + 1
        self.events.append(
            cls(event_id=f"e{n:03d}", ts=ts, hall_id="H1", inspection_id=visit, department_id=dept, **fields)
        )

    def notice(self, ts: datetime, rid: str = "R1", days: float = 10.0) -> None:
        self.add(ev.InspectionPerformed, ts, inspectors=["A1", "A2"])
        self.add(ev.InspectionFinding, ts, finding_id="F1", problem="delay")
        self.add(ev.RectificationIssued, ts, rectification_id=rid, finding_id="F1", deadline_days=days)

    def named(self, ts: datetime, visit: str, dept: str = "D1", finding: str = "F1") -> None:
        self.add(ev.InspectionPerformed, ts, visit, dept, inspectors=["A1", "A2", "A3"])
        self.add(ev.InspectionFinding, ts, visit, dept, finding_id=finding, problem="attitude", named=True)

    def run(self, until: datetime) -> list[Alert]:
        hb = ev.SourceHeartbeat(event_id="hb-end", ts=until, source_id="H1-complaints", hall_id="H1")
        ordered = sorted(self.events, key=lambda e: e.ts)
        return detect([*ordered, hb], BOOK, reference=until).alerts


def _rules(alerts: list[Alert]) -> list[tuple[str, str, datetime]]:
    return [(a.rule, a.subject, a.ts) for a in alerts]


def test_a_notice_never_verified_is_overdue_at_its_deadline_instant() -> None:
    s = _Stream()
    s.notice(MON)  # Monday 09:00 + 10 working days: ends Friday 14 March 17:30, latest instant Monday 09:00
    alerts = s.run(_day(20))
    assert _rules(alerts) == [("inspection.rectification_overdue", "rectification:R1", _day(14, 9))]
    assert alerts[0].department_id == "D1" and alerts[0].evidence["deadline_days"] == 10.0


def test_rectified_in_the_last_minutes_is_on_time_and_a_minute_late_is_overdue() -> None:
    on_time = _Stream()
    on_time.notice(MON)  # the deadline's last working minute is Friday 14 March 17:29
    on_time.add(
        ev.RectificationVerified, _day(11, 17, 29), rectification_id="R1", rectified=True, verified_by="A"
    )
    assert on_time.run(_day(20)) == []
    late = _Stream()
    late.notice(MON)  # the next working minute after the deadline: Monday 17 March 09:01
    late.add(ev.RectificationVerified, _day(14, 9, 1), rectification_id="R1", rectified=True, verified_by="A")
    assert [a.rule for a in late.run(_day(20))] == ["inspection.rectification_overdue"]


def test_a_verification_that_finds_no_rectification_keeps_the_clock_running() -> None:
    s = _Stream()
    s.notice(MON, days=2.0)
    s.add(ev.RectificationVerified, _day(1, 11), rectification_id="R1", rectified=False, verified_by="A1")
    assert [a.rule for a in s.run(_day(10))] == ["inspection.rectification_overdue"]


def test_a_unit_named_twice_within_twelve_months_loses_its_award_eligibility() -> None:
    s = _Stream()
    s.named(MON, "V1")
    s.named(datetime(2026, 3, 2, 10, tzinfo=TZ), "V2")  # 2 March 2026: the window of 3 March 2025 holds it
    alerts = s.run(datetime(2026, 3, 10, tzinfo=TZ))
    assert _rules(alerts) == [
        ("inspection.named_twice", "department:D1", datetime(2026, 3, 2, 10, tzinfo=TZ))
    ]
    assert alerts[0].evidence["inspection_ids"] == ["V1", "V2"]


def test_namings_thirteen_months_or_exactly_a_year_apart_are_not_twice_in_twelve_months() -> None:
    for second in (datetime(2026, 4, 3, 10, tzinfo=TZ), datetime(2026, 3, 3, 10, tzinfo=TZ)):
        s = _Stream()
        s.named(MON, "V1")
        s.named(second, "V2")
        assert s.run(second + timedelta(days=5)) == [], second


def test_two_findings_of_one_visit_name_the_unit_once_and_other_units_do_not_count() -> None:
    s = _Stream()
    s.named(MON, "V1")
    s.add(ev.InspectionFinding, MON, "V1", finding_id="F2", problem="delay", named=True)
    s.named(_day(2), "V2", dept="D2")
    s.add(ev.InspectionFinding, _day(3), "V3", finding_id="F3", problem="delay", named=False)
    assert s.run(_day(10)) == []


def test_a_run_of_namings_is_one_alert_until_the_last_one_leaves_the_window() -> None:
    s = _Stream()
    for i, d in enumerate((0, 30, 60, 400)):
        s.named(_day(d), f"V{i}")
    s.named(_day(420), "V9")
    alerts = s.run(_day(430))
    assert [(a.ts, a.alert_id.rsplit(":", 1)[-1]) for a in alerts] == [(_day(30), "1"), (_day(400), "2")]


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 3, 15), 12, date(2026, 3, 15)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
    ],
)
def test_months_after_keeps_the_day_or_takes_the_months_last(day: date, months: int, expected: date) -> None:
    assert months_after(day, months) == expected
