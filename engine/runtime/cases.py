"""Per-case state: what the engine has seen of one approval case, and its clock.

The case clock is kept in *calendar index* units (working seconds since the calendar's
first day, :meth:`engine.contract.calendar.WorkingCalendar.to_index`): the effective elapsed time
at index ``x`` is ``x - accept_idx - paused``, where ``paused`` is the working time spent
in *legal* suspensions. A threshold of ``s`` working seconds is therefore reached at index
``accept_idx + paused + s``, and one inverse lookup turns that into an instant. Nothing
loops over days and nothing is recomputed per event.

A step's clock works the same way from its ``step.started`` index; ``paused_base``
remembers how much legal suspension the case had already accumulated when the step began,
so only suspensions during the step stop its clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from engine.contract import events as ev
from engine.contract.calendar import WorkingCalendar
from engine.runtime.timers import TimerKey

__all__ = [
    "CASE_EVENT_TYPES",
    "LEGAL_SUSPENSION_REASONS",
    "CaseState",
    "CaseUpdate",
    "OpenStep",
    "case_updates",
]


#: Reasons that stop the clock: 行政许可法 Art. 45 (hearing, testing, inspection, appraisal,
#: expert review... are not counted in the limit), 补正 (waiting for the applicant to
#: supplement documents) and referral to a superior authority. Anything else is not legal.
LEGAL_SUSPENSION_REASONS: tuple[str, ...] = (
    "supplement",
    "expert_review",
    "hearing",
    "inspection",
    "testing",
    "appraisal",
    "superior_authority",
)


class OpenStep:
    """A started, not yet completed, workflow step."""

    __slots__ = ("paused_base", "staff_id", "start_idx", "started_at")

    def __init__(self, start_idx: float, paused_base: float, staff_id: str, started_at: datetime) -> None:
        self.start_idx = start_idx
        self.paused_base = paused_base
        self.staff_id = staff_id
        self.started_at = started_at


class CaseState:
    """Everything the rules need about one open case (closed cases are dropped)."""

    __slots__ = (
        "accept_idx",
        "accepted",
        "accepted_at",
        "acceptor",
        "approved",
        "case_id",
        "case_type",
        "certified_at",
        "completed",
        "decided",
        "decided_at",
        "department_id",
        "fee_total",
        "hall_id",
        "holder",
        "item_id",
        "legal_suspended",
        "open_steps",
        "paused",
        "submitted",
        "suspend_idx",
        "suspended",
        "timer_keys",
    )

    def __init__(self, case_id: str, hall_id: str, department_id: str) -> None:
        self.case_id = case_id
        self.hall_id = hall_id
        self.department_id = department_id
        self.item_id: str | None = None
        self.case_type: str | None = None
        self.submitted = False
        self.accepted = False
        self.accepted_at: datetime | None = None
        self.accept_idx = 0.0
        self.acceptor: str | None = None
        self.holder: str | None = None
        self.decided = False
        #: When the first decision and the first certificate were recorded (event time): the
        #: backdating rule reads them as a record's successors in the process.
        self.decided_at: datetime | None = None
        self.certified_at: datetime | None = None
        self.approved = False
        self.completed: dict[str, datetime] = {}
        self.open_steps: dict[str, OpenStep] = {}
        self.suspended = False
        self.legal_suspended = False
        self.suspend_idx = 0.0
        self.paused = 0.0
        self.fee_total = 0.0
        self.timer_keys: list[TimerKey] = []

    @property
    def subject(self) -> str:
        return f"case:{self.case_id}"


CaseUpdate = Callable[[Any, CaseState], None]


#: The approval-case events, each applied to its case's state (in :func:`case_updates`' order).
CASE_EVENT_TYPES: tuple[type[ev.Event], ...] = (
    ev.CaseSubmitted,
    ev.CaseAccepted,
    ev.StepStarted,
    ev.StepCompleted,
    ev.CaseSuspended,
    ev.CaseResumed,
    ev.FeeCharged,
    ev.CaseDecided,
    ev.CertificateIssued,
    ev.CaseClosed,
)


def case_updates(
    calendar: WorkingCalendar, legal_reasons: frozenset[str]
) -> Mapping[type[ev.Event], CaseUpdate | None]:
    """How each approval event changes its case's state (None: it changes nothing).

    The runtime applies these before the rules look at the event, so a rule sees the case
    as it is *with* the event. Clock events read the calendar index once, here.
    """
    to_index = calendar.to_index

    def submitted(e: ev.CaseSubmitted, case: CaseState) -> None:
        case.submitted = True
        if not case.accepted:
            case.item_id = e.item_id
            case.case_type = e.case_type

    def accepted(e: ev.CaseAccepted, case: CaseState) -> None:
        """Start the clock; a repeated acceptance changes nothing."""
        idx = to_index(e.ts)  # first: an instant off the calendar is reported even when repeated
        if case.accepted:
            return
        case.accepted = True
        case.accept_idx = idx
        case.accepted_at = e.ts
        case.acceptor = case.holder = e.staff_id
        case.item_id = e.item_id
        case.case_type = e.case_type
        if case.legal_suspended:
            # Suspended before acceptance: the pause only counts from the clock's start.
            case.suspend_idx = max(case.suspend_idx, idx)

    def step_started(e: ev.StepStarted, case: CaseState) -> None:
        """Open a step clock; legal suspension already under way does not count against it."""
        idx = to_index(e.ts)
        base = case.paused
        if case.legal_suspended:
            base += max(0.0, idx - case.suspend_idx)
        case.open_steps[e.step] = OpenStep(idx, base, e.staff_id, e.ts)
        case.holder = e.staff_id

    def step_completed(e: ev.StepCompleted, case: CaseState) -> None:
        case.open_steps.pop(e.step, None)
        if e.step not in case.completed:
            case.completed[e.step] = e.ts

    def suspended(e: ev.CaseSuspended, case: CaseState) -> None:
        """Enter a suspension (a second one while suspended changes nothing)."""
        idx = to_index(e.ts)
        if case.suspended:
            return
        case.suspended = True
        case.legal_suspended = e.reason in legal_reasons
        case.suspend_idx = max(idx, case.accept_idx) if case.accepted else idx

    def resumed(e: ev.CaseResumed, case: CaseState) -> None:
        """Leave a suspension; a legal one adds its working time to the paused total."""
        idx = to_index(e.ts)
        if not case.suspended:
            return
        if case.legal_suspended and case.accepted:
            case.paused += max(0.0, idx - case.suspend_idx)
        case.suspended = False
        case.legal_suspended = False

    def fee(e: ev.FeeCharged, case: CaseState) -> None:
        case.fee_total += e.amount

    def decided(e: ev.CaseDecided, case: CaseState) -> None:
        case.decided = True
        if case.decided_at is None:
            case.decided_at = e.ts
        case.holder = e.approver_id
        if e.decision == "approve":
            case.approved = True

    def certified(e: ev.CertificateIssued, case: CaseState) -> None:
        if case.certified_at is None:
            case.certified_at = e.ts

    updates = (
        submitted,
        accepted,
        step_started,
        step_completed,
        suspended,
        resumed,
        fee,
        decided,
        certified,
        None,
    )
    return dict(zip(CASE_EVENT_TYPES, updates, strict=True))
