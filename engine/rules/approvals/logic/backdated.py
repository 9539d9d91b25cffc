"""``logic.backdated``: a record stated more than ``tolerance_minutes`` before it was entered.

See the class docstring for how a record typed in late (补录) is told apart from a back-dated one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta

from engine.contract.events import (
    CaseAccepted,
    CaseDecided,
    StepCompleted,
)
from engine.rules.base import Rule
from engine.rules.registry import register
from engine.runtime.cases import CaseState

__all__ = ["Backdated"]


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
