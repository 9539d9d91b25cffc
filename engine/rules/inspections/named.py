"""Unit named twice in twelve months (评优资格): the unit loses its annual award eligibility.

The published rule: a unit named in the efficiency bulletin (通报) twice within twelve months
cannot be rated excellent that year. A naming is an ``inspection.finding`` with ``named``; the
findings of one visit name the unit once, however many there are. Months are calendar months
on the findings' own dates (a naming on 15 March counts until 14 March of the next year), not
working days: the rule in force counts months. When the namings of a unit within the window
reach ``named_times``, the rule raises an alert about ``department:<id>`` at the naming that
makes the count; it raises the next one only once that naming has left the window, so a run
of namings is one loss of eligibility, not one per naming.
"""

from __future__ import annotations

from collections import deque
from datetime import date
from typing import Annotated, Any

from msgspec import Meta

from engine.rules.base import Rule
from engine.rules.registry import register

__all__ = ["UnitNamedTwice", "months_after"]

WindowMonths = Annotated[
    int,
    Meta(
        ge=1,
        le=120,
        description="Calendar months over which the bulletin namings of one unit are counted: twelve, as "
        "the published rule says (a unit named twice in twelve months loses its award eligibility).",
    ),
]
NamedTimes = Annotated[
    int,
    Meta(
        ge=2,
        le=100,
        description="Namings of one unit within the window that cost it the award eligibility: two, as the "
        "published rule says.",
    ),
]


def months_after(day: date, months: int) -> date:
    """``day`` moved ``months`` calendar months on; the 31st becomes the month's last day if needed."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")


@register
class UnitNamedTwice(Rule):
    """``named_times`` bulletin namings of one unit within ``window_months`` calendar months."""

    name = "inspection.named_twice"
    level = "warning"
    section = "inspections"
    kinds = ("inspection.finding",)

    def __init__(self, *, window_months: WindowMonths = 12, named_times: NamedTimes = 2) -> None:
        self.window_months = window_months
        self.named_times = named_times

    def reset(self) -> None:
        self._seen: dict[str, deque[tuple[date, str]]] = {}
        self._visits: set[tuple[str, str]] = set()
        self._last: dict[str, date] = {}
        self._count: dict[str, int] = {}

    def check_one(self, event: Any, state: Any) -> None:
        if not event.named or (event.department_id, event.inspection_id) in self._visits:
            return
        self._visits.add((event.department_id, event.inspection_id))
        subject = f"department:{event.department_id}"
        today = event.ts.date()  # the date where the finding was recorded (its own offset)
        seen = self._seen.setdefault(subject, deque())
        seen.append((today, event.inspection_id))
        while months_after(seen[0][0], self.window_months) <= today:
            seen.popleft()
        last = self._last.get(subject)
        if len(seen) < self.named_times or (
            last is not None and months_after(last, self.window_months) > today
        ):
            return
        self._last[subject] = today
        n = self._count[subject] = self._count.get(subject, 0) + 1
        self.ctx.emit(
            self,
            subject,
            event.ts,
            hall_id=event.hall_id,
            department_id=event.department_id,
            staff_id=None,
            discriminator=str(n),
            evidence={
                "namings": len(seen),
                "window_months": self.window_months,
                "inspection_ids": [i for _, i in seen],
                "named_on": [d.isoformat() for d, _ in seen],
            },
        )
