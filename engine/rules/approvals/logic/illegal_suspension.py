"""``logic.illegal_suspension``: 暂停计时 with a reason that the law does not allow to stop the clock."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from engine.contract.events import (
    CaseSuspended,
)
from engine.rules.base import Rule
from engine.rules.registry import register
from engine.runtime.cases import LEGAL_SUSPENSION_REASONS, CaseState

__all__ = ["IllegalSuspension"]


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
