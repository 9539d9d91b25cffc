"""Scoring after the county rule: 100 + bonus − deductions, ranked and graded.

The table below is worked out by hand from the default deductions: below standard −1,
late −1, both −2, red card −3 (instead of the others for that case), department red −3.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec
import pytest

from engine.contract import events as ev
from engine.contract.alerts import Alert, alert_id
from engine.rules.rulebook import decode_rulebook
from engine.rules.settings import ScoringSection
from engine.scoring import ScoreRow, case_outcome, grade_rows, score_units

TZ = timezone(timedelta(hours=8))
T = datetime(2025, 3, 3, 10, 0, tzinfo=TZ)
LEVELS = {
    "logic.excess_fee": "warning",
    "logic.skipped_step": "warning",
    "logic.backdated": "warning",
    "logic.illegal_suspension": "warning",
    "deadline.warning": "warning",
    "step.overdue": "warning",
    "deadline.overdue": "yellow",
    "deadline.severe": "red",
    "deadline.department_repeat": "red",
}


def _alert(rule: str, subject: str, staff: str | None, dept: str | None) -> Alert:
    level = LEVELS[rule]
    return Alert(
        alert_id=alert_id(rule, level, subject),
        rule=rule,
        level=level,
        subject=subject,
        ts=T,
        department_id=dept,
        staff_id=staff,
    )


ALERTS = [
    _alert("logic.excess_fee", "case:C1", "S1", "D1"),  # D1, S1: below standard
    _alert("deadline.overdue", "case:C2", "S2", "D1"),  # D1, S2: late
    _alert("logic.skipped_step", "case:C3", "S1", "D1"),  # D1: both; S1: below
    _alert("deadline.overdue", "case:C3", "S2", "D1"),  # ... S2: late
    _alert("deadline.overdue", "case:C4", "S3", "D2"),  # D2, S3: red (only)
    _alert("deadline.severe", "case:C4", "S3", "D2"),
    _alert("logic.backdated", "case:C4", "S3", "D2"),
    _alert("deadline.department_repeat", "department:D2", None, "D2"),  # D2: department red
    _alert("deadline.warning", "case:C5", "S4", "D3"),  # warnings cost nothing
    _alert("step.overdue", "case:C5", "S4", "D3"),
    _alert("logic.backdated", "case:C6", "S4", None),  # department from the events
    _alert("logic.illegal_suspension", "case:C6", "S4", None),  # same case: counted once
]

EVENTS: list[ev.Event] = [
    ev.CaseSubmitted(
        event_id="s6", ts=T, hall_id="H1", case_id="C6", department_id="D3", item_id="I1",
        channel="window", case_type="promised",
    ),
    ev.StaffAuthorised(event_id="a5", ts=T, hall_id="H1", staff_id="S5", department_id="D4"),
]  # fmt: skip


def _table(rows: list[ScoreRow]) -> list[tuple[str, float, int, int, int, int, int, int, int]]:
    return [
        (
            r.unit_id,
            r.score,
            r.below_standard,
            r.late,
            r.both,
            r.red_cards,
            r.rank,
            r.grade,
            int(r.deductions),
        )
        for r in rows
    ]


def test_department_scores_by_hand() -> None:
    card = score_units(ALERTS, EVENTS)
    assert _table(card.departments) == [
        # id, score, below, late, both, red, rank, class, deductions
        ("D4", 100.0, 0, 0, 0, 0, 1, 1, 0),
        ("D3", 99.0, 1, 0, 0, 0, 2, 2, 1),
        ("D1", 96.0, 1, 1, 1, 0, 3, 2, 4),
        ("D2", 94.0, 0, 0, 0, 2, 4, 3, 6),
    ]
    assert all(r.unit == "department" and r.base == 100.0 and r.bonus == 0.0 for r in card.departments)


def test_staff_scores_by_hand() -> None:
    card = score_units(ALERTS, EVENTS)
    assert _table(card.staff) == [
        ("S5", 100.0, 0, 0, 0, 0, 1, 1, 0),
        ("S4", 99.0, 1, 0, 0, 0, 2, 2, 1),
        ("S1", 98.0, 2, 0, 0, 0, 3, 2, 2),
        ("S2", 98.0, 0, 2, 0, 0, 3, 2, 2),  # tied with S1: same rank and class
        ("S3", 97.0, 0, 0, 0, 1, 5, 3, 3),
    ]


def test_bonus_and_table_come_from_outside() -> None:
    harsh = decode_rulebook("scoring: {red_card: 5, both: 3}").scoring
    card = score_units(ALERTS, EVENTS, harsh, bonus={"department:D2": 4.0})
    d2 = next(r for r in card.departments if r.unit_id == "D2")
    assert (d2.bonus, d2.deductions, d2.score) == (4.0, 10.0, 94.0)
    d1 = next(r for r in card.departments if r.unit_id == "D1")
    assert d1.score == 100 - 1 - 1 - 3


def test_no_floor_on_deductions() -> None:
    many = [_alert("deadline.severe", f"case:X{i}", "S9", "D9") for i in range(40)]
    card = score_units(many, [])
    assert [(r.unit_id, r.score) for r in card.departments] == [("D9", -20.0)]


@pytest.mark.parametrize(
    ("below", "late", "red", "outcome"),
    [
        (False, False, False, "none"),
        (True, False, False, "below_standard"),
        (False, True, False, "late"),
        (True, True, False, "both"),
        (True, True, True, "red"),
        (False, False, True, "red"),
    ],
)
def test_case_outcome(below: bool, late: bool, red: bool, outcome: str) -> None:
    assert case_outcome(below, late, red) == outcome


def test_ten_units_are_graded_two_six_two() -> None:
    rows = [
        ScoreRow(
            unit="department", unit_id=f"D{i}", base=100.0, bonus=0.0, deductions=float(i), score=100.0 - i
        )
        for i in range(10)
    ]
    graded = grade_rows(rows, ScoringSection())
    assert [r.grade for r in graded] == [1, 1, 2, 2, 2, 2, 2, 2, 3, 3]
    assert [r.rank for r in graded] == list(range(1, 11))


def test_scoring_is_deterministic_and_serialisable() -> None:
    a = msgspec.json.encode(score_units(ALERTS, EVENTS))
    b = msgspec.json.encode(score_units(list(reversed(ALERTS)), list(reversed(EVENTS))))
    assert a == b


def test_engine_alerts_feed_scoring() -> None:
    from dataclasses import replace

    from case_streams import CaseScript, detect_stream, stream, wd

    late = replace(CaseScript(), decided=None, certificate=None, closed=None, case_id="C7")
    result = detect_stream(late, replace(CaseScript(), fee=80.0), end=wd(30, "10:00"))
    card = score_units(result.alerts, stream(late, CaseScript()))
    d1 = next(r for r in card.departments if r.unit_id == "D1")
    assert (d1.below_standard, d1.red_cards, d1.score) == (1, 1, 96.0)
    w1 = next(r for r in card.staff if r.unit_id == "W1")  # charged the excess fee
    assert w1.score == 99.0
