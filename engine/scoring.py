"""Performance evaluation (绩效评估): score, rank and grade departments and officials.

County supervision bureaus score units as 累积分 = 基本分 + 奖励分 − 倒扣分 (cumulative =
base + bonus − deductions, base 100, no floor) and then grade them in classes. This module
applies that rule to the engine's alerts. It is a pure function of its inputs (alerts,
the events they came from, the rulebook's scoring table), so the same run always ranks
the same way.

How alerts become deductions, per unit and per case (the table is ``rulebook.scoring``):

* A case is *below standard* for a unit when one of ``below_standard_rules`` (the logic
  warnings) fired on it, and *late* when one of ``late_rules`` (the yellow card) did.
* Below standard only → ``below_standard`` (−1); late only → ``late`` (−1); both →
  ``both`` (−2): the county rule's "on time but below standard", "to standard but late",
  "neither".
* A red card on the case (``level == "red"``) is a serious incident → ``red_card`` (−3)
  *instead of* the above: it is the worst outcome of that case and is not counted twice.
* A red card on the department itself (repeated yellow cards) → ``red_card`` once each.
* Warnings that are neither (deadline warnings, step warnings) cost nothing: a case at
  risk is not yet a failure.
* Hall discipline alerts listed in ``discipline_deductions`` (leaving the post −3, late
  arrival and early departure −1) cost their points to the staff member and the department.

Attribution: a case's alerts count against its department (``alert.department_id``, or the
case's department from the events) and against the official named by ``alert.staff_id``.
Every department and official seen in the events gets a row, with 100 if nothing was
deducted, because a ranking that leaves out the blameless is no ranking.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Literal

import msgspec

from engine.contract.alerts import Alert
from engine.contract.events import Event, StaffAuthorised
from engine.rules.settings import ScoringSection

__all__ = ["CaseOutcome", "ScoreRow", "Scorecard", "case_outcome", "grade_rows", "score_units"]

Unit = Literal["department", "staff"]
CaseOutcome = Literal["none", "below_standard", "late", "both", "red"]


class ScoreRow(msgspec.Struct, frozen=True, kw_only=True):
    """One unit's score; ``rank`` 1 is best, ties share a rank; ``grade`` is class 1, 2 or 3."""

    unit: Unit
    unit_id: str
    base: float
    bonus: float
    deductions: float
    score: float
    below_standard: int = 0
    late: int = 0
    both: int = 0
    red_cards: int = 0
    rank: int = 0
    grade: int = 0


class Scorecard(msgspec.Struct, frozen=True, kw_only=True):
    departments: list[ScoreRow]
    staff: list[ScoreRow]


class _Flags:
    __slots__ = ("below", "late", "red")

    def __init__(self) -> None:
        self.below = self.late = self.red = False


def case_outcome(below: bool, late: bool, red: bool) -> CaseOutcome:
    """The county rule's classification of one case for one unit."""
    if red:
        return "red"
    if below and late:
        return "both"
    if late:
        return "late"
    if below:
        return "below_standard"
    return "none"


def _units_from_events(events: Iterable[Event]) -> tuple[dict[str, str], set[str], set[str]]:
    """(case → department, departments, staff) seen in the stream."""
    case_dept: dict[str, str] = {}
    depts: set[str] = set()
    staff: set[str] = set()
    for e in events:
        dept = getattr(e, "department_id", None)
        if dept is not None:
            depts.add(dept)
        case_id = getattr(e, "case_id", None)
        if case_id is not None and dept is not None:
            case_dept.setdefault(case_id, dept)
        for attr in ("staff_id", "approver_id"):
            sid = getattr(e, attr, None)
            if sid is not None:
                staff.add(sid)
        if isinstance(e, StaffAuthorised):
            staff.add(e.staff_id)
    return case_dept, depts, staff


def grade_rows(rows: list[ScoreRow], table: ScoringSection) -> list[ScoreRow]:
    """Rank by score (best first, then id) and grade: the top ``class_one_fraction`` in
    class one, the next ``class_two_fraction`` in class two, the rest in class three.
    Units tied on score share the rank and the better class."""
    ordered = sorted(rows, key=lambda r: (-r.score, r.unit_id))
    n = len(ordered)
    n1 = math.floor(table.class_one_fraction * n + 0.5 + 1e-9)
    n12 = math.floor((table.class_one_fraction + table.class_two_fraction) * n + 0.5 + 1e-9)
    out: list[ScoreRow] = []
    for pos, row in enumerate(ordered):
        if out and out[-1].score == row.score:
            rank, grade = out[-1].rank, out[-1].grade
        else:
            rank = pos + 1
            grade = 1 if pos < n1 else 2 if pos < n12 else 3
        out.append(msgspec.structs.replace(row, rank=rank, grade=grade))
    return out


def _rows(
    unit: Unit,
    flags: Mapping[str, Mapping[str, _Flags]],
    unit_reds: Mapping[str, int],
    population: Iterable[str],
    table: ScoringSection,
    bonus: Mapping[str, float],
    discipline: Mapping[str, float],
) -> list[ScoreRow]:
    rows: list[ScoreRow] = []
    for uid in sorted(set(population) | set(flags) | set(unit_reds) | set(discipline)):
        counts = {"below_standard": 0, "late": 0, "both": 0, "red": 0}
        for case_flags in flags.get(uid, {}).values():
            outcome = case_outcome(case_flags.below, case_flags.late, case_flags.red)
            if outcome != "none":
                counts[outcome] += 1
        reds = counts["red"] + unit_reds.get(uid, 0)
        deductions = (
            counts["below_standard"] * table.below_standard
            + counts["late"] * table.late
            + counts["both"] * table.both
            + reds * table.red_card
            + discipline.get(uid, 0.0)
        )
        extra = float(bonus.get(f"{unit}:{uid}", 0.0))
        rows.append(
            ScoreRow(
                unit=unit,
                unit_id=uid,
                base=table.base,
                bonus=extra,
                deductions=deductions,
                score=table.base + extra - deductions,
                below_standard=counts["below_standard"],
                late=counts["late"],
                both=counts["both"],
                red_cards=reds,
            )
        )
    return grade_rows(rows, table)


def score_units(
    alerts: Iterable[Alert],
    events: Iterable[Event],
    table: ScoringSection | None = None,
    *,
    bonus: Mapping[str, float] | None = None,
) -> Scorecard:
    """Score every department and official (see the module docstring for the rule).

    ``bonus`` maps ``"department:<id>"`` / ``"staff:<id>"`` to bonus points (奖励分), which
    come from outside the engine (commendations, early-completion awards).
    """
    table = table if table is not None else ScoringSection()
    below_rules = frozenset(table.below_standard_rules)
    late_rules = frozenset(table.late_rules)
    case_dept, depts, staff = _units_from_events(events)
    dept_flags: dict[str, dict[str, _Flags]] = {}
    staff_flags: dict[str, dict[str, _Flags]] = {}
    dept_reds: dict[str, int] = {}
    points: dict[str, dict[str, float]] = {"department": {}, "staff": {}}
    for alert in alerts:
        kind, _, sid = alert.subject.partition(":")
        cost = table.discipline_deductions.get(alert.rule)
        if cost is not None:  # hall discipline: the person and their department pay
            for unit, uid in (("staff", alert.staff_id), ("department", alert.department_id)):
                if uid is not None:
                    points[unit][uid] = points[unit].get(uid, 0.0) + cost
            continue
        if kind == "department":
            if alert.level == "red":
                dept_reds[sid] = dept_reds.get(sid, 0) + 1
            continue
        if kind != "case":
            continue
        below = alert.rule in below_rules
        late = alert.rule in late_rules
        red = alert.level == "red"
        if not (below or late or red):
            continue
        owners: list[tuple[dict[str, dict[str, _Flags]], str]] = []
        dept = alert.department_id or case_dept.get(sid)
        if dept is not None:
            owners.append((dept_flags, dept))
        if alert.staff_id is not None:
            owners.append((staff_flags, alert.staff_id))
        for table_flags, uid in owners:
            f = table_flags.setdefault(uid, {}).setdefault(sid, _Flags())
            f.below |= below
            f.late |= late
            f.red |= red
    bonus = bonus or {}
    return Scorecard(
        departments=_rows("department", dept_flags, dept_reds, depts, table, bonus, points["department"]),
        staff=_rows("staff", staff_flags, {}, staff, table, bonus, points["staff"]),
    )
