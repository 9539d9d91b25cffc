"""Complaint state: what the engine knows about each complaint from the complaint events.

Why a state family of its own: the complaint rules key on complaints (and, across them, on
units and officials), not on approval cases. The runtime applies each complaint event to
:class:`ComplaintBook` first and then hands the updated :class:`ComplaintState` to the rules
watching that kind, as it does for cases and tenders. Unlike a case, a complaint is *not*
forgotten when it is closed: a closed complaint may be reopened, and closing it does not
excuse the feedback owed to the complainant. Complaints are few (hundreds a year per hall),
so keeping them costs little.

The complaint rules' timers are the engine's calendar timers (working-time indices, fired by
the watermark, like the deadline rules'); the engine finds the state a fired timer is about
through :meth:`ComplaintBook.timer_state`, because the rules declare this book as their
``timer_family``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.contract import events as ev
from engine.runtime.timers import TimerKey

__all__ = ["ComplaintBook", "ComplaintState"]


@dataclass(slots=True)
class ComplaintState:
    complaint_id: str
    hall_id: str
    department_id: str | None = None
    #: the official the complaint names, when it names one
    staff_id: str | None = None
    received: datetime | None = None
    #: handling rounds so far (each ``complaint.assigned`` opens one)
    round: int = 0
    assigned: datetime | None = None
    #: working days granted by extensions in the current round
    extra_days: float = 0.0
    answered: datetime | None = None
    #: who signed the current round's answer, and what it found
    answered_by: str | None = None
    finding: str | None = None
    feedback: datetime | None = None
    closed: bool = False
    timer_keys: list[TimerKey] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return f"complaint:{self.complaint_id}"

    @property
    def awaiting_answer(self) -> bool:
        return self.round > 0 and self.answered is None

    @property
    def awaiting_feedback(self) -> bool:
        return self.answered is not None and self.feedback is None


class ComplaintBook:
    """Complaints by id; :meth:`apply` updates one and returns it."""

    event_types: tuple[type, ...] = ev.COMPLAINT_EVENT_TYPES

    def __init__(self) -> None:
        self.complaints: dict[str, ComplaintState] = {}

    def timer_state(self, complaint_id: str) -> ComplaintState | None:
        """The state a complaint rule's timer ``(rule, complaint_id, round)`` is about."""
        return self.complaints.get(complaint_id)

    def apply(self, event: Any) -> ComplaintState:
        cid = event.complaint_id
        c = self.complaints.get(cid)
        if c is None:
            c = self.complaints[cid] = ComplaintState(cid, event.hall_id)
        cls = event.__class__
        if cls is ev.ComplaintReceived:
            c.received = event.ts
        elif cls is ev.ComplaintClassified:
            c.department_id = event.department_id
            c.staff_id = event.staff_id
        elif cls is ev.ComplaintAssigned:
            c.department_id = event.department_id
            c.round += 1
            c.assigned = event.ts
            c.extra_days = 0.0
            c.answered = c.feedback = None
            c.answered_by = c.finding = None
        elif cls is ev.ComplaintExtended:
            c.extra_days += event.extra_days
        elif cls is ev.ComplaintAnswered:
            c.answered = event.ts
            c.answered_by = event.staff_id
            c.finding = event.finding
        elif cls is ev.ComplaintFeedbackGiven:
            if c.feedback is None:
                c.feedback = event.ts
        elif cls is ev.ComplaintClosed:
            c.closed = True
        elif cls is ev.ComplaintReopened:
            c.closed = False
        return c

    def after_rules(self, event: Any, state: ComplaintState) -> None:
        """Nothing to forget: a closed complaint may be reopened (see the module docstring)."""
