"""Logic warnings (逻辑预警): records that contradict the fixed procedure (流程固化).

Each rule looks at one kind of record at the moment it is applied and compares it with the
case state and the catalogue; the alert ``ts`` is the offending record's event time. The
engine applies events in event-time order, so "before" and "after" below are event-time
relations, whatever order the source sent them in.

One module per rule; the imports below are the rules' registration order, which is their run order."""

from __future__ import annotations

# isort: off
from engine.rules.approvals.logic.skipped_step import SkippedStep
from engine.rules.approvals.logic.steps_out_of_order import StepsOutOfOrder
from engine.rules.approvals.logic.decision_before_acceptance import DecisionBeforeAcceptance
from engine.rules.approvals.logic.certificate_without_approval import CertificateWithoutApproval
from engine.rules.approvals.logic.excess_fee import ExcessFee
from engine.rules.approvals.logic.unauthorised_approval import UnauthorisedApproval
from engine.rules.approvals.logic.same_person_accept_approve import SamePersonAcceptApprove
from engine.rules.approvals.logic.backdated import Backdated
from engine.rules.approvals.logic.illegal_suspension import IllegalSuspension
# isort: on

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
