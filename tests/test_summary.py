"""Rendering: the table and the Markdown carry the rule rows, the numbers and the KPIs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec
import pytest

from engine.contract.alerts import Alert
from engine.contract.calendar import SHANGHAI, WorkingCalendar
from engine.contract.events import CaseAccepted, CaseClosed, CaseSubmitted, Event, ItemPublished
from reports import Evaluation, evaluate, render_markdown, render_table
from sim.common.truth import Episode

CAL = WorkingCalendar(first=date(2024, 1, 1), last=date(2024, 12, 31))


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2024, 3, day, hh, mm, tzinfo=SHANGHAI)


def world() -> tuple[list[Event], list[Alert], list[Episode]]:
    events: list[Event] = [
        ItemPublished(
            event_id="item",
            ts=at(1, 8),
            hall_id="h",
            item_id="p",
            department_id="d1",
            name="p",
            promised_days=1,
        )
    ]
    for case, closed in (("c1", at(4, 15)), ("c2", at(6, 10)), ("c3", None), ("c4", at(4, 11))):
        c: dict[str, Any] = {"hall_id": "h", "case_id": case, "department_id": "d1"}
        events.append(
            CaseSubmitted(
                event_id=f"{case}s", ts=at(4, 8), item_id="p", channel="window", case_type="promised", **c
            )
        )
        events.append(
            CaseAccepted(
                event_id=f"{case}a", ts=at(4, 9), item_id="p", staff_id="s", case_type="promised", **c
            )
        )
        if closed is not None:
            events.append(CaseClosed(event_id=f"{case}c", ts=closed, staff_id="s", outcome="approved", **c))

    def alert(rule: str, level: str, subject: str, ts: datetime) -> Alert:
        return Alert(alert_id=f"{rule}:{level}:{subject}", rule=rule, level=level, subject=subject, ts=ts)

    def ep(kind: str, case: str, onset: datetime, confuses: tuple[str, ...] = ()) -> Episode:
        return Episode(
            episode_id=f"{kind}:{case}",
            kind=kind,
            subject=f"case:{case}",
            onset=onset,
            lookalike=bool(confuses),
            confuses=confuses,
        )

    alerts = [
        alert("deadline.overdue", "yellow", "case:c2", at(5, 9)),  # TP
        alert("deadline.overdue", "yellow", "case:c1", at(5, 9)),  # FP on a look-alike
        alert("logic.excess_fee", "warning", "case:c4", at(4, 10)),  # TP
        alert("deadline.department_repeat", "red", "department:d1", at(5, 9)),  # unscored
    ]
    truth = [
        ep("overdue", "c2", at(5, 9)),
        ep("overdue", "c3", at(5, 9)),  # missed
        ep("excess_fee", "c4", at(4, 10)),
        ep("closed_just_before_deadline", "c1", at(5, 9), confuses=("overdue",)),
        ep("fee_on_fee_item", "c2", at(4, 10), confuses=("excess_fee",)),
    ]
    return events, alerts, truth


@pytest.fixture(scope="module")
def ev() -> Evaluation:
    events, alerts, truth = world()
    return evaluate(events, alerts, truth, calendar=CAL, bootstrap=100, seed=3)


def _row(text: str, rule: str) -> list[str]:
    (line,) = [ln for ln in text.splitlines() if ln.startswith(rule + " ")]
    return line.split()


def test_table_rule_rows(ev: Evaluation) -> None:
    text = render_table(ev)
    # rule, truth, P, alerts, TP, FP, FN, precision [ci], recall [ci], F1, latency
    od = _row(text, "deadline.overdue")
    assert od[:7] == ["deadline.overdue", "overdue", "2", "2", "1", "1", "1"]
    assert od[7] == "0.500" and od[10] == "0.500" and od[13] == "0.500" and od[14] == "0.00/0.00"
    fee = _row(text, "logic.excess_fee")
    assert fee[:7] == ["logic.excess_fee", "excess_fee", "1", "1", "1", "0", "0"]
    assert fee[7:10] == ["1.000", "[1.000,", "1.000]"]
    assert _row(text, "deadline.severe")[2:] == ["0", "0", "0", "0", "0", "n/a", "n/a", "n/a", "-"]
    assert "n/a = undefined (0/0)" in text
    assert _row(text, "all")[:7] == ["all", "-", "3", "3", "2", "1", "1"]
    assert "unscored alerts: deadline.department_repeat 1" in text
    assert "deadline.department_repeat " not in "\n".join(text.splitlines()[:20])  # not a scored row
    assert "matching tolerance ±60 s" in text and "100 resamples, seed 3" in text


def test_table_lookalikes_and_kpis(ev: Evaluation) -> None:
    text = render_table(ev)
    assert "Look-alikes flagged: 1 of 2" in text
    look = {
        ln.split()[0]: ln.split()[1::2] for ln in text.splitlines() if ln.startswith("  ") and "flagged" in ln
    }
    assert look["closed_just_before_deadline"] == ["1", "1"]
    assert look["fee_on_fee_item"] == ["1", "0"]
    assert "cases seen / submitted / accepted / closed  4 / 4 / 4 / 3" in text
    assert "completion rate (closed / accepted)         75.00 %" in text
    # c1 and c4 closed on day one (early), c2 two days late
    assert "early-completion rate                       66.67 % (2 of 3 promised cases closed)" in text
    assert "yellow cards                                2 (5000.00 per 10,000 cases)" in text
    assert text.rstrip().endswith("5 truth episodes (3 violations, 2 look-alikes), 4 cases")


def test_markdown_content(ev: Evaluation) -> None:
    md = render_markdown(ev, title="Scenario baseline, seed 3")
    assert md.startswith("# Scenario baseline, seed 3\n")
    assert "| deadline.overdue | overdue | 2 | 2 | 1 | 1 | 1 | 0.500 [" in md
    assert "| deadline.severe | severely_overdue | 0 | 0 | 0 | 0 | 0 | n/a | n/a | n/a | - |" in md
    assert "| all | - | 3 | 3 | 2 | 1 | 1 |" in md
    assert "| closed_just_before_deadline | 1 | 1 |" in md
    assert "Flagged: **1** of 2" in md
    assert "| early-completion rate | 66.67 % (2 of 3 promised cases closed) |" in md
    assert "| d1 | 4 | 4 | 3 | 66.67 % | 0 | 1 | 2 | 1 |" in md
    assert "within ±60 s" in md and "cluster-bootstrap resamples of cases" in md


def test_rendering_is_deterministic_and_order_free(ev: Evaluation) -> None:
    events, alerts, truth = world()
    again = evaluate(events[::-1], alerts[::-1], truth[::-1], calendar=CAL, bootstrap=100, seed=3)
    assert msgspec.json.encode(again) == msgspec.json.encode(ev)
    assert render_table(again) == render_table(ev)
    assert render_markdown(again, title="t") == render_markdown(ev, title="t")
    decoded = msgspec.json.decode(msgspec.json.encode(ev), type=Evaluation)
    assert decoded == ev


def test_without_bootstrap_no_intervals_are_printed() -> None:
    events, alerts, truth = world()
    text = render_table(evaluate(events, alerts, truth, calendar=CAL, bootstrap=0))
    assert "bootstrap disabled" in text
    assert _row(text, "deadline.overdue")[7:10] == ["0.500", "0.500", "0.500"]
