"""The ``Scenario`` Struct of a hall world: what one hall scenario file decodes into.

Kept apart from loading (:mod:`sim.common.scenario`) so that the cross-field checks can
name the type they check without importing the loader that calls them.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Meta

from engine.contract.calendar import WorkingCalendar
from sim.common.scenario_calendar import build_scenario_calendar
from sim.common.scenario_types import (
    Arrivals,
    CalendarSpec,
    Hall,
    Injection,
    Lookalikes,
    Misconduct,
    Service,
    TruthSpec,
    parse_period,
)
from sim.common.sections.cameras import Cameras
from sim.common.sections.complaints import Complaints
from sim.common.sections.deemed import Deemed
from sim.common.sections.inspections import Inspections
from sim.common.sections.quality import DataQuality

__all__ = ["Scenario", "resolve_targets"]


class Scenario(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A whole simulated world: where, when, how busy, how honest."""

    name: Annotated[str, Meta(min_length=1, max_length=200)]
    description: str = ""
    seed: Annotated[int, Meta(ge=0, le=2**63 - 1)] = 0
    start: date
    days: Annotated[int, Meta(ge=1, le=3660)]
    timezone: str = "Asia/Shanghai"
    calendar: CalendarSpec = CalendarSpec()
    rulebook: str = "rulebooks/default.yaml"
    #: Published figures this scenario claims to reproduce (``targets/x.yaml`` or ``targets/x.yaml#tag``,
    #: relative to the scenario file); ``supsim run`` then prints the calibration table.
    targets: str | None = None
    halls: Annotated[list[Hall], Meta(min_length=1)]
    arrivals: Arrivals
    service: Service = Service()
    misconduct: Misconduct = Misconduct()
    lookalikes: Lookalikes = Lookalikes()
    injection: Injection = Injection()
    truth: TruthSpec = TruthSpec()
    #: Optional camera layer (staff conduct, presence/queue/audio analytics);
    #: see ``sim.common.sections.cameras``.
    cameras: Cameras | None = None
    #: Optional data-quality layer between the world and the engine (batch sync, outages,
    #: clocks, missing, duplicate and backfilled records); see ``sim.common.sections.quality``.
    data_quality: DataQuality | None = None
    #: Optional complaints layer (efficiency complaints about the hall's units and staff);
    #: see ``sim.common.sections.complaints``. Absent, the run is exactly as without it.
    complaints: Complaints | None = None
    #: Optional inspections layer (unannounced inspections of the hall's units, rectification
    #: notices); see ``sim.common.sections.inspections``. Absent, the run is exactly as without it.
    inspections: Inspections | None = None
    #: Optional truth for the opt-in deemed rules (超时默认, 缺席默认) and joint reviews of marked
    #: items; see ``sim.common.sections.deemed``. Absent, the run is exactly as without it.
    deemed: Deemed | None = None

    # --- derived views (pure functions of the fields) ------------------------------------

    def tzinfo(self) -> tzinfo:
        return ZoneInfo(self.timezone)

    def periods(self) -> list[tuple[time, time]]:
        return [parse_period(p) for p in self.calendar.periods]

    def day_seconds(self) -> int:
        """Working seconds in one working day (7 h = 25,200 s for the default periods)."""
        total = 0
        for begin, end in self.periods():
            b = datetime.combine(date.min, begin)
            total += int((datetime.combine(date.min, end) - b).total_seconds())
        return total

    def working_hours(self) -> int:
        """Number of (possibly partial) working hours in a day: the hourly profile's length."""
        return math.ceil(self.day_seconds() / 3600)

    def horizon(self) -> tuple[datetime, datetime]:
        """Start (midnight of ``start``) and end (``days`` calendar days later) of the run."""
        begin = datetime.combine(self.start, time(0), tzinfo=self.tzinfo())
        return begin, begin + timedelta(days=self.days)

    def build_calendar(self) -> WorkingCalendar:
        """The working calendar the run is counted on (:mod:`sim.common.scenario_calendar`)."""
        return build_scenario_calendar(self.calendar, tz=self.tzinfo(), start=self.start, days=self.days)

    def rulebook_path(self, scenario_file: str | Path) -> Path:
        """The rulebook file, resolved against the directory of ``scenario_file``."""
        path = Path(self.rulebook)
        return path if path.is_absolute() else Path(scenario_file).parent / path

    def targets_path(self, scenario_file: str | Path) -> str | None:
        """The targets reference resolved like the rulebook's, keeping any ``#tag``."""
        return resolve_targets(self.targets, scenario_file)


def resolve_targets(targets: str | None, scenario_file: str | Path) -> str | None:
    """A scenario's ``targets:`` reference made relative to the scenario file, keeping ``#tag``.

    Shared by the hall and market scenario types, so both resolve references the same way.
    """
    if targets is None:
        return None
    file, sep, tag = targets.partition("#")
    path = Path(file)
    resolved = path if path.is_absolute() else Path(scenario_file).parent / path
    return f"{resolved}{sep}{tag}"
