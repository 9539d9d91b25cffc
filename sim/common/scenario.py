"""Scenario files: one YAML file fully determines a run (with its seed).

``load_scenario`` decodes the file into :class:`Scenario` (field types and ranges checked by
msgspec), then runs the cross-field checks of :mod:`sim.common.scenario_checks` (references,
duplicates, sums, calendar coverage). Either kind of problem raises :class:`ScenarioError`
whose message names the file and the field path, e.g.
``county.yaml: `$.halls[0].departments[2].windows` - Expected `int` >= 1``, so a bad file
fails before anything runs.

The rulebook is named by a path relative to the scenario file and kept as written;
:meth:`Scenario.rulebook_path` resolves it against the file it was loaded from. Holiday
files (``calendar.holidays``) are resolved against the scenario file when it is decoded.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec

from engine.contract.holidays import CalendarOverride
from engine.contract.yaml_checks import date_problem, type_hint, yaml_problems
from sim.common.hall_scenario import Scenario, resolve_targets
from sim.common.scenario_calendar import resolve_holiday_paths, with_override
from sim.common.scenario_checks import check_scenario

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


#: msgspec's "<reason> - at `$.path`", or "- at `key` in `$.path`" when a mapping's key is bad.
_AT_PATH = re.compile(r"^(?P<reason>.*) - at `(?P<key>key` in `)?(?P<path>\$[^`]*)`$", re.DOTALL)


def _split_validation(message: str) -> tuple[str, str]:
    match = _AT_PATH.match(message)
    if match is None:
        return "$", message
    return match["path"], type_hint(match["reason"]) + (" (a key of this mapping)" if match["key"] else "")


def decode_scenario(
    data: bytes | str, *, source: str = "<scenario>", calendar: CalendarOverride | None = None
) -> Scenario:
    """Decode and check scenario YAML text; errors name ``source`` and the field path.

    ``calendar`` (a command line's ``--holidays`` / ``--beyond-range``) is applied before the
    checks, so a run the override makes possible is not refused.
    """
    if problems := yaml_problems(data):
        raise ScenarioError(source, problems)
    try:
        scenario = msgspec.yaml.decode(data, type=Scenario)
    except msgspec.ValidationError as exc:
        raise ScenarioError(source, [_split_validation(str(exc))]) from None
    except msgspec.DecodeError as exc:
        where = date_problem(data) or ("$", f"malformed YAML: {' '.join(str(exc).split())}")
        raise ScenarioError(source, [where]) from None
    spec = with_override(resolve_holiday_paths(scenario.calendar, source), calendar)
    if spec is not scenario.calendar:
        scenario = msgspec.structs.replace(scenario, calendar=spec)
    problems = check_scenario(scenario)
    if problems:
        raise ScenarioError(source, problems)
    return scenario


def load_scenario(path: str | Path, *, calendar: CalendarOverride | None = None) -> Scenario:
    """Read, decode and check a scenario file (``calendar``: see :func:`decode_scenario`)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(str(path), [("$", f"cannot read the file ({exc.strerror})")]) from None
    return decode_scenario(data, source=str(path), calendar=calendar)


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of scenario files, generated from the Structs (for editors)."""
    return msgspec.json.schema(Scenario)
