"""Joint-review state: who was invited to each joint review (联合审批), who came and who answered.

Why a state family of its own and not part of the case state: 缺席默认 is judged per invited
department of one review, and the judgement must survive the case's closure (a case may be
decided and closed before an absent department's opinion window ends), while the engine drops
a closed case and cancels its timers. The runtime applies each ``joint_review.*`` event here
first and hands the updated :class:`ReviewState` to the rules watching that kind.

Records may arrive in any order: a written opinion (书面意见) is typically sent *before* the
meeting, so a review's state is made by whichever of its records comes first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.contract import events as ev
from engine.runtime.timers import TimerKey

__all__ = ["JointReviewBook", "ReviewState"]


@dataclass(slots=True)
class ReviewState:
    review_id: str
    hall_id: str
    case_id: str
    #: the lead department (the case's), which convened the review
    department_id: str
    convened: datetime | None = None
    invited: tuple[str, ...] = ()
    #: invitee → (time of its first opinion, the opinion, whether it was written)
    opinions: dict[str, tuple[datetime, str, bool]] = field(default_factory=dict)
    #: invitee → time its absence was recorded
    absent: dict[str, datetime] = field(default_factory=dict)
    timer_keys: list[TimerKey] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return f"case:{self.case_id}"


class JointReviewBook:
    """Joint reviews by id; :meth:`apply` updates one and returns it."""

    event_types: tuple[type, ...] = ev.JOINT_REVIEW_EVENT_TYPES

    def __init__(self) -> None:
        self.reviews: dict[str, ReviewState] = {}

    def timer_state(self, review_id: str) -> ReviewState | None:
        """The state a deemed-consent timer ``(rule, review_id, invitee)`` is about."""
        return self.reviews.get(review_id)

    def apply(self, event: Any) -> ReviewState:
        r = self.reviews.get(event.review_id)
        if r is None:
            r = self.reviews[event.review_id] = ReviewState(
                event.review_id, event.hall_id, event.case_id, event.department_id
            )
        cls = event.__class__
        if cls is ev.JointReviewConvened:
            if r.convened is None:
                r.convened = event.ts
                r.invited = event.invited
        elif cls is ev.JointReviewOpinion:
            if event.invitee not in r.opinions:
                r.opinions[event.invitee] = (event.ts, event.opinion, event.written)
        elif cls is ev.JointReviewAbsent:
            r.absent.setdefault(event.invitee, event.ts)
        return r

    def after_rules(self, event: Any, state: ReviewState) -> None:
        """Nothing to forget: reviews are few (a share of one hall's promised cases)."""
