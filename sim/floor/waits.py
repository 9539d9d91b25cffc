"""True window waits of the hall model, and the capacity truth built on them.

Why a reconstruction and not a log: the hall model stamps ``case.submitted`` when an
applicant arrives and ``case.accepted`` when the *acceptance is finished*, so the gap
between them is the queue wait plus the clerk's acceptance time (median ten minutes in the
city hall); the moment the clerk calls the applicant is not an event. It follows exactly
from the model's mechanics, though: each department's windows are one first-come
first-served ``simpy.Resource``, a clerk serves one case at a time, and a clerk who
finishes while people wait is handed the head of the line at that very instant. So the
call time of a walk-in case served by clerk *k* is ``max(submitted, end of k's previous
service)``, where a service ends at ``case.accepted`` (promised cases) or at the later of
accepted/decided (instant cases, decided at the window). Online cases hold a window for
their intake too; they are services of the clerk (they push the next call back) but
nobody stands in the hall for them, so they have no wait here.

With the queue-number system on (:mod:`sim.floor.tickets`), abandoned tickets (过号) add
people who waited without becoming a case: they are in the truth too, waiting from their
ticket until they left (``abandoned``, no clerk).

Waits count working time only (the hall is closed at lunch), like the planning module.
A capacity episode of a department is a maximal interval in which at least one walk-in
applicant has been waiting longer than ``capacity_wait_minutes``; episodes closer than
``capacity_merge_minutes`` are one (a queue that dips under the threshold for a moment
has not cleared).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from engine.contract.calendar import WorkingCalendar
from engine.contract.events import CaseAccepted, CaseDecided, CaseSubmitted, Event
from sim.common.truth import Episode

__all__ = ["WindowWait", "capacity_truth", "window_waits"]


@dataclass(frozen=True, slots=True)
class WindowWait:
    """One walk-in applicant: arrival, end of the wait, department, clerk.

    ``called`` is the call to the window (service start); for an ``abandoned`` ticket it is
    the instant the holder left, and ``staff_id`` is ``None`` (nobody served them).
    """

    case_id: str
    hall_id: str
    department_id: str
    staff_id: str | None
    arrived: datetime
    called: datetime
    abandoned: bool = False


@dataclass(slots=True)
class _Span:
    onset: datetime
    end: datetime
    applicants: int
    first: str


def window_waits(events: Iterable[Event], window_staff: set[str]) -> list[WindowWait]:
    """Arrival and call time of every walk-in case accepted at a window by one of ``window_staff``."""
    submitted: dict[str, CaseSubmitted] = {}
    accepted: dict[str, CaseAccepted] = {}
    decided: dict[str, datetime] = {}
    for e in events:
        if isinstance(e, CaseSubmitted):
            submitted[e.case_id] = e
        elif isinstance(e, CaseAccepted):
            accepted.setdefault(e.case_id, e)
        elif isinstance(e, CaseDecided):
            decided.setdefault(e.case_id, e.ts)
    services: dict[str, list[tuple[datetime, str]]] = {}
    for cid, acc in accepted.items():
        if acc.staff_id not in window_staff:
            continue  # accepted in someone else's name (a misconduct kind): not placeable
        end = acc.ts
        if acc.case_type == "instant" and cid in decided:
            end = max(end, decided[cid])
        services.setdefault(acc.staff_id, []).append((end, cid))
    out: list[WindowWait] = []
    for staff in sorted(services):
        prev: datetime | None = None
        for end, cid in sorted(services[staff]):
            sub = submitted.get(cid)
            if sub is not None and sub.channel == "window":
                called = sub.ts if prev is None or prev <= sub.ts else prev
                out.append(WindowWait(cid, sub.hall_id, sub.department_id, staff, sub.ts, called))
            prev = end
    out.sort(key=lambda w: (w.arrived, w.case_id))
    return out


def capacity_truth(
    waits: Sequence[WindowWait],
    cal: WorkingCalendar,
    *,
    wait_minutes: float,
    merge_minutes: float,
) -> list[Episode]:
    """Per department, the intervals in which someone had waited longer than ``wait_minutes``."""
    limit = 60.0 * wait_minutes
    spans: dict[tuple[str, str], list[tuple[datetime, datetime, str]]] = {}
    for w in waits:
        if cal.working_seconds(w.arrived, w.called) <= limit:
            continue
        spans.setdefault((w.hall_id, w.department_id), []).append(
            (cal.add_working(w.arrived, limit), w.called, w.case_id)
        )
    out: list[Episode] = []
    for (hall, dept), items in sorted(spans.items()):
        merged: list[_Span] = []
        for a, b, cid in sorted(items):
            last = merged[-1] if merged else None
            if last is not None and cal.working_seconds(last.end, a) <= 60.0 * merge_minutes:
                last.end = max(last.end, b)
                last.applicants += 1
            else:
                merged.append(_Span(a, b, 1, cid))
        out += [
            Episode(
                episode_id=f"capacity-{dept}-{m.onset:%Y%m%d}-{k}",
                kind="capacity",
                subject=f"department:{dept}",
                onset=m.onset,
                end=m.end,
                hall_id=hall,
                department_id=dept,
                params={"wait_minutes": wait_minutes, "applicants": m.applicants, "first_case": m.first},
            )
            for k, m in enumerate(merged)
        ]
    return out
