"""Network scenario files: decoding, the checks a single field cannot express, the schema.

A bad network file fails before anything runs, like a hall scenario, with the same
:class:`~sim.common.scenario.ScenarioError` naming the file and the field path, e.g.
``province.yaml: `$.network.levels[2].template` - unknown template 'contry'``. Beyond the
field types and ranges (msgspec), the checks are: the first level is one root unit; no
level has fewer units than the one above (every unit has at least one child); templates
named by levels exist; windows and items can cover every department; hall ids fit the
hall scenario's limit; and the first hall drawn from each template passes every check of
a hall scenario (rates, calendar coverage, hourly profile), reported under the template.

A file is a network scenario when it has a top-level ``network:`` key
(:func:`is_network_file`), so ``supsim run`` can tell it from a hall or market scenario.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from engine.contract.holidays import CalendarOverride
from engine.contract.yaml_checks import yaml_problems
from sim.common.scenario import ScenarioError, _split_validation
from sim.common.scenario_calendar import resolve_holiday_paths, with_override
from sim.common.scenario_checks import check_scenario
from sim.network.halls import hall_scenario
from sim.network.layout import MAX_HALL_ID, layout_halls, longest_hall_id
from sim.network.scenario_types import HallTemplate, NetworkScenario

__all__ = [
    "NetworkScenario",
    "check_network",
    "decode_network",
    "is_network_file",
    "load_network",
    "network_json_schema",
]

Problems = list[tuple[str, str]]


def is_network_file(path: str | Path) -> bool:
    """Whether a scenario file describes a network of halls (a top-level ``network:`` key)."""
    try:
        data = msgspec.yaml.decode(Path(path).read_bytes())
    except (OSError, msgspec.DecodeError):
        return False
    return isinstance(data, dict) and "network" in data and "halls" not in data


def _structure(net: NetworkScenario) -> Problems:
    problems: Problems = []
    levels = net.network.levels
    at = "$.network.levels"
    if levels[0].count != 1:
        problems.append((f"{at}[0].count", "the first level is the network's root unit: count must be 1"))
    seen_codes: dict[str, int] = {}
    seen_levels: dict[str, int] = {}
    for k, level in enumerate(levels):
        if level.code in seen_codes:
            problems.append(
                (f"{at}[{k}].code", f"duplicate code {level.code!r} (also level {seen_codes[level.code]})")
            )
        seen_codes.setdefault(level.code, k)
        if level.level in seen_levels:
            problems.append((f"{at}[{k}].level", f"duplicate level {level.level!r}"))
        seen_levels.setdefault(level.level, k)
        if level.template not in net.templates:
            known = ", ".join(sorted(net.templates))
            problems.append((f"{at}[{k}].template", f"unknown template {level.template!r} (known: {known})"))
        if len(level.names) > level.count:
            problems.append((f"{at}[{k}].names", f"{len(level.names)} names for {level.count} units"))
        if k and level.count < levels[k - 1].count:
            problems.append(
                (
                    f"{at}[{k}].count",
                    f"{level.count} units cannot give each of the {levels[k - 1].count} units above one",
                )
            )
    longest = longest_hall_id(net)
    if longest > MAX_HALL_ID:
        problems.append(
            ("$.network", f"hall ids (unit paths) reach {longest} characters; the limit is {MAX_HALL_ID}")
        )
    for name, t in net.templates.items():
        tp = f"$.templates.{name}"
        for field, r in (("windows", t.windows), ("items", t.items)):
            if r.min < t.departments.max:
                problems.append(
                    (
                        f"{tp}.{field}.min",
                        f"{r.min} is below departments.max ({t.departments.max}): "
                        f"every department needs at least one of its {field}",
                    )
                )
    return problems


def _hall_path(path: str, template: str, overrides_misconduct: bool) -> str:
    """A generated hall scenario's field path as the network file's field path."""
    if path.startswith("$.halls[0]"):
        return f"$.templates.{template}" + path.removeprefix("$.halls[0]")
    if path.startswith("$.misconduct") and overrides_misconduct:
        return f"$.templates.{template}{path.removeprefix('$')}"
    return path


def check_network(net: NetworkScenario) -> Problems:
    """All cross-field problems of ``net`` as ``(path, reason)`` pairs (empty when consistent)."""
    problems = _structure(net)
    if problems:
        return problems
    first: dict[str, Any] = {}
    for spec in layout_halls(net):
        first.setdefault(spec.template, spec)
    for name, spec in first.items():
        try:
            scenario, _ = hall_scenario(net, spec)
        except msgspec.ValidationError as exc:
            problems.append((f"$.templates.{name}", f"hall {spec.hall_id} cannot be built: {exc}"))
            continue
        overrides = net.templates[name].misconduct is not None
        for path, reason in check_scenario(scenario):
            where = _hall_path(path, name, overrides)
            item = (where, f"{reason} (hall {spec.hall_id})" if where.startswith("$.templates") else reason)
            if item not in problems:
                problems.append(item)
    return problems


def _template_problem(data: bytes | str) -> tuple[str, str] | None:
    """The first bad template by name: msgspec names a mapping's value only ``$.templates[...]``."""
    raw = msgspec.yaml.decode(data)
    templates = raw.get("templates") if isinstance(raw, dict) else None
    if not isinstance(templates, dict):
        return None
    for name, body in templates.items():
        try:
            msgspec.convert(body, HallTemplate)
        except msgspec.ValidationError as exc:
            path, reason = _split_validation(str(exc))
            return f"$.templates.{name}{path.removeprefix('$')}", reason
    return None


def decode_network(
    data: bytes | str, *, source: str = "<network>", calendar: CalendarOverride | None = None
) -> NetworkScenario:
    """Decode and check network scenario YAML; errors name ``source`` and the field path."""
    if problems := yaml_problems(data):
        raise ScenarioError(source, problems)
    try:
        net = msgspec.yaml.decode(data, type=NetworkScenario)
    except msgspec.ValidationError as exc:
        raise ScenarioError(source, [_template_problem(data) or _split_validation(str(exc))]) from None
    except msgspec.DecodeError as exc:
        raise ScenarioError(source, [("$", f"malformed YAML: {' '.join(str(exc).split())}")]) from None
    spec = with_override(resolve_holiday_paths(net.calendar, source), calendar)
    if spec is not net.calendar:
        net = msgspec.structs.replace(net, calendar=spec)
    problems = check_network(net)
    if problems:
        raise ScenarioError(source, problems)
    return net


def load_network(path: str | Path, *, calendar: CalendarOverride | None = None) -> NetworkScenario:
    """Read, decode and check a network scenario file (``calendar``: the command line's override)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(str(path), [("$", f"cannot read the file ({exc.strerror})")]) from None
    return decode_network(data, source=str(path), calendar=calendar)


def network_json_schema() -> dict[str, Any]:
    """JSON Schema of network scenario files, generated from the Structs (for editors)."""
    return msgspec.json.schema(NetworkScenario)
