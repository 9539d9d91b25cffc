"""``logic.skipped_step``: A decision while a catalogue step has no ``step.completed`` yet."""

from __future__ import annotations

from engine.contract.alerts import Evidence
from engine.contract.events import CaseDecided, StepCompleted
from engine.rules.approvals.held import GraceRule, Held
from engine.rules.registry import register
from engine.runtime.cases import CaseState

__all__ = ["SkippedStep"]


@register
class SkippedStep(GraceRule):
    """A decision while a catalogue step has no ``step.completed`` yet.

    With ``confirm_after_hours`` the verdict waits for the missing steps' records typed in
    late (:mod:`engine.rules.approvals.held`); a confirmed alert lists the steps still missing.
    """

    name = "logic.skipped_step"
    kinds = ("case.decided",)
    #: Step completions matter only to a held verdict: they reach the rule once it has held one.
    dormant_kinds = ("step.completed",)
    closed_kinds = ("step.completed",)

    def check_one(self, event: CaseDecided | StepCompleted, case: CaseState) -> None:
        if isinstance(event, StepCompleted):
            self.arrived(case.case_id, event.step, event)
            return
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
            self.hold(
                case,
                event.ts,
                staff_id=event.approver_id,
                evidence={"event_id": event.event_id, "missing_steps": missing, "score": len(missing)},
                awaiting=missing,
            )

    def closed_one(self, event: StepCompleted) -> None:
        self.arrived(event.case_id, event.step, event)

    def confirmed_evidence(self, held: Held) -> Evidence:
        missing = list(held.awaiting)  # in catalogue order, as held
        return {**held.evidence, "missing_steps": missing, "score": len(missing)}
