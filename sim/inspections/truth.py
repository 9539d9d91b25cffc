"""Ground truth of the inspections layer, read from the stream it produced and the world's own draws.

Violations (``lookalike=False``):

* ``rectification_overdue`` about ``rectification:<id>``: a notice not verified as rectified
  within its ``deadline_days`` working days (late, or not by the end of the run); onset is the
  deadline's latest instant, as the engine's timers;
* ``unit_named_twice`` about ``department:<id>``: the ``named_times``-th visit naming the unit
  within ``window_months`` calendar months (a naming on 15 March counts until 14 March of the
  next year; the findings of one visit name the unit once), and again only once the previous
  episode's naming has left the window; onset is that naming.

Look-alikes: ``rectified_on_last_day`` (verified minutes before the deadline) and
``named_13_months_apart`` (the unit named again thirteen months after a naming, when that naming
makes no ``unit_named_twice``).

"Late" is counted on the working-time index as the engine counts it: a verification whose index
equals the deadline's is on time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import date, datetime
from typing import TypeVar

from engine.contract.calendar import WorkingCalendar
from engine.contract.events import Event, InspectionFinding, RectificationIssued, RectificationVerified
from sim.common.sections.inspections import InspectionTruthSpec
from sim.common.truth import Episode

__all__ = ["INSPECTION_LOOKALIKE_KINDS", "INSPECTION_VIOLATION_KINDS", "add_months", "inspection_truth"]

INSPECTION_VIOLATION_KINDS: tuple[str, ...] = ("rectification_overdue", "unit_named_twice")
INSPECTION_LOOKALIKE_KINDS: tuple[str, ...] = ("rectified_on_last_day", "named_13_months_apart")

D = TypeVar("D", date, datetime)


def add_months(when: D, months: int) -> D:
    """``when`` moved ``months`` calendar months on, the day clamped to the month's last."""
    total = when.year * 12 + when.month - 1 + months
    year, month = total // 12, total % 12 + 1
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = (nxt - date(year, month, 1)).days
    return when.replace(year=year, month=month, day=min(when.day, last))


def inspection_truth(
    events: Sequence[Event],
    calendar: WorkingCalendar,
    end: datetime,
    spec: InspectionTruthSpec,
    kinds: dict[str, str],
    follow_ups: dict[str, str],
) -> list[Episode]:
    """Episodes of the inspection ``events`` (time-ordered).

    ``kinds``: rectification id → injected kind (``overdue``, ``last_day``); ``follow_ups``:
    visit id → why it happened (``named_again``, ``named_after_13_months``).
    """
    day = float(calendar.day_seconds)
    idx = calendar.to_index
    end_x = idx(end)
    issued: dict[str, RectificationIssued] = {}
    done: dict[str, datetime] = {}
    namings: list[InspectionFinding] = []
    seen_visits: set[str] = set()
    for e in events:
        if isinstance(e, RectificationIssued):
            issued[e.rectification_id] = e
        elif isinstance(e, RectificationVerified):
            if e.rectified:
                done.setdefault(e.rectification_id, e.ts)
        elif isinstance(e, InspectionFinding) and e.named and e.inspection_id not in seen_visits:
            seen_visits.add(e.inspection_id)
            namings.append(e)
    out: list[Episode] = []
    for rid, n in issued.items():
        limit = idx(n.ts) + n.deadline_days * day
        finished = done.get(rid)
        late = idx(finished) > limit if finished is not None else limit < end_x
        if late:
            out.append(
                Episode(
                    episode_id=f"rectification_overdue:{rid}",
                    kind="rectification_overdue",
                    onset=calendar.from_index(limit, latest=True),
                    end=finished,
                    cause="injected" if kinds.get(rid) == "overdue" else "natural",
                    params={"deadline_days": n.deadline_days},
                    subject=f"rectification:{rid}",
                    hall_id=n.hall_id,
                    department_id=n.department_id,
                )
            )
        elif kinds.get(rid) == "last_day":
            out.append(
                Episode(
                    episode_id=f"rectified_on_last_day:{rid}",
                    kind="rectified_on_last_day",
                    onset=n.ts,
                    end=finished,
                    lookalike=True,
                    confuses=("rectification_overdue",),
                    cause="lookalike",
                    subject=f"rectification:{rid}",
                    hall_id=n.hall_id,
                    department_id=n.department_id,
                )
            )
    out.extend(_named(namings, spec, follow_ups))
    return sorted(out, key=lambda ep: (ep.onset, ep.episode_id))


def _named(
    namings: list[InspectionFinding], spec: InspectionTruthSpec, follow_ups: dict[str, str]
) -> list[Episode]:
    """``unit_named_twice`` episodes and ``named_13_months_apart`` look-alikes (see the module docstring)."""
    seen: dict[str, deque[date]] = {}
    last: dict[str, date] = {}
    count: dict[str, int] = {}
    out: list[Episode] = []
    for e in namings:
        subject = f"department:{e.department_id}"
        today = e.ts.date()
        dates = seen.setdefault(subject, deque())
        dates.append(today)
        while add_months(dates[0], spec.window_months) <= today:
            dates.popleft()
        why = follow_ups.get(e.inspection_id)
        if len(dates) >= spec.named_times and (
            subject not in last or add_months(last[subject], spec.window_months) <= today
        ):
            last[subject] = today
            count[subject] = count.get(subject, 0) + 1
            out.append(
                Episode(
                    episode_id=f"unit_named_twice:{subject}:{count[subject]}",
                    kind="unit_named_twice",
                    cause="injected" if why == "named_again" else "natural",
                    params={"namings": len(dates), "trigger": e.inspection_id},
                    subject=subject,
                    onset=e.ts,
                    hall_id=e.hall_id,
                    department_id=e.department_id,
                )
            )
        elif why == "named_after_13_months":
            out.append(
                Episode(
                    episode_id=f"named_13_months_apart:{e.inspection_id}",
                    kind="named_13_months_apart",
                    lookalike=True,
                    confuses=("unit_named_twice",),
                    cause="lookalike",
                    params={"trigger": e.inspection_id},
                    subject=subject,
                    onset=e.ts,
                    hall_id=e.hall_id,
                    department_id=e.department_id,
                )
            )
    return out
