"""Efficiency complaints (效能投诉): a complaint's life from intake to closure.

Part of the event contract; :mod:`engine.contract.events` re-exports every name here and decodes them.

Why these events: the complaint workflow the reports describe is 集中受理、分类办理、跟踪督办、及时反馈
(central intake, classification and hand-off to the responsible unit, tracking, timely feedback).
A supervision centre can only judge the time limits of that workflow (the unit's answer, the
feedback to the complainant) if the complaints platform reports each step with its instant, as
the approval platform reports each step of a case. An approved extension (延期) is an event of
its own, because it is the documented reason that makes a late answer lawful.

Every complaint event names the hall whose supervision centre took the complaint: the live
service partitions engines by hall, and the units complained about are that hall's departments.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from engine.contract.event_base import MAX_DAYS, Event, Id, Text

__all__ = [
    "COMPLAINT_EVENT_TYPES",
    "ComplaintAnswered",
    "ComplaintAssigned",
    "ComplaintCategory",
    "ComplaintChannel",
    "ComplaintClassified",
    "ComplaintClosed",
    "ComplaintEvent",
    "ComplaintExtended",
    "ComplaintFeedbackGiven",
    "ComplaintReceived",
    "ComplaintReopened",
]

#: How a complaint came in: hotlines, the SMS platform, e-mail boxes, the website, in person.
ComplaintChannel = Literal["phone", "sms", "email", "web", "in_person"]
#: What it is about; the first five are the problem kinds the unannounced inspections check too
#: (门难进 difficult service, 脸难看 attitude, 纪律松散 lax discipline, 敷衍塞责 superficial work,
#: 办事拖拉 delay), then fees (乱收费), taking advantage (吃拿卡要) and anything else.
ComplaintCategory = Literal[
    "difficult_service", "attitude", "discipline", "superficial", "delay", "fees", "misconduct", "other"
]


class _ComplaintEvent(Event, frozen=True):
    hall_id: Id
    complaint_id: Id


class ComplaintReceived(_ComplaintEvent, frozen=True, tag="complaint.received"):
    """受理: the complaint was taken in by the central intake on ``channel``."""

    channel: ComplaintChannel
    complainant: Text = ""
    summary: Text = ""


class ComplaintClassified(_ComplaintEvent, frozen=True, tag="complaint.classified"):
    """分类: what the complaint is about, the unit complained about and the official it names (if any)."""

    category: ComplaintCategory
    department_id: Id
    staff_id: Id | None = None


class ComplaintAssigned(_ComplaintEvent, frozen=True, tag="complaint.assigned"):
    """交办: the complaint was handed to the unit that must deal with it; its handling clock starts."""

    department_id: Id


class ComplaintExtended(_ComplaintEvent, frozen=True, tag="complaint.extended"):
    """延期: the supervision centre allowed the unit ``extra_days`` more working days, for ``reason``."""

    extra_days: Annotated[float, Meta(gt=0, le=MAX_DAYS)]
    reason: Id
    approved_by: Id


class ComplaintAnswered(_ComplaintEvent, frozen=True, tag="complaint.answered"):
    """办结: the unit answered, with what its investigation found (查实 or not)."""

    department_id: Id
    staff_id: Id
    finding: Literal["substantiated", "partly_substantiated", "unsubstantiated"]


class ComplaintFeedbackGiven(_ComplaintEvent, frozen=True, tag="complaint.feedback_given"):
    """反馈: the complainant was told the outcome (``satisfied`` when asked, else None)."""

    via: ComplaintChannel
    satisfied: bool | None = None


class ComplaintClosed(_ComplaintEvent, frozen=True, tag="complaint.closed"):
    """The supervision centre closed the complaint (it may still be reopened)."""

    outcome: Literal["resolved", "withdrawn", "referred"]


class ComplaintReopened(_ComplaintEvent, frozen=True, tag="complaint.reopened"):
    """The complaint went back to its unit (the complainant was not satisfied); a new handling round."""

    reason: Text = ""


ComplaintEvent = (
    ComplaintReceived
    | ComplaintClassified
    | ComplaintAssigned
    | ComplaintExtended
    | ComplaintAnswered
    | ComplaintFeedbackGiven
    | ComplaintClosed
    | ComplaintReopened
)

#: Every complaint event type, for tables keyed by type (dispatch, sources, token scopes).
COMPLAINT_EVENT_TYPES: tuple[type[_ComplaintEvent], ...] = (
    ComplaintReceived,
    ComplaintClassified,
    ComplaintAssigned,
    ComplaintExtended,
    ComplaintAnswered,
    ComplaintFeedbackGiven,
    ComplaintClosed,
    ComplaintReopened,
)
