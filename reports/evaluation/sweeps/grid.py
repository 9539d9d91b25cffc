"""Sweep grids: which rule parameters to vary, over which values, scored how, for which goal.

A grid file names parameters as ``<rule>.<parameter>`` (``deadline.warning.warning_lead_days``),
the same names the rule's ``get_params`` returns, so any rule can be swept. It may also name
the engine's settings for impaired delivery, the rulebook's ``sources`` section:
``sources.idle_after`` and ``sources.dedup_window`` (seconds), and ``sources.lateness[<pattern>]``
and ``sources.skew_tolerance[<pattern>]`` (seconds for the sources matching the fnmatch
pattern; a swept pattern goes before the rulebook's own, so it wins). It may name the strength of
the scenario's impairments, ``data_quality.<field>`` (:data:`QUALITY_SETTINGS`), set on every
source system of the scenario's ``data_quality:`` section. A rulebook section's field,
``rules.<section>.<field>`` (``rules.order.confirm_after_hours``), is one axis that sets the
field on every rule of that section alike, as the rulebook does. Engine settings and
impairments act on
every rule, so such a grid scores the rules named in ``rules`` (default: every deadline and
logic rule the rulebook enables). Values are a
list or a ``{start, stop, num}`` linear range; several parameters form their Cartesian
product in file order. Like scenarios and rulebooks, the file is decoded into frozen
Structs with unknown keys rejected, so a typo fails before a single seed is simulated.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Annotated, Any

import msgspec
import numpy as np
from msgspec import Meta

from engine.contract.yaml_checks import type_hint, yaml_problems
from engine.rules import rule_class
from engine.rules.base import param_specs
from engine.rules.registry import REGISTRY
from engine.rules.rulebook import Rulebook, validate_rulebook
from reports.evaluation.sweeps.score import Target
from sim.common.sections.quality import APPROVAL_KINDS

__all__ = [
    "ENGINE",
    "MISSING_SETTINGS",
    "QUALITY",
    "QUALITY_SETTINGS",
    "SECTION",
    "Goal",
    "Grid",
    "GridError",
    "LinearRange",
    "Variant",
    "apply_settings",
    "load_grid",
    "variants",
]


class GridError(ValueError):
    """A grid file that cannot be used; the message names the file and the field."""


class LinearRange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    start: float
    stop: float
    num: Annotated[int, Meta(ge=1, le=100_000)]

    def values(self) -> list[float]:
        return [round(float(x), 9) for x in np.linspace(self.start, self.stop, self.num)]


class Goal(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Best recall subject to one constraint: ``min_precision``, ``max_alerts_per_day`` or
    ``max_data_false_alarms_per_1000`` (false alarms caused by data quality per 1,000 cases,
    measured on a scenario with ``data_quality:``)."""

    min_precision: Annotated[float, Meta(ge=0, le=1)] | None = None
    max_alerts_per_day: Annotated[float, Meta(ge=0)] | None = None
    max_data_false_alarms_per_1000: Annotated[float, Meta(ge=0)] | None = None

    def describe(self) -> str:
        if self.min_precision is not None:
            return f"best recall at precision >= {self.min_precision:g}"
        if self.max_alerts_per_day is not None:
            return f"best recall within {self.max_alerts_per_day:g} alerts per working day"
        limit = self.max_data_false_alarms_per_1000
        return f"best recall within {limit:g} false alarms caused by data quality per 1,000 cases"


class Grid(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    params: Annotated[dict[str, list[float] | LinearRange], Meta(min_length=1)]
    score: dict[str, Target] = {}
    goal: Goal = Goal(min_precision=0.5)
    tolerance_s: Annotated[float, Meta(ge=0)] = 60.0
    #: Score a delivered run on each case's source clock (``attribute(on_source_clock=True)``): an
    #: alert stamped minutes off by a skewed department clock still counts for its violation.
    #: A scoring choice, not an engine setting; only for scenarios with ``data_quality:``.
    source_clock: bool = False
    #: Rules scored when the grid names engine settings or the scenario has ``data_quality:``
    #: (empty: the swept rules, else every deadline and logic rule the rulebook enables).
    rules_scored: tuple[str, ...] = msgspec.field(default=(), name="rules")

    def rules(self) -> tuple[str, ...]:
        """Swept rules, in first-mention order (engine settings are not rules)."""
        return tuple(
            dict.fromkeys(r for name in self.params for r, _ in _targets(name) if r not in (ENGINE, QUALITY))
        )

    def engine_settings(self) -> bool:
        """True when the grid names a setting of the rulebook's ``sources`` section or an impairment."""
        return any(_split(name)[0] in (ENGINE, QUALITY) for name in self.params)

    def impairments(self) -> tuple[str, ...]:
        """The swept impairment fields (``sync.every_minutes``...), in file order."""
        return tuple(p for r, p in (_split(name) for name in self.params) if r == QUALITY)


#: The pseudo-rule under which a variant holds its engine settings (``sources.<field>``).
ENGINE = "sources"
#: ``sources`` fields a grid may set: plain seconds, and seconds per source pattern.
SCALAR_SETTINGS = ("idle_after", "dedup_window")
PATTERN_SETTINGS = ("lateness", "skew_tolerance")
#: The pseudo-rule under which a variant holds its impairment strengths (``data_quality.<field>``).
QUALITY = "data_quality"
#: Impairment fields a grid may set, on every source system: minutes between batches, clock skew
#: (minutes), the share of records typed in later by hand, the share sent twice, the share of cases
#: named by an old catalogue code, the share of status codes mapped wrongly (a system without the
#: section gets one with the section's defaults), and ``missing.<kind>``
#: for each approval-event kind (:data:`MISSING_SETTINGS`): the chance such a record never arrives.
QUALITY_SETTINGS = (
    "sync.every_minutes",
    "clock.skew_minutes",
    "backfill.rate",
    "duplicates.rate",
    "old_catalogue.rate",
    "status_mapping.rate",
)
MISSING_SETTINGS = tuple(f"missing.{kind}" for kind in APPROVAL_KINDS)
_PATTERNED = re.compile(r"^(?P<field>[a-z_]+)\[(?P<pattern>[^\]]+)\]$")


#: One variant: rule name -> parameters to set on it (only the swept ones).
Variant = dict[str, dict[str, Any]]


def _split(name: str) -> tuple[str, str]:
    for prefix in (ENGINE, QUALITY):  # a pattern or an impairment field holds dots: split at the first
        if name.startswith(prefix + "."):
            return prefix, name[len(prefix) + 1 :]
    rule, _, param = name.rpartition(".")
    return rule, param


#: The prefix of a rulebook section's field swept on every rule of the section (``rules.<section>.<field>``).
SECTION = "rules"


def section_rules(section: str) -> tuple[str, ...]:
    """The registered rules that read ``rules.<section>``, in registration order."""
    return tuple(name for name, cls in REGISTRY.items() if cls.section == section)


def _targets(name: str) -> list[tuple[str, str]]:
    """(rule, parameter) pairs a grid parameter sets: one, or every rule of a swept section."""
    if name.startswith(SECTION + "."):
        section, _, field = name[len(SECTION) + 1 :].rpartition(".")
        return [(rule, field) for rule in section_rules(section)]
    return [_split(name)]


def apply_settings(book: Rulebook, settings: dict[str, Any], *, where: str = "grid") -> Rulebook:
    """``book`` with a variant's engine settings (``{"skew_tolerance[dept:*]": 300.0, ...}``) set.

    A swept pattern is put before the rulebook's own patterns of that field, so it wins; the
    result is checked as a rulebook file is (``lateness`` needs ``watermark: per_source``).
    """
    src = book.sources
    changes: dict[str, Any] = {}
    for name, value in settings.items():
        m = _PATTERNED.match(name)
        if m is None:
            changes[name] = int(value)
        else:
            field = m["field"]
            old = changes.get(field, getattr(src, field))
            changes[field] = {m["pattern"]: int(value), **{k: v for k, v in old.items() if k != m["pattern"]}}
    return validate_rulebook(
        msgspec.structs.replace(book, sources=msgspec.structs.replace(src, **changes)), where
    )


def _check_setting(name: str, setting: str, where: str) -> None:
    m = _PATTERNED.match(setting)
    if m is None and setting in SCALAR_SETTINGS:
        return
    if m is not None and m["field"] in PATTERN_SETTINGS:
        return
    valid = ", ".join([*SCALAR_SETTINGS, *(f"{f}[<pattern>]" for f in PATTERN_SETTINGS)])
    raise GridError(f"{where}: `$.params.{name}` - not a sweepable engine setting (sweepable: {valid})")


def _check_section(name: str, where: str) -> None:
    section, _, field = name[len(SECTION) + 1 :].rpartition(".")
    rules = section_rules(section)
    if not rules:
        raise GridError(f"{where}: `$.params.{name}` - no rule reads the rulebook section {section!r}")
    for rule in rules:
        if field not in rule_class(rule).param_names():
            raise GridError(f"{where}: `$.params.{name}` - rule {rule!r} has no parameter {field!r}")


def _annotation(rule: str, param: str) -> Any | None:
    """The declared type of a rule's parameter (``None`` for engine, section-less or impairment names)."""
    try:
        cls = rule_class(rule)
    except KeyError:
        return None
    return next((p.annotation for p in param_specs(cls) if p.name == param), None)


def _typed(rule: str, param: str, value: float) -> Any:
    """``value`` as the parameter declares it: a count (``k: int``) gets ``3``, not ``3.0``."""
    annotation = _annotation(rule, param)
    if annotation is None:
        return value
    return msgspec.convert(value, annotation, strict=False)


def variants(grid: Grid) -> list[Variant]:
    """The Cartesian product of the grid's values, first parameter varying slowest."""
    names = list(grid.params)
    axes = [v.values() if isinstance(v, LinearRange) else [float(x) for x in v] for v in grid.params.values()]
    out: list[Variant] = []
    for combo in itertools.product(*axes):
        variant: Variant = {}
        for name, value in zip(names, combo, strict=True):
            for rule, param in _targets(name):
                variant.setdefault(rule, {})[param] = _typed(rule, param, value)
        out.append(variant)
    return out


def _check_values(name: str, values: list[float], where: str) -> None:
    """Every value of a rule parameter within its declared type and bounds, before any run.

    Why here: a value out of bounds (a negative lead) or a fraction for a count otherwise
    surfaces from the first seed's rule validation, deep in a run, as a traceback.
    """
    for rule, param in _targets(name):
        for value in values:
            try:
                _typed(rule, param, value)
            except msgspec.ValidationError as exc:
                reason = str(exc).split(" - at ")[0]
                raise GridError(
                    f"{where}: `$.params.{name}` - value {value:g} is refused by rule {rule!r}: {reason}"
                ) from None


def _check(grid: Grid, where: str) -> Grid:
    for name, values in grid.params.items():
        rule, param = _split(name)
        if isinstance(values, list) and not values:
            raise GridError(f"{where}: `$.params.{name}` - no values")
        if isinstance(values, list) and len(set(values)) < len(values):
            twice = sorted({v for v in values if values.count(v) > 1})
            raise GridError(f"{where}: `$.params.{name}` - {', '.join(f'{v:g}' for v in twice)} given twice")
        axis = values.values() if isinstance(values, LinearRange) else [float(x) for x in values]
        if rule == ENGINE:
            _check_setting(name, param, where)
            continue
        if name.startswith(SECTION + "."):
            _check_section(name, where)
            _check_values(name, axis, where)
            continue
        if rule == QUALITY:
            if param not in QUALITY_SETTINGS and param not in MISSING_SETTINGS:
                valid = ", ".join(QUALITY_SETTINGS) + ", missing.<kind> (" + ", ".join(APPROVAL_KINDS) + ")"
                raise GridError(
                    f"{where}: `$.params.{name}` - not a sweepable impairment (sweepable: {valid})"
                )
            continue
        try:
            cls = rule_class(rule)
        except KeyError as exc:
            raise GridError(f"{where}: `$.params.{name}` - {exc.args[0]}") from None
        if param not in cls.param_names():
            valid = ", ".join(cls.param_names()) or "none"
            raise GridError(
                f"{where}: `$.params.{name}` - rule {rule!r} has no parameter {param!r} ({valid})"
            )
        _check_values(name, axis, where)
    for i, rule in enumerate(grid.rules_scored):
        try:
            rule_class(rule)
        except KeyError as exc:
            raise GridError(f"{where}: `$.rules[{i}]` - {exc.args[0]}") from None
    for rule, target in grid.score.items():
        if target.early not in ("bounded", "unbounded"):
            raise GridError(f"{where}: `$.score.{rule}.early` - must be 'bounded' or 'unbounded'")
    g = grid.goal
    given = [
        x for x in (g.min_precision, g.max_alerts_per_day, g.max_data_false_alarms_per_1000) if x is not None
    ]
    if len(given) != 1:
        raise GridError(
            f"{where}: `$.goal` - give exactly one of min_precision, max_alerts_per_day, "
            "max_data_false_alarms_per_1000"
        )
    return grid


def decode_grid(data: bytes | str, *, where: str = "grid") -> Grid:
    if problems := yaml_problems(data):
        raise GridError("\n".join(f"{where}: `{path}` - {reason}" for path, reason in problems))
    try:
        grid = msgspec.yaml.decode(data, type=Grid)
    except msgspec.ValidationError as exc:
        reason, _, path = str(exc).rpartition(" - at `")
        raise GridError(
            f"{where}: `{path.rstrip('`')}` - {type_hint(reason)}" if reason else f"{where}: `$` - {exc}"
        ) from None
    except msgspec.DecodeError as exc:
        raise GridError(f"{where}: `$` - malformed YAML ({exc})") from None
    return _check(grid, where)


def load_grid(path: str | Path) -> Grid:
    path = Path(path)
    return decode_grid(path.read_bytes(), where=str(path))
