"""Joint review (联合审批) of a case by several departments: convened, opinions, absences.

Part of the event contract; :mod:`engine.contract.events` re-exports every name here and decodes them.

Why these events: some cases need several departments' consent, and the lead department holds
a joint review of them. Under 缺席默认 a department invited to a joint review that neither
attends nor sends an opinion is deemed to consent, so the supervision centre must know who was
invited, who came and who answered, each with its instant. Each event is recorded by the lead
department's system and names the hall, the case and the review.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from engine.contract.event_base import Event, Id

__all__ = [
    "JOINT_REVIEW_EVENT_TYPES",
    "JointReviewAbsent",
    "JointReviewConvened",
    "JointReviewEvent",
    "JointReviewOpinion",
]


class _JointReviewEvent(Event, frozen=True):
    """A joint review of a case, recorded by the lead department's (``department_id``) system."""

    hall_id: Id
    case_id: Id
    department_id: Id
    review_id: Id


class JointReviewConvened(_JointReviewEvent, frozen=True, tag="joint_review.convened"):
    """联合审批: the lead department held a joint review of the case at ``ts``, inviting ``invited``.

    Why an event: under 缺席默认 a department invited to a joint review that neither attends
    nor sends an opinion is deemed to consent, so the supervision centre must know who was
    invited, who came and who answered.
    """

    invited: Annotated[tuple[Id, ...], Meta(min_length=1, max_length=256)]


class JointReviewOpinion(_JointReviewEvent, frozen=True, tag="joint_review.opinion"):
    """An invited department (``invitee``) gave its opinion, at the meeting or ``written`` (书面意见)."""

    invitee: Id
    opinion: Literal["consent", "object", "conditional"]
    written: bool = False
    staff_id: Id | None = None


class JointReviewAbsent(_JointReviewEvent, frozen=True, tag="joint_review.absent"):
    """An invited department (``invitee``) did not attend the joint review (缺席)."""

    invitee: Id


JointReviewEvent = JointReviewConvened | JointReviewOpinion | JointReviewAbsent

#: Every joint-review event type, for tables keyed by type (dispatch, sources, token scopes).
JOINT_REVIEW_EVENT_TYPES: tuple[type[Event], ...] = (
    JointReviewConvened,
    JointReviewOpinion,
    JointReviewAbsent,
)
