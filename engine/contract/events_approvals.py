"""Approval events and the reference data they are judged by: the item catalogue and staff authority.

Part of the event contract; :mod:`engine.contract.events` re-exports every name here and decodes them.

Why the catalogue travels in the stream: the rules need each item's promised limit, workflow and
fee standard, and who is authorised to decide it. Real supervision systems receive that
reference data from the approval platform (the *事项库*), so it is modelled as
``item.published`` and ``staff.authorised`` events, and an export is self-contained. A case's
records (submitted, accepted, steps, suspensions, fee, decision, certificate, closing) each name
the hall, the case and the department whose system recorded it.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from engine.contract.event_base import MAX_DAYS, CaseType, Channel, Event, Id, Instant, Text, Yuan

__all__ = [
    "ApprovalEvent",
    "CaseAccepted",
    "CaseClosed",
    "CaseDecided",
    "CaseResumed",
    "CaseSubmitted",
    "CaseSuspended",
    "CertificateIssued",
    "FeeCharged",
    "ItemPublished",
    "SourceHeartbeat",
    "StaffAuthorised",
    "StepCompleted",
    "StepSpec",
    "StepStarted",
]


# --- reference data (the item catalogue and staff authorisations) -----------------------


class StepSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One step of an item's fixed workflow: its name, the post it is bound to and its limit."""

    name: Id
    post: Id
    limit_days: Annotated[float, Meta(gt=0, le=MAX_DAYS)]


class ItemPublished(Event, frozen=True, tag="item.published"):
    """An approval item as the catalogue states it (promised limit in working days).

    ``promised_days`` is 0 for instant items (即办件). ``fee_standard`` is the most that may
    be charged for one case; 0 means the item is free.
    """

    hall_id: Id
    item_id: Id
    department_id: Id
    name: Text
    promised_days: Annotated[int, Meta(ge=0, le=MAX_DAYS)]
    fee_standard: Yuan = 0.0
    steps: Annotated[tuple[StepSpec, ...], Meta(max_length=64)] = ()


class StaffAuthorised(Event, frozen=True, tag="staff.authorised"):
    """A staff member's posts and the items they may decide (审批权限)."""

    hall_id: Id
    staff_id: Id
    department_id: Id
    posts: Annotated[tuple[Id, ...], Meta(max_length=256)] = ()
    may_decide: Annotated[tuple[Id, ...], Meta(max_length=10_000)] = ()


class SourceHeartbeat(Event, frozen=True, tag="source.heartbeat"):
    """A source system says it is alive and has sent everything up to ``ts``.

    It carries no business meaning; it lets event time advance when nothing happens
    (overnight, at the end of a run) so that deadline timers can fire.
    """

    source_id: Id
    hall_id: Id | None = None


# --- approval case lifecycle ------------------------------------------------------------


class _CaseEvent(Event, frozen=True):
    hall_id: Id
    case_id: Id
    department_id: Id


class CaseSubmitted(_CaseEvent, frozen=True, tag="case.submitted"):
    item_id: Id
    channel: Channel
    case_type: CaseType
    applicant: Text = ""


class CaseAccepted(_CaseEvent, frozen=True, tag="case.accepted"):
    """受理. ``stated_at`` is the acceptance time written on the record when it differs from ``ts``."""

    item_id: Id
    staff_id: Id
    case_type: CaseType
    window_id: Id | None = None
    stated_at: Instant | None = None


class StepStarted(_CaseEvent, frozen=True, tag="step.started"):
    step: Id
    post: Id
    staff_id: Id


class StepCompleted(_CaseEvent, frozen=True, tag="step.completed"):
    step: Id
    post: Id
    staff_id: Id
    stated_at: Instant | None = None


class CaseSuspended(_CaseEvent, frozen=True, tag="case.suspended"):
    """暂停计时. ``reason`` is a code (``supplement``, ``expert_review``, ``hearing``...)."""

    reason: Id
    staff_id: Id
    notice_id: Text | None = None


class CaseResumed(_CaseEvent, frozen=True, tag="case.resumed"):
    staff_id: Id


class FeeCharged(_CaseEvent, frozen=True, tag="fee.charged"):
    amount: Yuan
    staff_id: Id


class CaseDecided(_CaseEvent, frozen=True, tag="case.decided"):
    approver_id: Id
    decision: Literal["approve", "reject"]
    stated_at: Instant | None = None


class CertificateIssued(_CaseEvent, frozen=True, tag="certificate.issued"):
    certificate_no: Id
    staff_id: Id


class CaseClosed(_CaseEvent, frozen=True, tag="case.closed"):
    staff_id: Id
    outcome: Literal["approved", "rejected", "withdrawn"]


ApprovalEvent = (
    CaseSubmitted
    | CaseAccepted
    | StepStarted
    | StepCompleted
    | CaseSuspended
    | CaseResumed
    | FeeCharged
    | CaseDecided
    | CertificateIssued
    | CaseClosed
)
