"""Applying events to state: the event type → handler table and the open-case registry.

Why a table of closures: every applied event needs "which state does this change, and
which rules look at it?". Answering that once per event *type* when the engine is built
(a dict lookup per event, the rule checks pre-filtered by kind) instead of once per event
(an isinstance chain, a scan over every rule) is most of what keeps dispatch cheap.

Approval events update their :class:`~engine.runtime.cases.CaseState` before the rules see it; a
closed case is dropped, its timers cancelled, and later events about it are counted and not
applied; a rule that lists their kind in ``closed_kinds`` still reads them (``closed_one``):
a record typed in after the closing can clear a verdict the rule holds back.
Other families (tenders, cameras...) follow the hook protocol ``event_types``,
``apply(event) -> state | None`` and ``after_rules(event, state)``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any, Protocol

from engine.contract import events as ev
from engine.contract.calendar import CalendarRangeError, WorkingCalendar
from engine.runtime.cases import CaseState, CaseUpdate, case_updates
from engine.runtime.catalogue import Catalogue
from engine.runtime.timers import CalendarTimers

__all__ = ["CaseRegistry", "Checker", "Handler", "SideSink"]

Handler = Callable[[Any], None]
Check = Callable[[Any, Any], None]
SideSink = Callable[[Any, Any, str], None]
"""``side(event, reason, detail)``: report an event that was not applied (the engine's side output)."""


class Checker(Protocol):
    """What dispatch needs of a rule: the event kinds it watches and its per-event check.

    Declared here, not imported from ``engine.rules``, so the runtime stays below the rules.
    """

    @property
    def kinds(self) -> tuple[str, ...]: ...

    @property
    def dormant_kinds(self) -> tuple[str, ...]: ...

    @property
    def closed_kinds(self) -> tuple[str, ...]: ...

    def check_one(self, event: Any, state: Any, /) -> None: ...

    def closed_one(self, event: Any, /) -> None: ...


class CaseRegistry:
    """Open cases by id, closed ids, and the counts of events that could not be applied."""

    __slots__ = ("after_close", "cases", "closed", "range_errors", "side", "timers")

    def __init__(
        self, cases: dict[str, CaseState], timers: CalendarTimers, *, side: SideSink | None = None
    ) -> None:
        self.cases = cases
        self.closed: set[str] = set()
        self.timers = timers
        #: Where events that cannot be applied are reported: ``side(event, reason, detail)``.
        self.side = side
        self.after_close = 0  # events about a case already closed
        self.range_errors = 0  # events whose instant lies outside the calendar

    def build(
        self,
        *,
        calendar: WorkingCalendar,
        legal_reasons: frozenset[str],
        catalogue: Catalogue,
        rules: Iterable[Checker],
        families: Iterable[Any],
        awake: Collection[Checker] = (),
    ) -> dict[type, Handler]:
        """Event type → handler; rules run in the order given (registry order).

        A rule gets the kinds in its ``kinds``, and those in its ``dormant_kinds`` when it is
        in ``awake``. Building again after a rule wakes gives it those events from then on.
        """
        rules = tuple(rules)

        def checks_for(etype: Any) -> tuple[Check, ...]:
            tag = etype.__struct_config__.tag
            return tuple(
                r.check_one for r in rules if tag in r.kinds or (tag in r.dormant_kinds and r in awake)
            )

        def closed_checks_for(etype: Any) -> tuple[Callable[[Any], None], ...]:
            tag = etype.__struct_config__.tag
            return tuple(r.closed_one for r in rules if tag in r.closed_kinds)

        table: dict[type, Handler] = {
            ev.ItemPublished: catalogue.publish_item,
            ev.StaffAuthorised: catalogue.authorise_staff,
        }
        for etype, update in case_updates(calendar, legal_reasons).items():
            table[etype] = self._case_handler(
                update, checks_for(etype), closed_checks_for(etype), closes=etype is ev.CaseClosed
            )
        for family in families:
            for etype in family.event_types:
                table[etype] = _family_handler(family, checks_for(etype))
        return table

    def _case_handler(
        self,
        update: CaseUpdate | None,
        checks: tuple[Check, ...],
        closed_checks: tuple[Callable[[Any], None], ...],
        *,
        closes: bool,
    ) -> Handler:
        cases = self.cases
        closed = self.closed

        def handle(event: Any) -> None:
            cid = event.case_id
            case = cases.get(cid)
            if case is None:
                if cid in closed:
                    self.after_close += 1
                    if self.side is not None:
                        self.side(event, "after_close", "")
                    for late in closed_checks:  # not applied; a rule may still read it
                        late(event)
                    return
                case = cases[cid] = CaseState(cid, event.hall_id, event.department_id)
            if update is not None:
                try:
                    update(event, case)
                except CalendarRangeError as exc:
                    self.range_errors += 1
                    if self.side is not None:
                        self.side(event, "out_of_calendar", str(exc))
                    return
            for check in checks:
                check(event, case)
            if closes:
                self.close(case)

        return handle

    def close(self, case: CaseState) -> None:
        self.timers.cancel_many(case.timer_keys)
        del self.cases[case.case_id]
        self.closed.add(case.case_id)


def _family_handler(family: Any, checks: tuple[Check, ...]) -> Handler:
    def handle(event: Any) -> None:
        state = family.apply(event)
        if state is None:
            return
        for check in checks:
            check(event, state)
        family.after_rules(event, state)

    return handle
