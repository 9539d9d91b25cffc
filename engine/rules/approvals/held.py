"""Order verdicts held back for a grace period, for records typed in late (补录).

Why: the order rules (skipped step, decision before acceptance, certificate without
approval) judge a missing predecessor the moment its successor is applied. A department
that types records in by hand a day or so late stamps them with the entry time and keeps
the true time in ``stated_at``, so the predecessor arrives after its successor, often after
the case has closed, and the rule has already raised an alert on an honest case. With
``confirm_after_hours`` > 0 a rule holds its verdict that many working hours of the
calendar; a late record of the missing predecessor that places it before the successor
(:func:`placed_before`: its stated time at or before the successor's) clears it; otherwise
the alert is raised when the grace ends, stamped with the original onset. Detection
latency grows by the grace: that is the price. With 0 (the default) the verdict is raised
at once, exactly as before.

The grace timers are the engine's calendar timers, but they must outlive the case (a case
closes minutes after its certificate, its timers cancelled), so they belong to a state
family of their own, :class:`HeldVerdicts`, which the rules declare as their
``timer_family``; records about a closed case reach the rules through ``closed_kinds``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from msgspec import Meta

from engine.contract.alerts import Evidence
from engine.rules.base import Rule
from engine.runtime.cases import CaseState
from engine.runtime.timers import TimerKey

__all__ = ["ConfirmAfterHours", "GraceRule", "Held", "HeldCase", "HeldVerdicts", "placed_before"]

ConfirmAfterHours = Annotated[
    float,
    Meta(
        ge=0,
        description="Working hours an order verdict (a missing predecessor record) waits for that record "
        "to arrive typed in late (补录: its stated time at or before the successor clears the verdict); "
        "0 judges at once. A confirmed alert keeps its onset and comes this much later.",
    ),
]


def placed_before(event: Any, onset: datetime) -> bool:
    """Whether a late record of a missing predecessor places it before its successor at ``onset``.

    A record with a stated time (``stated_at``: typed in late, the true time written down)
    does when that time is at or before the onset: a stated time cannot order two records
    of one second. A record without one is placed by its ``ts`` and the engine's order
    (``ts``, then id), which put it after the successor unless its ``ts`` is earlier.
    """
    stated: datetime | None = getattr(event, "stated_at", None)
    return event.ts < onset if stated is None else stated <= onset


@dataclass(slots=True)
class Held:
    """One verdict held back: the alert it would raise, and what must still arrive to clear it."""

    onset: datetime
    staff_id: str | None
    evidence: Evidence
    #: In the order the rule listed them (a skipped step's evidence keeps catalogue order).
    awaiting: list[str]


@dataclass(slots=True)
class HeldCase:
    """The held verdicts of one case, by rule name (the state a grace timer is about)."""

    case_id: str
    hall_id: str
    department_id: str
    verdicts: dict[str, Held] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        return f"case:{self.case_id}"


class HeldVerdicts:
    """Held verdicts by case id; a state family that applies no events (``event_types`` empty)."""

    event_types: tuple[type, ...] = ()

    def __init__(self) -> None:
        self.cases: dict[str, HeldCase] = {}

    def timer_state(self, case_id: str) -> HeldCase | None:
        return self.cases.get(case_id)

    def apply(self, event: Any) -> None:
        return None

    def after_rules(self, event: Any, state: Any) -> None:
        return None


class GraceRule(Rule):
    """An order rule whose verdict may wait ``confirm_after_hours`` for a late predecessor."""

    section = "order"
    timer_family = HeldVerdicts

    def __init__(self, *, confirm_after_hours: ConfirmAfterHours = 0.0) -> None:
        self.confirm_after_hours = confirm_after_hours

    def reset(self) -> None:
        self._grace = self.confirm_after_hours * 3600.0
        #: None without a grace: nothing is held and no family is attached.
        self._book = self.ctx.family(HeldVerdicts, HeldVerdicts) if self._grace > 0 else None

    def hold(
        self,
        case: CaseState,
        onset: datetime,
        *,
        staff_id: str | None,
        evidence: Evidence,
        awaiting: Iterable[str],
    ) -> None:
        """Raise the alert now (no grace), or hold it until ``awaiting`` arrive or the grace ends."""
        book = self._book
        if book is None:
            self.emit_case(case, onset, staff_id=staff_id, evidence=evidence)
            return
        cid = case.case_id
        held_case = book.cases.get(cid)
        if held_case is not None and self.name in held_case.verdicts:
            return
        if self.ctx.has_alerted(self, case.subject):
            return
        if held_case is None:
            held_case = book.cases[cid] = HeldCase(cid, case.hall_id, case.department_id)
        held_case.verdicts[self.name] = Held(onset, staff_id, evidence, list(awaiting))
        self.ctx.schedule((self.name, cid, ""), self.ctx.to_index(onset) + self._grace, None)
        # From now on the predecessors' records (the rule's dormant kinds) may clear a verdict;
        # until a first one is held they cost the rule nothing, not even a call.
        self.ctx.wake(self)

    def arrived(self, case_id: str, what: str, event: Any) -> None:
        """A record of ``what`` came; placed before the held onset, it was only typed in late."""
        book = self._book
        if book is None:
            return
        held_case = book.cases.get(case_id)
        if held_case is None:
            return
        held = held_case.verdicts.get(self.name)
        if held is None or what not in held.awaiting or not placed_before(event, held.onset):
            return
        held.awaiting.remove(what)
        if not held.awaiting:
            del held_case.verdicts[self.name]
            self.ctx.cancel((self.name, case_id, ""))
            if not held_case.verdicts:
                del book.cases[case_id]

    def confirmed_evidence(self, held: Held) -> Evidence:
        """The evidence of a confirmed alert (a rule may narrow it to what never arrived)."""
        return held.evidence

    def _confirm(self, held_case: HeldCase) -> None:
        held = held_case.verdicts.pop(self.name, None)
        if held is None:
            return
        if not held_case.verdicts and self._book is not None:
            self._book.cases.pop(held_case.case_id, None)
        self.ctx.emit(
            self,
            held_case.subject,
            held.onset,
            hall_id=held_case.hall_id,
            department_id=held_case.department_id,
            staff_id=held.staff_id,
            evidence=self.confirmed_evidence(held),
        )

    def timer_one(self, case: HeldCase, key: TimerKey, when: datetime) -> None:
        """The grace ended and the predecessor never came: raise the alert at its onset."""
        self._confirm(case)

    def finish_one(self, when: datetime) -> None:
        """The stream ended: no record can clear what is still held, so judge it as it stands."""
        if self._book is None:
            return
        for held_case in list(self._book.cases.values()):
            self._confirm(held_case)
