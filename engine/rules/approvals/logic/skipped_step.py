"""``logic.skipped_step``: A decision while a catalogue step has no ``step.completed`` yet."""

from __future__ import annotations

from engine.contract.events import (
    CaseDecided,
)
from engine.rules.base import Rule
from engine.rules.registry import register
from engine.runtime.cases import CaseState

__all__ = ["SkippedStep"]


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
