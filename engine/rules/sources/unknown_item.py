"""``source.unknown_item``: one alert per item code a source names that the catalogue does not know.

Why: department systems are migrated on their own schedules, and a system still on an older
catalogue version (事项库 revision) exports its cases under codes the platform's catalogue no
longer holds. The rules cannot time such a case (no promised limit, no step limits) and have
no authority table for it, so without a word the supervisor sees either silence (deadline
rules) or a 越权 verdict on every decision (``logic.unauthorised_approval`` with
``judge_unknown_items``). One alert per (hall, department, code), raised on the first case
record that names it, says what is wrong: the source's catalogue mapping is stale.

The code is judged against the catalogue as the stream has published it so far, so a code
published later in the stream than a case naming it is reported too (a real fault of the
feed's order, not of the rule). A stream that publishes no catalogue at all is not judged:
every code would be unknown, which says nothing about any one source.
"""

from __future__ import annotations

from engine.contract.events import CaseAccepted, CaseSubmitted
from engine.rules.base import Rule
from engine.rules.registry import register
from engine.runtime.cases import CaseState

__all__ = ["UnknownItem"]


@register
class UnknownItem(Rule):
    """One alert the first time a hall's department names an item code the catalogue lacks."""

    name = "source.unknown_item"
    level = "warning"
    kinds = ("case.submitted", "case.accepted")

    def check_one(self, event: CaseSubmitted | CaseAccepted, case: CaseState) -> None:
        code = event.item_id
        if code in self._items or not self._items:
            return  # known, or a stream that publishes no catalogue at all (nothing to judge by)
        department = event.department_id
        self.ctx.emit(
            self,
            f"item:{department}/{code}",
            event.ts,
            hall_id=event.hall_id,
            department_id=department,
            staff_id=None,
            evidence={"item_id": code, "first_case_id": case.case_id, "first_event_id": event.event_id},
        )
