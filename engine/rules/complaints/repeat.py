"""Repeat complaints: the same official, or the same unit, complained about again and again.

Counted at classification (``complaint.classified``, which names the unit and, when the
complainant names one, the official): when the complaints about a target within the last
``window_days`` working days reach ``official_complaints`` (an official) or
``unit_complaints`` (a unit), the rule raises an alert about ``staff:<id>`` or
``department:<id>``; it raises the next one for that target only once the previous alert has
left the window, so a run of complaints is one alert, not one per complaint.
"""

from __future__ import annotations

from collections import deque
from typing import Annotated, Any

from msgspec import Meta

from engine.rules.complaints.book import ComplaintState
from engine.rules.complaints.clock import ComplaintRule
from engine.rules.registry import register

__all__ = ["RepeatComplaints"]

WindowDays = Annotated[
    float,
    Meta(
        gt=0,
        le=3650,
        description="Working days over which complaints about one official or unit are counted: sixty, "
        "about a quarter (an assumption; bulletins are monthly or quarterly).",
    ),
]
OfficialComplaints = Annotated[
    int,
    Meta(
        ge=2,
        le=1000,
        description="Complaints about one named official within the window that make a repeat: two, as "
        "'an official named twice is dealt with' in the published rules.",
    ),
]
UnitComplaints = Annotated[
    int,
    Meta(
        ge=2,
        le=1000,
        description="Complaints about one unit within the window that make a repeat (six, an assumption "
        "for a county hall's busiest departments: above what their traffic alone explains).",
    ),
]


@register
class RepeatComplaints(ComplaintRule):
    """Enough complaints about one official or one unit within ``window_days`` working days."""

    name = "complaint.repeat"
    level = "warning"
    kinds = ("complaint.classified",)

    def __init__(
        self,
        *,
        window_days: WindowDays = 60.0,
        official_complaints: OfficialComplaints = 2,
        unit_complaints: UnitComplaints = 6,
    ) -> None:
        self.window_days = window_days
        self.official_complaints = official_complaints
        self.unit_complaints = unit_complaints

    def reset(self) -> None:
        super().reset()
        self._window = self.window_days * self._day
        self._seen: dict[str, deque[tuple[float, str]]] = {}
        self._last: dict[str, float] = {}
        self._count: dict[str, int] = {}

    def check_one(self, event: Any, state: Any) -> None:
        x = self.ctx.to_index(event.ts)
        self._count_one(f"department:{event.department_id}", None, self.unit_complaints, x, event, state)
        if event.staff_id is not None:
            self._count_one(
                f"staff:{event.staff_id}", event.staff_id, self.official_complaints, x, event, state
            )

    def _count_one(
        self, subject: str, staff: str | None, needed: int, x: float, event: Any, state: ComplaintState
    ) -> None:
        seen = self._seen.get(subject)
        if seen is None:
            seen = self._seen[subject] = deque()
        seen.append((x, state.complaint_id))
        while seen[0][0] <= x - self._window:
            seen.popleft()
        last = self._last.get(subject)
        if len(seen) < needed or (last is not None and last > x - self._window):
            return
        self._last[subject] = x
        n = self._count[subject] = self._count.get(subject, 0) + 1
        self.ctx.emit(
            self,
            subject,
            event.ts,
            hall_id=event.hall_id,
            department_id=event.department_id,
            staff_id=staff,
            discriminator=str(n),
            evidence={
                "complaints": len(seen),
                "window_days": self.window_days,
                "complaint_ids": [cid for _, cid in seen],
            },
        )
