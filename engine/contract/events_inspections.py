"""Unannounced inspections (暗访): visits, findings, rectification notices and their verification.

Part of the event contract; :mod:`engine.contract.events` re-exports every name here and decodes them.

Why these events: the reports describe monthly unannounced inspections by groups of two or three
people who film covertly and check nine kinds of problem; a finding goes out as a rectification
suggestion or is named in the efficiency bulletin (通报), and a unit named twice in twelve months
loses its annual award eligibility. A supervision centre can only judge the rectification
deadline and count the namings if the complaints and inspection platform reports the visit, each
finding (with whether it was named), each rectification notice with its deadline, the
verification of the rectification, and each supervision suggestion (监察建议) written to the unit,
each with its instant.

Every inspection event names the hall whose supervision centre ran the inspection and the unit
(department) inspected: the live service partitions engines by hall, as for complaints.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from engine.contract.event_base import MAX_DAYS, Event, Id, Text

__all__ = [
    "INSPECTION_EVENT_TYPES",
    "InspectionEvent",
    "InspectionFinding",
    "InspectionPerformed",
    "InspectionProblem",
    "RectificationIssued",
    "RectificationVerified",
    "SupervisionSuggested",
]

#: The nine problem kinds an inspection checks. The reports name nine and list five of them
#: (门难进 difficult service, 脸难看 attitude, 纪律松散 lax discipline, 敷衍塞责 superficial work,
#: 办事拖拉 delay); the other four are the usual rest of that list in efficiency campaigns
#: (话难听 harsh words, 事难办 obstruction, 推诿扯皮 passing the buck, 吃拿卡要 taking advantage):
#: an assumption.
InspectionProblem = Literal[
    "difficult_service",
    "attitude",
    "harsh_words",
    "obstruction",
    "delay",
    "buck_passing",
    "discipline",
    "superficial",
    "taking_advantage",
]


class _InspectionEvent(Event, frozen=True):
    hall_id: Id
    inspection_id: Id
    department_id: Id


class InspectionPerformed(_InspectionEvent, frozen=True, tag="inspection.performed"):
    """暗访: a group of ``inspectors`` (two or three people) visited the unit (unannounced by default)."""

    inspectors: Annotated[list[Id], Meta(min_length=1, max_length=20)]
    announced: bool = False


class InspectionFinding(_InspectionEvent, frozen=True, tag="inspection.finding"):
    """A problem the inspection found; ``named`` when the unit is named for it in the efficiency bulletin."""

    finding_id: Id
    problem: InspectionProblem
    named: bool = False
    staff_id: Id | None = None
    note: Text = ""


class RectificationIssued(_InspectionEvent, frozen=True, tag="inspection.rectification_issued"):
    """整改通知: the unit must rectify ``finding_id`` within ``deadline_days`` working days of this notice."""

    rectification_id: Id
    finding_id: Id
    deadline_days: Annotated[float, Meta(gt=0, le=MAX_DAYS)]


class RectificationVerified(_InspectionEvent, frozen=True, tag="inspection.rectification_verified"):
    """The centre checked the rectification: ``rectified`` (done) or not (the notice stays open)."""

    rectification_id: Id
    rectified: bool
    verified_by: Id


class SupervisionSuggested(_InspectionEvent, frozen=True, tag="inspection.suggestion_issued"):
    """监察建议: the bureau wrote to the unit about ``finding_ids`` of the visit, with no deadline.

    Why apart from the notice: reports count the two apart. A rectification notice (整改通知)
    orders a rectification by a deadline the centre then checks; a supervision suggestion asks the
    unit to improve what the findings show (procedure, staffing, training) and sets no deadline, so
    no rule judges it: it is counted, as the published figures count it.
    """

    suggestion_id: Id
    finding_ids: Annotated[tuple[Id, ...], Meta(min_length=1, max_length=64)]
    note: Text = ""


InspectionEvent = (
    InspectionPerformed
    | InspectionFinding
    | RectificationIssued
    | RectificationVerified
    | SupervisionSuggested
)

#: Every inspection event type, for tables keyed by type (dispatch, sources, token scopes).
INSPECTION_EVENT_TYPES: tuple[type[_InspectionEvent], ...] = (
    InspectionPerformed,
    InspectionFinding,
    RectificationIssued,
    RectificationVerified,
    SupervisionSuggested,
)
