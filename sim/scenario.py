"""Scenario files: one YAML file fully determines a run (with its seed).

``load_scenario`` decodes the file into :class:`Scenario` (field types and ranges checked by
msgspec), then runs the cross-field checks of :mod:`sim.scenario_checks` (references,
duplicates, sums, calendar coverage). Either kind of problem raises :class:`ScenarioError`
whose message names the file and the field path, e.g.
``county.yaml: `$.halls[0].departments[2].windows` - Expected `int` >= 1``, so a bad file
fails before anything runs.

The rulebook is named by a path relative to the scenario file and kept as written;
:meth:`Scenario.rulebook_path` resolves it against the file it was loaded from.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Meta

from engine.calendar import WorkingCalendar
from sim.camera_spec import Cameras
from sim.scenario_checks import check_scenario
from sim.scenario_types import (
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

__all__ = [
    "Scenario",
    "ScenarioError",
    "decode_scenario",
    "load_scenario",
    "resolve_targets",
    "scenario_json_schema",
]


class ScenarioError(ValueError):
    """A scenario file is malformed or inconsistent.

    ``problems`` lists ``(field_path, reason)`` pairs; the message has one line per problem,
    each ``<file>: `<path>` - <reason>``.
    """

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: `{path}` - {reason}" for path, reason in problems))


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
    #: Optional camera layer (staff conduct, presence/queue/audio analytics); see ``sim.camera_spec``.
    cameras: Cameras | None = None

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
        """The working calendar the run is counted on."""
        spec = self.calendar
        if spec.holidays == "china":
            return WorkingCalendar.china(
                periods=self.periods(),
                extra_holidays=spec.extra_holidays,
                extra_workdays=spec.extra_workdays,
                tz=self.tzinfo(),
            )
        end = self.start + timedelta(days=self.days)
        return WorkingCalendar(
            first=date(self.start.year - 1, 1, 1),
            last=date(end.year + 1, 12, 31),
            periods=self.periods(),
            holidays=spec.extra_holidays,
            makeup_workdays=spec.extra_workdays,
            tz=self.tzinfo(),
        )

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


_AT_PATH = re.compile(r"^(?P<reason>.*) - at `(?P<path>\$[^`]*)`$", re.DOTALL)


def _split_validation(message: str) -> tuple[str, str]:
    match = _AT_PATH.match(message)
    if match is None:
        return "$", message
    return match["path"], match["reason"]


def decode_scenario(data: bytes | str, *, source: str = "<scenario>") -> Scenario:
    """Decode and check scenario YAML text; errors name ``source`` and the field path."""
    try:
        scenario = msgspec.yaml.decode(data, type=Scenario)
    except msgspec.ValidationError as exc:
        raise ScenarioError(source, [_split_validation(str(exc))]) from None
    except msgspec.DecodeError as exc:
        raise ScenarioError(source, [("$", f"malformed YAML: {' '.join(str(exc).split())}")]) from None
    problems = check_scenario(scenario)
    if problems:
        raise ScenarioError(source, problems)
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read, decode and check a scenario file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(str(path), [("$", f"cannot read the file ({exc.strerror})")]) from None
    return decode_scenario(data, source=str(path))


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of scenario files, generated from the Structs (for editors)."""
    return msgspec.json.schema(Scenario)
