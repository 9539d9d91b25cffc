"""Hall KPIs from a hand-built event list (working calendar, legal and illegal suspensions)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

import pytest

from engine.contract.alerts import Alert
from engine.contract.calendar import SHANGHAI, WorkingCalendar
from engine.contract.events import (
    CaseAccepted,
    CaseClosed,
    CaseResumed,
    CaseSubmitted,
    CaseSuspended,
    Event,
    ItemPublished,
)
from reports.evaluation.kpis import hall_kpis

CAL = WorkingCalendar(first=date(2024, 1, 1), last=date(2024, 12, 31))  # 7 working hours a day


def at(day: int, hh: int, mm: int = 0) -> datetime:
    """2024-03-<day> in Shanghai; the 4th is a Monday."""
    return datetime(2024, 3, day, hh, mm, tzinfo=SHANGHAI)


MONDAY_9 = at(4, 9)


class Builder:
    def __init__(self) -> None:
        self.events: list[Event] = [
            ItemPublished(
                event_id="item-p",
                ts=at(1, 8),
                hall_id="h",
                item_id="p",
                department_id="d1",
                name="promised",
                promised_days=2,
            ),
            ItemPublished(
                event_id="item-i",
                ts=at(1, 8),
                hall_id="h",
                item_id="i",
                department_id="d1",
                name="instant",
                promised_days=0,
            ),
        ]

    def _common(self, case: str, dept: str) -> dict[str, Any]:
        return {"hall_id": "h", "case_id": case, "department_id": dept}

    def case(
        self,
        case: str,
        *,
        dept: str = "d1",
        item: str = "p",
        online: bool = False,
        accepted: datetime | None = MONDAY_9,
        closed: datetime | None = None,
        suspensions: tuple[tuple[str, datetime, datetime | None], ...] = (),
    ) -> None:
        case_type: Literal["instant", "promised"] = "promised" if item == "p" else "instant"
        c = self._common(case, dept)
        self.events.append(
            CaseSubmitted(
                event_id=f"{case}-s",
                ts=at(4, 8),
                item_id=item,
                case_type=case_type,
                channel="online" if online else "window",
                **c,
            )
        )
        if accepted is not None:
            self.events.append(
                CaseAccepted(
                    event_id=f"{case}-a", ts=accepted, item_id=item, staff_id="s1", case_type=case_type, **c
                )
            )
        for k, (reason, start, end) in enumerate(suspensions):
            self.events.append(
                CaseSuspended(event_id=f"{case}-p{k}", ts=start, reason=reason, staff_id="s1", **c)
            )
            if end is not None:
                self.events.append(CaseResumed(event_id=f"{case}-r{k}", ts=end, staff_id="s1", **c))
        if closed is not None:
            self.events.append(
                CaseClosed(event_id=f"{case}-c", ts=closed, staff_id="s1", outcome="approved", **c)
            )


def world() -> tuple[list[Event], list[Alert]]:
    b = Builder()
    b.case("c1", closed=at(5, 17))  # 13.5 of 14 working hours: early
    # legal suspension Mon 10:00 -> Tue 10:00 pauses 7 h: 19.5 - 7 = 12.5 h, early
    b.case("c2", closed=at(6, 16), suspensions=(("supplement", at(4, 10), at(5, 10)),))
    # the same with an illegal reason does not pause: 19.5 h, late
    b.case("c3", closed=at(6, 16), suspensions=(("applicant_busy", at(4, 10), at(5, 10)),))
    b.case("c4", closed=at(5, 17, 45))  # exactly 14 h used (evening after the last hour): on time, not early
    b.case("c5", item="i", online=True, closed=at(4, 10))  # instant
    b.case("c6")  # accepted, still open
    b.case("c7", dept="d2", online=True, accepted=None)  # submitted only
    # a legal suspension never resumed pauses until the close: 7 h effective, early
    b.case("c8", dept="d2", closed=at(7, 10), suspensions=(("hearing", at(5, 9), None),))

    def alert(rule: str, level: str, subject: str, dept: str | None = None) -> Alert:
        return Alert(
            alert_id=f"{rule}:{subject}",
            rule=rule,
            level=level,
            subject=subject,
            ts=at(6, 9),
            department_id=dept,
        )

    alerts = [
        alert("deadline.warning", "warning", "case:c6"),
        alert("deadline.warning", "warning", "case:c3"),
        alert("logic.illegal_suspension", "warning", "case:c3"),
        alert("deadline.overdue", "yellow", "case:c3"),
        alert("step.overdue", "warning", "case:c2"),
        alert("deadline.department_repeat", "red", "department:d1", dept="d1"),
    ]
    return b.events, alerts


def test_case_counts_and_shares() -> None:
    events, alerts = world()
    k = hall_kpis(events, alerts, calendar=CAL)
    assert (k.cases_seen, k.cases_submitted, k.cases_accepted, k.cases_closed) == (8, 8, 7, 6)
    assert k.instant_share == pytest.approx(1 / 8)
    assert k.online_share == pytest.approx(2 / 8)
    assert k.completion_rate == pytest.approx(6 / 7, abs=1e-6)


def test_early_completion_uses_working_time_and_legal_suspensions() -> None:
    events, alerts = world()
    k = hall_kpis(events, alerts, calendar=CAL)
    assert k.promised_closed == 5  # c1, c2, c3, c4, c8 (c5 is instant, c6 open)
    assert k.early_completed == 3  # c1, c2, c8
    assert k.on_time_completed == 4  # + c4
    assert k.early_completion_rate == pytest.approx(0.6)
    assert k.on_time_rate == pytest.approx(0.8)


def test_mean_processing_time_and_speedup_of_promised_cases() -> None:
    """c1 13.5 h, c2 12.5 h (suspension paused), c3 19.5 h, c4 14 h, c8 7 h = 66.5 of 5 x 14 h."""
    events, alerts = world()
    k = hall_kpis(events, alerts, calendar=CAL)
    assert k.mean_processing_days == pytest.approx(66.5 / 7 / 5)
    assert k.processing_speedup == pytest.approx(1 - 66.5 / 70)
    empty = hall_kpis([], [], calendar=CAL)
    assert empty.mean_processing_days is None and empty.processing_speedup is None


def test_alert_counts_per_10k_and_departments() -> None:
    events, alerts = world()
    k = hall_kpis(events, alerts, calendar=CAL)
    a = k.alerts
    assert (a.deadline_warnings, a.step_warnings, a.logic_warnings, a.yellow_cards, a.red_cards) == (
        2,
        1,
        1,
        1,
        1,
    )
    assert k.per_10k_cases is not None
    assert k.per_10k_cases.deadline_warnings == pytest.approx(2500.0)
    assert k.per_10k_cases.red_cards == pytest.approx(1250.0)
    d1, d2 = k.departments
    assert (d1.department_id, d1.cases_submitted, d1.cases_accepted, d1.cases_closed) == ("d1", 6, 6, 5)
    assert (d1.promised_closed, d1.early_completed) == (4, 2)
    assert (d1.alerts.deadline_warnings, d1.alerts.yellow_cards, d1.alerts.red_cards) == (2, 1, 1)
    assert (d2.department_id, d2.cases_submitted, d2.cases_accepted, d2.cases_closed) == ("d2", 2, 1, 1)
    assert d2.early_completion_rate == 1.0 and d2.alerts.deadline_warnings == 0


def test_empty_stream_has_undefined_rates() -> None:
    k = hall_kpis([], [], calendar=CAL)
    assert k.cases_seen == 0
    assert (k.instant_share, k.completion_rate, k.early_completion_rate, k.per_10k_cases) == (
        None,
        None,
        None,
        None,
    )


def test_alerts_naming_no_department_add_no_row_of_zeros() -> None:
    """Camera alerts (about a window, a staff member) count in no department column."""
    events, alerts = world()
    floor = Alert(
        alert_id="discipline.absence:window:W1", rule="discipline.absence", level="warning",
        subject="window:W1", ts=at(6, 9),
    )  # fmt: skip
    k = hall_kpis(events, [*alerts, floor], calendar=CAL)
    assert [d.department_id for d in k.departments] == ["d1", "d2"]
    lost = Alert(
        alert_id="deadline.warning:case:gone", rule="deadline.warning", level="warning",
        subject="case:gone", ts=at(6, 9),
    )  # fmt: skip
    k = hall_kpis(events, [*alerts, lost], calendar=CAL)  # a case the events do not know: counted
    row = next(d for d in k.departments if d.department_id == "(no department)")
    assert row.alerts.deadline_warnings == 1 and row.cases_submitted == 0
