"""``source.silent``: one alert when a source system has delivered nothing for N working hours.

Why: when a department's exchange server breaks down, the platform sees nothing from the
department for hours, then a burst. Without a word about the silence, the first sign is a
flood of deadline warnings on cases that were in fact closed in time (their closings are in
the burst). One alert per silence episode, naming the source and since when it has been
silent, tells the supervisor what is wrong while it is wrong.

Silence is measured in working time of the stream (the newest record of any source), so a
night or a weekend is not silence, and the alert's instant is where the silence reached
``silent_hours``, whatever the other sources' batching (:mod:`engine.runtime.sources`). A
source is silent only against others that speak: if every source stops, nothing is raised.

Opt-in (``enabled_by_default = False``): it needs the engine to follow every source, which
costs the batch fast path, and the shipped scenarios' outputs must not change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from msgspec import Meta

from engine.rules.base import Rule, RuleContext
from engine.rules.registry import register

__all__ = ["SourceSilent"]

SilentHours = Annotated[
    float,
    Meta(
        gt=0,
        description="Working hours without a record from a source, while others deliver, before one "
        "source.silent alert. Above the longest regular gap between its batches (a nightly export "
        "leaves a working day), below the time its cases' deadline warnings would start.",
    ),
]
Patterns = Annotated[
    tuple[Annotated[str, Meta(min_length=1)], ...],
    Meta(
        min_length=1,
        description="Which sources are watched, as source-name patterns (fnmatch): departments' "
        "business systems by default; cameras, bidders or experts are often quiet by nature.",
    ),
]


@register
class SourceSilent(Rule):
    """One alert per episode of a watched source silent for ``silent_hours`` working hours."""

    name = "source.silent"
    level = "warning"
    section = "source"
    enabled_by_default = False

    def __init__(self, *, silent_hours: SilentHours = 4.0, sources: Patterns = ("dept:*",)) -> None:
        self.silent_hours = silent_hours
        self.sources = sources

    def bind(self, ctx: RuleContext) -> None:
        super().bind(ctx)
        ctx.watch_silence(self.silent_hours * 3600.0, tuple(self.sources), self.silent_one)

    def silent_one(self, source: str, since: datetime, when: datetime, last: Any) -> None:
        """``source`` has had no record after ``since`` until ``when`` (``last``: its last record)."""
        self.ctx.emit(
            self,
            f"source:{source}",
            when,
            hall_id=getattr(last, "hall_id", None),
            department_id=getattr(last, "department_id", None),
            staff_id=None,
            evidence={
                "source": source,
                "silent_since": since.isoformat(),
                "silent_hours": self.silent_hours,
                "last_event_id": getattr(last, "event_id", None),
            },
            discriminator=since.isoformat(),
        )
