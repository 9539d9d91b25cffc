"""Deemed-approval ground truth (超时默认), read from the stream after the run, like the deadline truth.

A promised case is deemed approved when it is still undecided (no ``case.decided``) and open at
the latest instant at which its effective elapsed working time equals its promised limit plus
``approval_after_days``: the case clock of :mod:`sim.hall.timing_truth` (legal suspensions
pause it), the same limit the deadline truth and the engine's deadline rules use. Every case is
judged, natural or injected, so the truth describes what the engine can see.

Look-alikes (``decided_on_last_day``): cases decided within the last working day before that
instant, which a rule counting calendar days, or reading the closure instead of the decision,
would deem approved.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from engine.contract.calendar import WorkingCalendar
from engine.contract.events import (
    CaseAccepted,
    CaseClosed,
    CaseDecided,
    CaseResumed,
    CaseSuspended,
    Event,
    ItemPublished,
)
from sim.common.scenario_types import LEGAL_SUSPENSION_REASONS
from sim.common.truth import Episode
from sim.hall.timing_truth import limit_index

__all__ = ["deemed_approval_episodes"]

_INF = float("inf")
_READ = frozenset({CaseAccepted, CaseClosed, CaseDecided, CaseSuspended, CaseResumed, ItemPublished})


class _Case:
    __slots__ = ("closed", "decided", "dept", "hall", "id", "item", "pauses", "x")

    def __init__(self, e: CaseAccepted, x: float) -> None:
        self.id, self.item, self.hall, self.dept, self.x = e.case_id, e.item_id, e.hall_id, e.department_id, x
        self.closed: datetime | None = None
        self.decided: datetime | None = None
        self.pauses: list[list[float]] = []


def deemed_approval_episodes(
    events: Iterable[Event], calendar: WorkingCalendar, end: datetime, after_days: float
) -> list[Episode]:
    """``deemed_approval`` episodes and ``decided_on_last_day`` look-alikes of the promised cases."""
    items: dict[str, ItemPublished] = {}
    cases: dict[str, _Case] = {}
    decided_early: set[str] = set()  # decided before acceptance: never undecided at the deadline
    to_index = calendar.to_index
    # Records are read by field after an exact type test (the stream is final Structs).
    stream: Iterable[Any] = events
    for e in stream:
        t = type(e)
        if t not in _READ:
            continue
        if t is ItemPublished:
            items[e.item_id] = e
            continue
        c = cases.get(e.case_id)
        if t is CaseAccepted:
            if c is None:
                c = cases[e.case_id] = _Case(e, to_index(e.ts))
                if e.case_id in decided_early:
                    c.decided = c.closed = e.ts
        elif t is CaseDecided:
            if c is None:
                decided_early.add(e.case_id)
            elif c.decided is None:
                c.decided = e.ts
        elif c is None:
            continue
        elif t is CaseClosed:
            c.closed = c.closed or e.ts
        elif t is CaseSuspended:
            legal = e.reason in LEGAL_SUSPENSION_REASONS
            c.pauses.append([to_index(e.ts) if legal else math.nan, _INF])
        elif c.pauses and c.pauses[-1][1] == _INF:  # CaseResumed
            c.pauses[-1][1] = to_index(e.ts)
    out: list[Episode] = []
    day = calendar.day_seconds
    end_x = to_index(end)
    for c in cases.values():
        item = items.get(c.item)
        if item is None or item.promised_days <= 0:
            continue
        pauses = sorted(p for p in c.pauses if not math.isnan(p[0]))
        x = limit_index(c.x, (item.promised_days + after_days) * day, pauses)
        if x is None:
            continue
        deadline = calendar.from_index(x, latest=True)
        finish = min((t for t in (c.decided, c.closed) if t is not None), default=None)
        if finish is None:
            if end_x >= x and end > deadline:
                out.append(_episode("deemed_approval", c, deadline, None, limit_days=item.promised_days))
        elif finish > deadline:
            out.append(_episode("deemed_approval", c, deadline, finish, limit_days=item.promised_days))
        elif c.decided is not None and c.decided == finish and to_index(c.decided) > x - day:
            out.append(
                _episode(
                    "decided_on_last_day", c, c.decided, c.decided, limit_days=item.promised_days, look=True
                )
            )
    return out


def _episode(
    kind: str, c: _Case, onset: datetime, end: datetime | None, *, limit_days: int, look: bool = False
) -> Episode:
    subject = f"case:{c.id}"
    return Episode(
        episode_id=f"{kind}:{subject}",
        kind=kind,
        subject=subject,
        onset=onset,
        end=end,
        lookalike=look,
        confuses=("deemed_approval",) if look else (),
        cause="lookalike" if look else "natural",
        hall_id=c.hall,
        department_id=c.dept,
        params={"item_id": c.item, "limit_days": float(limit_days)},
    )
