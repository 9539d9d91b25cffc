"""Feedback overdue (及时反馈): the complainant has not been told the outcome within the limit.

The clock starts at the unit's answer (``complaint.answered``) and stops at
``complaint.feedback_given``; closing the complaint does not stop it, because a complaint
closed without telling the complainant is exactly the failure this rule is for. One alert
per complaint and round, at the limit's instant.
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

__all__ = ["FeedbackDays", "FeedbackOverdue"]

FeedbackDays = Annotated[
    float,
    Meta(
        gt=0,
        le=365,
        description="Working days from a unit's answer to the feedback to the complainant (及时反馈); three "
        "is an assumption, typical of published complaint procedures.",
    ),
]


@register
class FeedbackOverdue(ComplaintRule):
    """No feedback to the complainant within ``feedback_days`` working days of the answer."""

    name = "complaint.feedback_overdue"
    level = "warning"
    kinds = ("complaint.answered", "complaint.feedback_given")

    def __init__(self, *, feedback_days: FeedbackDays = 3.0) -> None:
        self.feedback_days = feedback_days

    def check_one(self, event: Any, state: Any) -> None:
        if event.__class__ is ev.ComplaintFeedbackGiven:
            self.disarm(state)
        elif state.awaiting_feedback and state.answered is not None:
            self.arm(state, state.answered, self.feedback_days)

    def timer_one(self, state: ComplaintState, key: TimerKey, when: datetime) -> None:
        if key[2] != str(state.round) or not state.awaiting_feedback or state.answered is None:
            return
        self.emit_complaint(
            state,
            when,
            staff_id=state.answered_by,
            discriminator=key[2],
            evidence={
                "round": state.round,
                "answered_at": state.answered.isoformat(),
                "limit_days": self.feedback_days,
                "closed": state.closed,
            },
        )
