"""``logic.steps_out_of_order``: an earlier catalogue step is completed after a later one already was."""

from __future__ import annotations

from engine.contract.events import (
    StepCompleted,
)
from engine.rules.base import Rule
from engine.rules.registry import register
from engine.runtime.cases import CaseState

__all__ = ["StepsOutOfOrder"]


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
