"""Inspection state: what the engine knows about each visit and each rectification notice.

Why a state family of its own: the inspection rules key on rectification notices (the deadline)
and, across visits, on units (the namings), not on approval cases or complaints. The runtime
applies each inspection event to :class:`InspectionBook` first and hands the rules the updated
state: a :class:`VisitState` for ``inspection.performed``, ``inspection.finding`` and
``inspection.suggestion_issued``, a
:class:`RectificationState` for the notice and its verification. Nothing is forgotten: a notice
verified as not rectified stays open, and the visits are few (about a hundred a year per hall).

The rectification rule's timers are the engine's calendar timers; the engine finds the notice a
fired timer is about through :meth:`InspectionBook.timer_state`, because the rule declares this
book as its ``timer_family``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.contract import events as ev

__all__ = ["InspectionBook", "RectificationState", "VisitState"]


@dataclass(slots=True)
class VisitState:
    """One inspection visit of one unit."""

    inspection_id: str
    hall_id: str
    department_id: str
    performed: datetime | None = None
    findings: int = 0
    #: supervision suggestions (监察建议) written to the unit after the visit: counted, never judged
    suggestions: int = 0


@dataclass(slots=True)
class RectificationState:
    """One rectification notice: issued with a deadline, open until verified as rectified."""

    rectification_id: str
    hall_id: str
    department_id: str
    inspection_id: str
    finding_id: str = ""
    issued: datetime | None = None
    deadline_days: float = 0.0
    rectified: datetime | None = None

    @property
    def subject(self) -> str:
        return f"rectification:{self.rectification_id}"


class InspectionBook:
    """Visits and rectification notices by id; :meth:`apply` updates one and returns it."""

    event_types: tuple[type, ...] = ev.INSPECTION_EVENT_TYPES

    def __init__(self) -> None:
        self.visits: dict[str, VisitState] = {}
        self.rectifications: dict[str, RectificationState] = {}

    def timer_state(self, rectification_id: str) -> RectificationState | None:
        """The notice a rectification timer ``(rule, rectification_id, "")`` is about."""
        return self.rectifications.get(rectification_id)

    def apply(self, event: Any) -> VisitState | RectificationState:
        cls = event.__class__
        if cls is ev.InspectionPerformed or cls is ev.InspectionFinding or cls is ev.SupervisionSuggested:
            v = self.visits.get(event.inspection_id)
            if v is None:
                v = self.visits[event.inspection_id] = VisitState(
                    event.inspection_id, event.hall_id, event.department_id
                )
            if cls is ev.InspectionPerformed:
                v.performed = event.ts
            elif cls is ev.InspectionFinding:
                v.findings += 1
            else:
                v.suggestions += 1
            return v
        r = self.rectifications.get(event.rectification_id)
        if r is None:
            r = self.rectifications[event.rectification_id] = RectificationState(
                event.rectification_id, event.hall_id, event.department_id, event.inspection_id
            )
        if cls is ev.RectificationIssued:
            r.finding_id = event.finding_id
            r.issued = event.ts
            r.deadline_days = event.deadline_days
        elif event.rectified and r.rectified is None:
            r.rectified = event.ts
        return r

    def after_rules(self, event: Any, state: Any) -> None:
        """Nothing to forget (see the module docstring)."""
