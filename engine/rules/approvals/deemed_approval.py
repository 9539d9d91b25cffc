"""超时默认 (deemed approval): a promised case still undecided at its deadline is deemed approved.

Local rules in force in the reports' counties say that an approval not decided within its
promised limit is deemed granted (行政许可超时默认). The supervision centre must then know two
things at the deadline: that the department let the limit pass without a decision, and that
the applicant now holds an approval nobody signed. The rule says both in one alert.

The clock is the deadline rules' (:mod:`engine.rules.approvals.deadline`): working time since
``case.accepted`` minus legal suspensions, on the engine's calendar, with the item's promised
limit; ``approval_after_days`` may push the instant past the limit where local rules allow a
grace. Only promised cases (承诺件) have a promised limit; instant cases are never deemed.
A decision (approve or reject) before the instant stops it; closing the case drops its timer.

The engine never invents input events: the deemed decision is *derived* and travels inside
the alert, as ``evidence["record"]``, the JSON of the ``case.decided`` record the approval
platform would have written (``approver_id: "deemed"``, ``decision: "approve"``, ``ts`` the
alert's), which :func:`engine.contract.events.decode_event` reads back as a typed event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from msgspec import Meta

from engine.contract import events as ev
from engine.rules.approvals.deadline import case_limit
from engine.rules.base import Rule
from engine.rules.registry import register
from engine.runtime.cases import CaseState
from engine.runtime.timers import TimerKey

__all__ = ["DEEMED_APPROVER", "ApprovalAfterDays", "DeemedApproval"]

#: The ``approver_id`` of a derived deemed decision: no official signed it.
DEEMED_APPROVER = "deemed"

ApprovalAfterDays = Annotated[
    float,
    Meta(
        ge=0,
        le=3650,
        description="超时默认: a promised case still undecided this many working days after its promised "
        "limit is deemed approved; 0 deems it at the limit itself, as the local rules state it.",
    ),
]


@register
class DeemedApproval(Rule):
    """A promised case undecided at its deadline (plus ``approval_after_days``) is deemed approved."""

    name = "deemed.approval"
    level = "warning"
    section = "deemed"
    kinds = ("case.accepted", "case.resumed")
    #: Opt-in: a hall whose local rules have no deemed approval must not be told its cases were approved.
    enabled_by_default = False

    def __init__(self, *, approval_after_days: ApprovalAfterDays = 0.0) -> None:
        self.approval_after_days = approval_after_days

    def reset(self) -> None:
        self._day = self.ctx.day_seconds
        self._schedule = self.ctx.schedule
        self._after = float(self.approval_after_days)

    def _threshold(self, case: CaseState) -> float | None:
        """Working days of effective case time at which the case is deemed approved; None: never."""
        limit = case_limit(case, self._items, None)
        if limit is None or not limit[1]:
            return None
        return limit[0] + self._after

    def check_one(self, event: Any, case: CaseState) -> None:
        # Armed at acceptance, re-armed at a resume (a legal pause moved the deadline).
        if not case.accepted or case.legal_suspended or case.decided:
            return
        threshold = self._threshold(case)
        if threshold is None:
            return
        due = case.accept_idx + case.paused + threshold * self._day
        self._schedule((self.name, case.case_id, ""), due, case.timer_keys)

    def timer_one(self, case: CaseState, key: TimerKey, when: datetime) -> None:
        if case.legal_suspended or case.decided:
            return
        threshold = self._threshold(case)
        if threshold is None:
            return
        record = ev.CaseDecided(
            event_id=f"deemed:{case.case_id}",
            ts=when,
            hall_id=case.hall_id,
            case_id=case.case_id,
            department_id=case.department_id,
            approver_id=DEEMED_APPROVER,
            decision="approve",
        )
        self.emit_case(
            case,
            when,
            staff_id=case.holder,
            evidence={
                "accepted_at": None if case.accepted_at is None else case.accepted_at.isoformat(),
                "item_id": case.item_id,
                "limit_days": threshold - self._after,
                "threshold_days": threshold,
                "paused_days": round(case.paused / self._day, 6),
                "open_steps": sorted(case.open_steps),
                "deemed_decision": "approve",
                "record": ev.encode_event(record).decode(),
            },
        )
