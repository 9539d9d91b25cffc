"""缺席默认 (deemed consent): a department absent from a joint review, without an opinion, consents.

In a joint review (联合审批) the lead department convenes the departments whose views the case
needs; local rules say that an invited department that does not attend and has not sent its
opinion in writing (书面意见) is deemed to consent. The supervision centre records the deemed
consent against the absent department: the case went ahead without its view.

The rule arms a timer when an absence is recorded (``joint_review.absent``), at
``opinion_grace_days`` working days after it on the engine's calendar (0: the opinion must be
in by the meeting, the usual rule). If the absent department's opinion (``joint_review.opinion``,
written or not, before or after the meeting) is in the review's state when the timer fires,
nothing happens; otherwise one alert per review and department, at the timer's instant. The
state is the :class:`~engine.rules.approvals.joint_book.JointReviewBook` family, so the
judgement survives the case's closure.

As for deemed approval, the engine invents no input event: the derived record is
``evidence["record"]``, the JSON of a ``joint_review.opinion`` with ``opinion: "consent"``
(event id ``deemed:<review>:<department>``), readable with
:func:`engine.contract.events.decode_event`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from msgspec import Meta

from engine.contract import events as ev
from engine.rules.approvals.joint_book import JointReviewBook, ReviewState
from engine.rules.base import Rule, RuleContext
from engine.rules.registry import register
from engine.runtime.timers import TimerKey

__all__ = ["DeemedConsent", "OpinionGraceDays"]

OpinionGraceDays = Annotated[
    float,
    Meta(
        ge=0,
        le=3650,
        description="缺席默认: an absent department's opinion still counts if it arrives within this many "
        "working days after its absence was recorded; 0: it must be in by the meeting (因故不能参加的应"
        "提前提交书面意见).",
    ),
]


@register
class DeemedConsent(Rule):
    """An invited department absent from a joint review, with no opinion, is deemed to consent."""

    name = "deemed.consent"
    level = "warning"
    section = "deemed"
    kinds = ("joint_review.absent",)
    timer_family = JointReviewBook
    #: Opt-in: only where local rules deem an absent department to consent.
    enabled_by_default = False

    def __init__(self, *, opinion_grace_days: OpinionGraceDays = 0.0) -> None:
        self.opinion_grace_days = opinion_grace_days

    def bind(self, ctx: RuleContext) -> None:
        super().bind(ctx)
        ctx.family(JointReviewBook, JointReviewBook)

    def reset(self) -> None:
        self._grace = float(self.opinion_grace_days) * self.ctx.day_seconds

    def check_one(self, event: Any, review: Any) -> None:
        if event.invitee in review.opinions:
            return
        index = self.ctx.to_index(review.absent[event.invitee]) + self._grace
        self.ctx.schedule((self.name, review.review_id, event.invitee), index, review.timer_keys)

    def timer_one(self, review: ReviewState, key: TimerKey, when: datetime) -> None:
        invitee = key[2]
        if invitee in review.opinions:
            return
        record = ev.JointReviewOpinion(
            event_id=f"deemed:{review.review_id}:{invitee}",
            ts=when,
            hall_id=review.hall_id,
            case_id=review.case_id,
            department_id=review.department_id,
            review_id=review.review_id,
            invitee=invitee,
            opinion="consent",
        )
        absent = review.absent[invitee]
        self.ctx.emit(
            self,
            review.subject,
            when,
            hall_id=review.hall_id,
            department_id=invitee,
            staff_id=None,
            discriminator=f"{review.review_id}/{invitee}",
            evidence={
                "review_id": review.review_id,
                "lead_department_id": review.department_id,
                "invitee": invitee,
                "convened_at": None if review.convened is None else review.convened.isoformat(),
                "absent_at": absent.isoformat(),
                "grace_days": self.opinion_grace_days,
                "deemed_opinion": "consent",
                "record": ev.encode_event(record).decode(),
            },
        )
