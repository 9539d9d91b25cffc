"""What a run of any world produces: the time-ordered stream, its ground truth, and run facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from engine.contract.calendar import WorkingCalendar
from engine.contract.events import Event
from sim.common.truth import Episode

__all__ = ["SimResult"]


@dataclass(frozen=True, slots=True)
class SimResult:
    """What a run produced. ``events`` sorted by ``(ts, event_id)``; ``truth`` by
    ``(onset, episode_id)``; ``staff_names`` maps staff ids to their (synthetic) names."""

    events: list[Event]
    truth: list[Episode]
    start: datetime
    end: datetime
    calendar: WorkingCalendar
    stats: dict[str, int | float] = field(default_factory=dict)
    staff_names: dict[str, str] = field(default_factory=dict)
