"""The hall's queue-number system (排队叫号): tickets, calls and abandoned tickets.

Why it is built from the reconstructed waits: the hall model has no ticket machine, but its
windows are one first-come first-served line per department, and
:func:`sim.floor.waits.window_waits` recovers each walk-in's call to the window exactly.
A queue system in that hall would record precisely those two instants, so a walk-in's
``queue.ticket`` is its ``case.submitted`` instant and its ``queue.called`` the
reconstructed call, by the clerk's window. Numbers restart every day per department, in
arrival order (the calls then come in ticket order, as in a real FIFO hall).

The imperfection, abandoned tickets (过号): people who take a number and leave without
being served. They are extra people (the hall model's walk-ins were all served), placed
between two walk-in arrivals of the same department and day, ``abandon_rate`` of the
walk-ins. A holder leaves after a lognormal patience in working time, at the latest when
the number's turn comes (the call of the next ticket; the end of the day if none): then
the system passes the number over, and such a call, unanswered, is not exported. Numbers
restart every day; the hall model serves a walk-in still waiting at closing time first
thing the next morning, so such a ticket is called the next day. So a
rule sees an abandoned number until a later one is called, while the truth counts the
holder only until they left: the source of the few false alarms the ticket path has.
The queue system is a server with a synchronised clock: no skew, no duplicates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from engine.contract.calendar import WorkingCalendar
from engine.contract.events import Event, QueueCalled, QueueTicket
from sim.common.sections.cameras import QueueSystemSpec
from sim.floor.waits import WindowWait

__all__ = ["QueueRecords", "queue_records"]


@dataclass(frozen=True, slots=True)
class QueueRecords:
    """The queue system's events and the abandoned tickets as waits (for the capacity truth)."""

    events: list[Event]
    abandoned: list[WindowWait]


def _day_end(cal: WorkingCalendar, t: datetime) -> datetime:
    """End of the last working period of ``t``'s working day."""
    d = cal.day_seconds
    return cal.from_index((math.floor(cal.to_index(t) / d) + 1) * d)


def _abandoned(
    walk_ins: list[WindowWait],
    line: list[WindowWait],
    spec: QueueSystemSpec,
    cal: WorkingCalendar,
    rng: np.random.Generator,
) -> list[WindowWait]:
    """Abandoned tickets of one department-day (``walk_ins``; ``line``: all the department's)."""
    n = int(rng.binomial(len(walk_ins), spec.abandon_rate)) if len(walk_ins) > 1 else 0
    if n == 0:
        return []
    gaps = rng.integers(0, len(walk_ins) - 1, n)
    where = rng.random(n)
    patience = 60.0 * rng.lognormal(np.log(spec.patience_minutes.median), spec.patience_minutes.sigma, n)
    first = walk_ins[0]
    out: list[WindowWait] = []
    for k, (i, u, p) in enumerate(zip(gaps.tolist(), where.tolist(), patience.tolist(), strict=True)):
        a, b = walk_ins[i].arrived, walk_ins[i + 1].arrived
        x_a, x_b = cal.to_index(a), cal.to_index(b)
        if x_b <= x_a:  # the gap is outside working time (lunch): nobody takes a number there
            continue
        arrived = cal.from_index(round(x_a + u * (x_b - x_a)))  # records carry whole seconds
        turn = next((w.called for w in line if w.arrived > arrived), _day_end(cal, arrived))
        left = min(cal.add_working(arrived, round(p)), turn)
        out.append(
            WindowWait(
                case_id=f"abandoned-{first.department_id}-{arrived:%Y%m%d}-{k}",
                hall_id=first.hall_id,
                department_id=first.department_id,
                staff_id=None,
                arrived=arrived,
                called=left,
                abandoned=True,
            )
        )
    return out


def queue_records(
    waits: Sequence[WindowWait],
    window_of: dict[str, str],
    spec: QueueSystemSpec,
    cal: WorkingCalendar,
    rng: np.random.Generator,
) -> QueueRecords:
    """Tickets and answered calls for every walk-in in ``waits``, plus abandoned tickets.

    ``window_of`` maps a window clerk to their window (the caller's terminal).
    """
    groups: dict[tuple[str, str, str], list[WindowWait]] = {}
    lines: dict[str, list[WindowWait]] = {}
    for w in sorted(waits, key=lambda w: (w.arrived, w.case_id)):
        if not w.abandoned:
            groups.setdefault((w.hall_id, w.department_id, f"{w.arrived:%Y%m%d}"), []).append(w)
            lines.setdefault(w.department_id, []).append(w)
    events: list[Event] = []
    abandoned: list[WindowWait] = []
    for (hall, dept, day), group in sorted(groups.items()):
        gone = _abandoned(group, lines[dept], spec, cal, rng)
        abandoned += gone
        line = sorted([*group, *gone], key=lambda w: (w.arrived, w.abandoned, w.case_id))
        for n, w in enumerate(line, start=1):
            ticket = f"{dept}-{n:03d}"
            eid = f"QN-{dept}-{day}-{n:03d}"
            events.append(
                QueueTicket(
                    event_id=f"{eid}-ticket",
                    ts=w.arrived,
                    hall_id=hall,
                    department_id=dept,
                    ticket=ticket,
                    case_id=None if w.abandoned else w.case_id,
                )
            )
            if w.abandoned or w.staff_id is None:
                continue
            events.append(
                QueueCalled(
                    event_id=f"{eid}-window",  # after its ticket at the same instant
                    ts=w.called,
                    hall_id=hall,
                    department_id=dept,
                    ticket=ticket,
                    window_id=window_of[w.staff_id],
                    staff_id=w.staff_id,
                )
            )
    return QueueRecords(events=events, abandoned=abandoned)
