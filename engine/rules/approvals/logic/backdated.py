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

    A record typed in late (补录) looks the same: entry time in ``ts``, true time in
    ``stated_at``. What tells them apart is the rest of the case. A back-dated record is
    written at its ``ts`` and dated earlier, so the records that follow it in the process
    all come after its ``ts``; a record typed in late was preceded, in the engine's order,
    by records that follow it in the process (a later step started or completed, the
    decision, the certificate) and that lie at or after its stated time: it happened before them
    and was only entered later. ``backfill_evidence`` withholds the verdict in that case.
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
                description="No back-dating verdict on a record when the engine has already seen records "
                "of its case that follow it in the process (a later step, the decision, the certificate) "
                "and lie at or after its stated time: it was typed in late (补录), not back-dated.",
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
            if self.backfill_evidence and self._successor_after(event, stated, case):
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

    def _successor_after(
        self, event: CaseAccepted | StepCompleted | CaseDecided, stated: datetime, case: CaseState
    ) -> bool:
        """Whether a record already seen follows ``event`` in the process, at or after ``stated``.

        At: the first step starts at the acceptance instant, the certificate at the decision's.
        """
        later: list[datetime] = []
        if case.certified_at is not None:
            later.append(case.certified_at)
        if isinstance(event, CaseDecided):
            return any(t >= stated for t in later)
        if case.decided_at is not None:
            later.append(case.decided_at)
        if isinstance(event, CaseAccepted):
            later.extend(case.completed.values())
            later.extend(s.started_at for s in case.open_steps.values())
            return any(t >= stated for t in later)
        item = self.item_of(case)
        pos = None if item is None else item.step_pos.get(event.step)
        if item is not None and pos is not None:
            step_pos = item.step_pos
            later.extend(t for s, t in case.completed.items() if step_pos.get(s, -1) > pos)
            later.extend(o.started_at for s, o in case.open_steps.items() if step_pos.get(s, -1) > pos)
        return any(t >= stated for t in later)
