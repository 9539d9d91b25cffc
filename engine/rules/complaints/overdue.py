"""Complaint handling overdue (限时办结): the unit has not answered within its working-day limit.

The clock of a handling round starts at ``complaint.assigned`` (a reopened complaint is handed
over again and starts a new round with a full limit); an approved extension
(``complaint.extended``) moves the limit by its ``extra_days`` if it comes before the limit has
passed; the answer stops it. One alert per complaint and round, at the limit's instant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from msgspec import Meta

from engine.contract import events as ev
from engine.rules.complaints.book import ComplaintState
from engine.rules.complaints.clock import ComplaintRule
from engine.rules.registry import register
from engine.runtime.timers import TimerKey

__all__ = ["AnswerDays", "ComplaintOverdue"]

AnswerDays = Annotated[
    float,
    Meta(
        gt=0,
        le=365,
        description="Working days a unit has to answer a complaint handed to it (限时办结); ten is a common "
        "county limit for an ordinary efficiency complaint (an assumption: local rules range from 5 to 15).",
    ),
]


@register
class ComplaintOverdue(ComplaintRule):
    """The unit did not answer within ``answer_days`` working days (plus approved extensions)."""

    name = "complaint.overdue"
    level = "warning"
    kinds = ("complaint.assigned", "complaint.extended", "complaint.answered")

    def __init__(self, *, answer_days: AnswerDays = 10.0) -> None:
        self.answer_days = answer_days

    def check_one(self, event: Any, state: Any) -> None:
        cls = event.__class__
        if cls is ev.ComplaintAnswered:
            self.disarm(state)
        elif state.awaiting_answer and state.assigned is not None:
            self.arm(state, state.assigned, self.answer_days + state.extra_days)

    def timer_one(self, state: ComplaintState, key: TimerKey, when: datetime) -> None:
        if key[2] != str(state.round) or not state.awaiting_answer or state.assigned is None:
            return
        self.emit_complaint(
            state,
            when,
            staff_id=state.staff_id,
            discriminator=key[2],
            evidence={
                "round": state.round,
                "assigned_at": state.assigned.isoformat(),
                "limit_days": self.answer_days,
                "extension_days": state.extra_days,
            },
        )
