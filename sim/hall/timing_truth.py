"""Deadline and step ground truth, computed from the stream itself after the run.

Why from the stream and not from the simulator's internals: the truth must describe what
the engine can see. Every case (natural or injected) is measured from its emitted records
with the working calendar and the clock definitions of the shared vocabulary:

* the case clock runs from ``case.accepted.ts``; *legal* suspensions pause it (illegal ones
  do not); it is late iff still open after the latest instant at which its effective
  elapsed working time equals the limit (``promised_days`` working days, minus the warning
  lead for ``deadline_at_risk``, plus the severe threshold for ``severely_overdue``);
* a step clock runs from ``step.started`` to ``step.completed`` with the same pause rule and
  the step's own ``limit_days``.

A case still open at the run's end counts when the end is past its deadline; such an
episode has ``end = None``. The onset is the deadline instant itself, which is when an
event-time engine's timer fires.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from engine.contract.calendar import WorkingCalendar
from engine.contract.events import (
    CaseAccepted,
    CaseClosed,
    CaseResumed,
    CaseSuspended,
    Event,
    ItemPublished,
    StepCompleted,
    StepStarted,
)
from sim.common.scenario_types import LEGAL_SUSPENSION_REASONS, TruthSpec
from sim.common.truth import Episode

__all__ = ["limit_index", "timing_episodes"]

_INF = float("inf")
#: The record types the clocks read; the rest of the stream is skipped with one set lookup.
_CLOCKED = frozenset(
    {StepStarted, StepCompleted, CaseAccepted, CaseClosed, CaseSuspended, CaseResumed, ItemPublished}
)


def limit_index(start_x: float, limit: float, pauses: list[list[float]]) -> float | None:
    """Working index at which a clock started at ``start_x`` reaches ``limit``, stretched by
    the pauses (``[begin, end]`` index pairs in time order, ``end = inf`` if never resumed).
    ``None`` when a pause that began before the limit never ends: the clock never runs out."""
    x = start_x + limit
    for begin, end in pauses:
        if end <= start_x:
            continue
        b = max(begin, start_x)
        if b > x:
            break
        if end == _INF:
            return None
        x += end - b
    return x


class _Step:
    __slots__ = ("completed", "staff", "start_x", "started")

    def __init__(self, started: datetime, start_x: float, staff: str) -> None:
        self.started = started
        self.start_x = start_x
        self.staff = staff
        self.completed: datetime | None = None


class _Case:
    """What the clocks need of one case: acceptance, closure, pauses and step times."""

    __slots__ = ("closed", "dept", "hall", "id", "item", "pauses", "steps", "x")

    def __init__(self, case_id: str, item: str, hall: str, dept: str, x: float) -> None:
        self.id = case_id
        self.item = item
        self.hall = hall
        self.dept = dept
        self.x = x  # working index of acceptance
        self.closed: datetime | None = None
        self.pauses: list[list[float]] = []  # [begin, end] indices; begin is nan for an illegal pause
        self.steps: dict[str, _Step] = {}


def timing_episodes(
    events: Iterable[Event],
    calendar: WorkingCalendar,
    end: datetime,
    spec: TruthSpec,
    causes: dict[str, str],
) -> list[Episode]:
    """Deadline and step episodes of every case in ``events`` (time-ordered) up to ``end``.

    ``causes`` maps case ids whose timing was injected to ``"injected"`` (others are
    ``"natural"``).
    """
    items: dict[str, ItemPublished] = {}
    cases: dict[str, _Case] = {}
    to_index = calendar.to_index
    # One pass, dispatched on the exact event type (events are final Structs): most of the
    # stream is records of instant cases and of kinds no clock reads, and a chain of
    # ``isinstance`` tests per record cost more than the clocks themselves.
    for e in events:
        if type(e) not in _CLOCKED:
            continue
        if type(e) is StepStarted:
            if (c := cases.get(e.case_id)) is not None and e.step not in c.steps:
                c.steps[e.step] = _Step(e.ts, to_index(e.ts), e.staff_id)
        elif type(e) is StepCompleted:
            if (c := cases.get(e.case_id)) is not None:
                step = c.steps.get(e.step)
                if step is not None and step.completed is None:
                    step.completed = e.ts
        elif type(e) is CaseAccepted:
            if e.case_id not in cases:
                item = items.get(e.item_id)
                if item is None or item.promised_days > 0:  # instant cases have no clock
                    cases[e.case_id] = _Case(e.case_id, e.item_id, e.hall_id, e.department_id, to_index(e.ts))
        elif type(e) is CaseClosed:
            if (c := cases.get(e.case_id)) is not None and c.closed is None:
                c.closed = e.ts
        elif type(e) is CaseSuspended:
            if (c := cases.get(e.case_id)) is not None:
                legal = e.reason in LEGAL_SUSPENSION_REASONS
                c.pauses.append([to_index(e.ts) if legal else math.nan, _INF])
        elif type(e) is CaseResumed:
            if (c := cases.get(e.case_id)) is not None and c.pauses and c.pauses[-1][1] == _INF:
                c.pauses[-1][1] = to_index(e.ts)
        elif type(e) is ItemPublished:
            items[e.item_id] = e
    judge = _Judge(calendar, end, spec)
    out: list[Episode] = []
    for c in cases.values():
        item = items.get(c.item)
        if item is not None and item.promised_days > 0:
            out.extend(judge.case(c, item, causes.get(c.id, "natural")))
    return out


class _Judge:
    """Applies the clock definitions to one case at a time."""

    def __init__(self, calendar: WorkingCalendar, end: datetime, spec: TruthSpec) -> None:
        self.cal = calendar
        self.end = end
        self.end_x = calendar.to_index(end)
        self.day = calendar.day_seconds
        self.spec = spec

    def _onset(self, x: float | None, finish: datetime | None) -> datetime | None:
        """The deadline instant of index ``x`` if the clock's owner finished after it."""
        if x is None:
            return None
        t, tx = (finish, self.cal.to_index(finish)) if finish is not None else (self.end, self.end_x)
        if tx < x:
            return None
        deadline = self.cal.from_index(x, latest=True)
        return deadline if t > deadline else None

    def case(self, c: _Case, item: ItemPublished, cause: str) -> list[Episode]:
        pauses = sorted(p for p in c.pauses if not math.isnan(p[0]))
        limit = item.promised_days * self.day
        out: list[Episode] = []
        for kind, amount in (
            ("deadline_at_risk", limit - self.spec.warning_lead_days * self.day),
            ("overdue", limit),
            ("severely_overdue", limit + self.spec.severe_overdue_days * self.day),
        ):
            if amount < 0 or (kind == "deadline_at_risk" and amount == 0):
                continue  # no lead window: a limit within the lead is never "at risk" before acceptance
            onset = self._onset(limit_index(c.x, amount, pauses), c.closed)
            if onset is None:
                break  # a later threshold cannot be passed if an earlier one was not
            out.append(self._episode(kind, c, onset, c.closed, cause, None, limit_days=amount / self.day))
        for spec in item.steps:
            step = c.steps.get(spec.name)
            if step is None:
                continue
            onset = self._onset(limit_index(step.start_x, spec.limit_days * self.day, pauses), step.completed)
            if onset is not None:
                params: dict[str, str | float] = {
                    "step": spec.name,
                    "started": step.started.isoformat(),
                    "limit_days": spec.limit_days,
                }
                out.append(
                    self._episode("step_overdue", c, onset, step.completed, cause, step.staff, **params)
                )
        return out

    @staticmethod
    def _episode(
        kind: str,
        c: _Case,
        onset: datetime,
        end: datetime | None,
        cause: str,
        staff: str | None,
        **params: str | float,
    ) -> Episode:
        subject = f"case:{c.id}"
        step = params.get("step")
        return Episode(
            episode_id=f"{kind}:{subject}" + (f":{step}" if step else ""),
            kind=kind,
            subject=subject,
            onset=onset,
            end=end,
            cause="injected" if cause == "injected" else "natural",
            hall_id=c.hall,
            department_id=c.dept,
            staff_id=staff,
            params={"item_id": c.item, **params},
        )
