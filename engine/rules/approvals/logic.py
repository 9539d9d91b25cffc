"""Logic warnings (逻辑预警): records that contradict the fixed procedure (流程固化).

Each rule looks at one kind of record at the moment it is applied and compares it with the
case state and the catalogue; the alert ``ts`` is the offending record's event time. The
engine applies events in event-time order, so "before" and "after" below are event-time
relations, whatever order the source sent them in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta

from engine.contract.events import (
    CaseAccepted,
    CaseDecided,
    CaseSuspended,
    CertificateIssued,
    FeeCharged,
    StepCompleted,
)
from engine.rules.base import Rule
from engine.rules.registry import register
from engine.runtime.cases import LEGAL_SUSPENSION_REASONS, CaseState

__all__ = [
    "Backdated",
    "CertificateWithoutApproval",
    "DecisionBeforeAcceptance",
    "ExcessFee",
    "IllegalSuspension",
    "SamePersonAcceptApprove",
    "SkippedStep",
    "StepsOutOfOrder",
    "UnauthorisedApproval",
]


@register
class SkippedStep(Rule):
    """A decision while a catalogue step has no ``step.completed`` yet."""

    name = "logic.skipped_step"
    kinds = ("case.decided",)

    def check_one(self, event: CaseDecided, case: CaseState) -> None:
        item = self.item_of(case)
        if item is None:
            return
        completed = case.completed
        for step in item.step_names:  # the usual case: nothing missing, no list built
            if step not in completed:
                break
        else:
            return
        missing = [s for s in item.step_names if s not in completed]
        if missing:
            self.emit_case(
                case,
                event.ts,
                staff_id=event.approver_id,
                evidence={"event_id": event.event_id, "missing_steps": missing, "score": len(missing)},
            )


@register
class StepsOutOfOrder(Rule):
    """An earlier catalogue step is completed after a later one already was."""

    name = "logic.steps_out_of_order"
    kinds = ("step.completed",)

    def check_one(self, event: StepCompleted, case: CaseState) -> None:
        item = self.item_of(case)
        if item is None:
            return
        step_pos = item.step_pos
        pos = step_pos.get(event.step)
        if pos is None:
            return
        for done in case.completed:  # the usual case: nothing later, no list built
            if step_pos.get(done, -1) > pos:
                break
        else:
            return
        later = [s for s in case.completed if step_pos.get(s, -1) > pos]
        if later:
            self.emit_case(
                case,
                event.ts,
                staff_id=event.staff_id,
                evidence={
                    "event_id": event.event_id,
                    "step": event.step,
                    "completed_before": sorted(later),
                    "score": len(later),
                },
            )


@register
class DecisionBeforeAcceptance(Rule):
    """A decision on a case that was submitted but not yet accepted (受理)."""

    name = "logic.decision_before_acceptance"
    kinds = ("case.decided",)

    def check_one(self, event: CaseDecided, case: CaseState) -> None:
        if case.submitted and not case.accepted:
            self.emit_case(
                case,
                event.ts,
                staff_id=event.approver_id,
                evidence={"event_id": event.event_id, "score": 1.0},
            )


@register
class CertificateWithoutApproval(Rule):
    """A certificate issued when no ``approve`` decision was recorded before it."""

    name = "logic.certificate_without_approval"
    kinds = ("certificate.issued",)

    def check_one(self, event: CertificateIssued, case: CaseState) -> None:
        if not case.approved:
            self.emit_case(
                case,
                event.ts,
                staff_id=event.staff_id,
                evidence={"event_id": event.event_id, "certificate_no": event.certificate_no, "score": 1.0},
            )


@register
class ExcessFee(Rule):
    """Fees charged on a case exceed the item's standard (any fee on a free item).

    Charges are summed per case, so splitting an excess into small charges does not hide
    it. ``epsilon`` (yuan) absorbs rounding in the source system.
    """

    name = "logic.excess_fee"
    section = "fee"
    kinds = ("fee.charged",)

    def __init__(
        self,
        *,
        epsilon: Annotated[
            float,
            Meta(
                ge=0,
                description="Yuan; absorbs rounding to the fen (0.01) in source systems. Any fee above the "
                "standard (or any fee on a free item) beyond this is an excess fee.",
            ),
        ] = 0.005,
    ) -> None:
        self.epsilon = epsilon

    def check_one(self, event: FeeCharged, case: CaseState) -> None:
        item = self.item_of(case)
        if item is None:
            return
        excess = case.fee_total - item.fee_standard
        if excess > self.epsilon:
            self.emit_case(
                case,
                event.ts,
                staff_id=event.staff_id,
                evidence={
                    "event_id": event.event_id,
                    "charged": round(case.fee_total, 2),
                    "fee_standard": item.fee_standard,
                    "score": round(excess, 2),
                },
            )


@register
class UnauthorisedApproval(Rule):
    """越权审批: the approver's authorisation does not include the case's item."""

    name = "logic.unauthorised_approval"
    section = "authority"
    kinds = ("case.decided",)

    def __init__(
        self,
        *,
        judge_unknown_items: Annotated[
            bool,
            Meta(
                description="Whether a decision on an item code the catalogue does not know is 越权. Off: "
                "no verdict, since nobody can hold authority for a code the platform never published, and "
                "such a code is usually a department system still on an older catalogue version (reported "
                "once per code by source.unknown_item), not an official exceeding authority."
            ),
        ] = False,
    ) -> None:
        self.judge_unknown_items = judge_unknown_items

    def check_one(self, event: CaseDecided, case: CaseState) -> None:
        if case.item_id is None:
            return
        if not self.judge_unknown_items and case.item_id not in self._items:
            return
        catalogue = self.ctx.catalogue
        if not catalogue.may_decide(event.approver_id, case.item_id):
            self.emit_case(
                case,
                event.ts,
                staff_id=event.approver_id,
                evidence={
                    "event_id": event.event_id,
                    "item_id": case.item_id,
                    "approver_known": event.approver_id in catalogue.staff,
                    "score": 1.0,
                },
            )


@register
class SamePersonAcceptApprove(Rule):
    """The person who accepted a case also decided it (no separation of duties)."""

    name = "logic.same_person_accept_approve"
    section = "same_person"
    kinds = ("case.decided",)

    def __init__(
        self,
        *,
        promised_only: Annotated[
            bool,
            Meta(
                description="Separation of duties applies to promised cases; an instant case is by design "
                "accepted and decided on the spot by the window officer."
            ),
        ] = True,
    ) -> None:
        self.promised_only = promised_only

    def check_one(self, event: CaseDecided, case: CaseState) -> None:
        if self.promised_only and case.case_type != "promised":
            return
        if case.acceptor is not None and case.acceptor == event.approver_id:
            self.emit_case(
                case,
                event.ts,
                staff_id=event.approver_id,
                evidence={"event_id": event.event_id, "score": 1.0},
            )


@register
class Backdated(Rule):
    """A record whose stated time is more than ``tolerance_minutes`` before its event time.

    A record typed in late by hand (补录) looks the same on its own: entered days after the
    happening, it states the true time. What tells them apart is the rest of the case. A
    back-dated record is entered when the act happens, so every later act of the case (a later
    step, the decision) is recorded after it. A record typed in late arrives after later acts of
    its case were already recorded, at times after the one it states: the case went on as if the
    act had happened when the record says. With ``backfill_evidence`` such a record gets no
    verdict.
    """

    name = "logic.backdated"
    section = "backdating"
    kinds = ("case.accepted", "step.completed", "case.decided")

    def __init__(
        self,
        *,
        tolerance_minutes: Annotated[
            float,
            Meta(
                ge=0,
                description="A record whose stated time is more than 30 minutes before its entry time is "
                "back-dated; shorter gaps are normal data-entry delay at a busy window.",
            ),
        ] = 30.0,
        backfill_evidence: Annotated[
            bool,
            Meta(
                description="No verdict on a record that arrives after a later act of its case (a later step "
                "or the decision) recorded at or after the stated time: the case went on as if the act "
                "happened when stated, so the record was typed in late (补录), not back-dated."
            ),
        ] = True,
    ) -> None:
        self.tolerance_minutes = tolerance_minutes
        self.backfill_evidence = backfill_evidence

    def check_one(self, event: CaseAccepted | StepCompleted | CaseDecided, case: CaseState) -> None:
        stated = event.stated_at
        if stated is None:
            return
        lag = (event.ts - stated).total_seconds()
        if lag > self.tolerance_minutes * 60.0:
            if self.backfill_evidence and self._later_act_recorded(event, case, stated):
                return
            staff = event.approver_id if isinstance(event, CaseDecided) else event.staff_id
            self.emit_case(
                case,
                event.ts,
                staff_id=staff,
                evidence={
                    "event_id": event.event_id,
                    "stated_at": stated.isoformat(),
                    "score": round(lag / 60.0, 3),  # minutes backdated
                },
            )

    def _later_act_recorded(
        self, event: CaseAccepted | StepCompleted | CaseDecided, case: CaseState, stated: datetime
    ) -> bool:
        """Whether the case holds an act that follows ``event``, recorded at or after ``stated``.

        The case state already includes ``event`` itself. A decision has no later act the case
        state keeps (the certificate and the closing end the case), so it is never excused.
        """
        if isinstance(event, CaseDecided):
            return False
        if case.decided:
            return True  # the decision was recorded before this earlier act's record arrived
        if isinstance(event, CaseAccepted):
            later = [*case.completed, *case.open_steps]  # every step follows the acceptance
        else:
            item = self.item_of(case)
            pos = None if item is None else item.step_pos.get(event.step)
            if item is None or pos is None:
                return False  # no catalogue order to tell a later step by
            later = [st for st in (*case.completed, *case.open_steps) if item.step_pos.get(st, -1) > pos]
        completed, started = case.completed, case.open_steps
        return any(
            (st in completed and completed[st] >= stated)
            or (st in started and started[st].started_at >= stated)
            for st in later
        )


@register
class IllegalSuspension(Rule):
    """暂停计时 with a reason that the law does not allow to stop the clock."""

    name = "logic.illegal_suspension"
    section = "deadline"
    kinds = ("case.suspended",)

    def __init__(
        self,
        *,
        legal_suspension_reasons: Annotated[
            tuple[str, ...],
            Meta(
                description="Reasons that stop the clock: 行政许可法 Art. 45 (hearing, testing, "
                "inspection, appraisal, expert review), 补正 (supplement) and referral to a superior "
                "authority. Any other reason is an illegal suspension and does not stop the clock."
            ),
        ] = LEGAL_SUSPENSION_REASONS,
    ) -> None:
        self.legal_suspension_reasons = legal_suspension_reasons

    def reset(self) -> None:
        self._legal = frozenset(self.legal_suspension_reasons)

    def check_one(self, event: CaseSuspended, case: CaseState) -> None:
        if event.reason not in self._legal:
            self.emit_case(
                case,
                event.ts,
                staff_id=event.staff_id,
                evidence={"event_id": event.event_id, "reason": event.reason, "score": 1.0},
            )
