"""Whole streams: an export or a simulated run through a fresh engine, with its end as the clock.

The live service feeds an :class:`~engine.core.Engine` batch by batch with the wall clock;
a replay knows the whole stream, and its end is an instant no event can be later than, so
it serves as the engine's reference clock (nothing waits for a second source to vouch for
a jump; see :mod:`engine.core`). :func:`detect` is that run, with everything it produced
sorted; :func:`fixed_clock` is the clock, for callers that drive an engine themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.contract.calendar import WorkingCalendar
from engine.core import Engine
from engine.rules.rulebook import Rulebook
from engine.runtime.side import SideRecord

__all__ = ["DetectResult", "detect", "fixed_clock"]


@dataclass(frozen=True, slots=True)
class DetectResult:
    """Everything one batch run produced; alerts sorted by ``(ts, alert_id)``."""

    alerts: list[Alert]
    side_output: list[SideRecord]
    stats: dict[str, int]
    card_levels: dict[str, str] = field(default_factory=dict)


def fixed_clock(t: datetime) -> Callable[[], float]:
    """A reference clock that always reads ``t``: an export's or a simulated run's end."""
    at = t.timestamp()

    def clock() -> float:
        return at

    return clock


def detect(
    events: Iterable[ev.Event],
    rulebook: Rulebook | None = None,
    *,
    calendar: WorkingCalendar | None = None,
    reference: datetime | None = None,
) -> DetectResult:
    """Run a whole stream through a fresh engine and collect everything, sorted.

    ``reference`` is a trustworthy instant no event can be later than: the end of an
    export, or of a simulated run. It serves as the engine's reference clock (see the
    module docstring): with it, nothing waits for a second source.
    """
    clock = fixed_clock(reference) if reference is not None else None
    engine = Engine(rulebook, calendar=calendar, clock=clock)
    alerts = engine.process_many(events)
    alerts.extend(engine.finish())
    alerts.sort(key=lambda a: (a.ts, a.alert_id))
    return DetectResult(
        alerts=alerts,
        side_output=list(engine.side_output),
        stats=engine.stats,
        card_levels=engine.card_levels,
    )
