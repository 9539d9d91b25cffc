"""The rulebook: every threshold of the engine, in one YAML file decoded into typed Structs.

Why a typed schema rather than a dict: rule designers sweep thresholds, and a typo
(``warning_lead_day``) that silently falls back to a default would make a whole sweep
meaningless. Decoding uses msgspec with ``forbid_unknown_fields`` and ``Meta``
constraints, so a bad file fails before anything runs, with the file and the JSON path of
the bad field: ``rb.yaml: `$.rules.deadline.warning_lead_days` - Expected `float`...``.

Rule parameters live in *sections* (``rules.deadline``, ``rules.backdating``...). A rule
class names its section, and each of its keyword-only ``__init__`` parameters is a field
of that section with the same name, type, bounds, default and description: the sections are
*derived* from the registered rules' signatures (:func:`rulebook_type`), so a rule's file is
the one place its thresholds are written, and building the configured rules is mechanical
(:func:`build_rules`). The settings that belong to no rule (event time, calendar, scoring)
are declared in :mod:`engine.rules.settings`. ``scenarios/rulebooks/default.yaml`` is
generated from all of these (:mod:`engine.rules.defaults`); a test keeps it equal.
"""

from __future__ import annotations

import inspect
import itertools
import re
from pathlib import Path
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from engine.contract.calendar import WorkingCalendar
from engine.contract.holidays import CalendarOverride, HolidayError
from engine.contract.yaml_checks import date_problem, type_hint, yaml_problems
from engine.rules.base import Rule, param_specs
from engine.rules.registry import REGISTRY, registry_version
from engine.rules.settings import CalendarSection, ScoringSection, Section, SourcesSection
from engine.runtime.cases import LEGAL_SUSPENSION_REASONS

__all__ = [
    "LEGAL_SUSPENSION_REASONS",
    "Rulebook",
    "RulebookError",
    "build_rules",
    "decode_rulebook",
    "load_rulebook",
    "opt_in_sections",
    "rulebook_json_schema",
    "rulebook_type",
    "section_type",
    "validate_rulebook",
]


class RulebookError(ValueError):
    """A rulebook that cannot be used; the message names the file and the field."""


class Rulebook(Section, frozen=True):
    """All engine settings. Durations are in seconds, limits in working days."""

    allowed_lateness: Annotated[
        int,
        Meta(
            ge=0,
            description="Out-of-order tolerance of event time, seconds. Sources batch and retry; 10 minutes "
            "covers the upload intervals of hall terminals without delaying deadline alerts noticeably.",
        ),
    ] = 600
    max_future: Annotated[
        int,
        Meta(
            ge=0,
            description="An event stamped more than an hour ahead of the stream (or of the reference clock) "
            "is treated as a clock fault and set aside, so one bad timestamp cannot make every later event "
            "look late.",
        ),
    ] = 3600
    sources: SourcesSection = SourcesSection()
    calendar: CalendarSection = CalendarSection()
    #: ``enabled`` and one section per rule section, derived from the registered rules
    #: (:func:`rulebook_type`); typed loosely here because the rules are known only at run time.
    rules: Any = None
    scoring: ScoringSection = ScoringSection()

    @classmethod
    def default(cls) -> Rulebook:
        """The shipped defaults (equal to ``scenarios/rulebooks/default.yaml``)."""
        return rulebook_type()()

    def __reduce__(self) -> tuple[Any, ...]:
        # The derived type is rebuilt in the receiving process (worker pools pickle rulebooks).
        return (_rebuild, (msgspec.msgpack.encode(self),))

    def build_calendar(self, override: CalendarOverride | None = None) -> WorkingCalendar:
        """The China working calendar with this rulebook's periods, holiday files and corrections.

        ``override`` (the command line's ``--holidays`` / ``--beyond-range``) adds files after
        the rulebook's and replaces its ``beyond_range`` when given.
        """
        cal = self.calendar
        files = (*cal.holidays, *(override.holidays if override else ()))
        beyond = (override.beyond_range if override else None) or cal.beyond_range
        try:
            return WorkingCalendar.china(
                periods=cal.period_times(),
                extra_holidays=cal.extra_holidays,
                extra_workdays=cal.extra_workdays,
                holiday_files=files,
                beyond_range=beyond,
            )
        except HolidayError:
            raise  # names the holiday file and line itself
        except ValueError as exc:
            raise RulebookError(f"rulebook: `$.calendar` - {exc}") from None

    def with_enabled(self, *names: str) -> Rulebook:
        """A copy with only ``names`` enabled (handy for sweeps and tests)."""
        return msgspec.structs.replace(self, rules=msgspec.structs.replace(self.rules, enabled=names))


_AT = re.compile(r"^(?P<msg>.*) - at `(?P<path>[^`]*)`$", re.S)


def _format(where: str, exc: msgspec.ValidationError) -> str:
    m = _AT.match(str(exc))
    if m is None:
        return f"{where}: `$` - {exc}"
    return f"{where}: `{m['path']}` - {type_hint(m['msg'])}"


def _camel(section: str) -> str:
    return "".join(part.capitalize() for part in section.split("_")) + "Section"


_DERIVED: dict[int, tuple[type[Rulebook], dict[str, type[msgspec.Struct]]]] = {}


def _derive() -> tuple[type[Rulebook], dict[str, type[msgspec.Struct]]]:
    """Section Structs from the registered rules' signatures, and the rulebook type holding them."""
    version = registry_version()
    hit = _DERIVED.get(version)
    if hit is not None:
        return hit
    fields: dict[str, dict[str, tuple[Any, Any, str]]] = {}
    for name, cls in REGISTRY.items():
        specs = param_specs(cls)
        if cls.section is None:
            if specs:
                raise TypeError(f"rule {name!r} has parameters but no rulebook section")
            continue
        section = fields.setdefault(cls.section, {})
        for p in specs:
            if p.default is inspect.Parameter.empty:
                raise TypeError(f"rule {name!r}: parameter {p.name!r} needs a default")
            prev = section.get(p.name)
            if prev is None:
                section[p.name] = (p.annotation, p.default, name)
            elif (prev[0], prev[1]) != (p.annotation, p.default):
                raise TypeError(
                    f"`rules.{cls.section}.{p.name}` is declared differently by {prev[2]!r} and {name!r}"
                )
    sections = {
        s: msgspec.defstruct(
            _camel(s),
            [(n, ann, default) for n, (ann, default, _) in f.items()],
            bases=(Section,),
            frozen=True,
            kw_only=True,
            forbid_unknown_fields=True,
            module=__name__,
        )
        for s, f in fields.items()
    }
    rules = msgspec.defstruct(
        "RulesSection",
        [
            ("enabled", tuple[str, ...], tuple(n for n, c in REGISTRY.items() if c.enabled_by_default)),
            *((s, t, msgspec.field(default_factory=t)) for s, t in sections.items()),
        ],
        bases=(Section,),
        frozen=True,
        kw_only=True,
        forbid_unknown_fields=True,
        module=__name__,
    )
    book = msgspec.defstruct(
        "Rulebook",
        [("rules", rules, msgspec.field(default_factory=rules))],
        bases=(Rulebook,),
        frozen=True,
        kw_only=True,
        forbid_unknown_fields=True,
        module=__name__,
    )
    _DERIVED.clear()
    _DERIVED[version] = (book, sections)  # type: ignore[assignment]
    return _DERIVED[version]


def rulebook_type() -> type[Rulebook]:
    """The rulebook Struct with one section per rule section of the registered rules."""
    return _derive()[0]


def opt_in_sections() -> frozenset[str]:
    """Rule sections used only by opt-in rules (``enabled_by_default = False``).

    The generated default rulebook leaves them out, so adding an opt-in rule changes neither
    the shipped file nor any run made with it.
    """
    used: dict[str, bool] = {}
    for cls in REGISTRY.values():
        if cls.section is not None:
            used[cls.section] = used.get(cls.section, False) or cls.enabled_by_default
    return frozenset(s for s, by_default in used.items() if not by_default)


def section_type(section: str) -> type[msgspec.Struct]:
    """The Struct of one rule section (``"deadline"``, ``"discipline"``...)."""
    try:
        return _derive()[1][section]
    except KeyError:
        raise KeyError(f"no rule uses the rulebook section {section!r}") from None


def _rebuild(data: bytes) -> Rulebook:
    return msgspec.msgpack.decode(data, type=rulebook_type())


def validate_rulebook(rb: Rulebook, where: str) -> Rulebook:
    """Check a rulebook built in code (a sweep's variant) as a rulebook file is checked."""
    return _validate(rb, where)


def _validate(rb: Rulebook, where: str) -> Rulebook:
    known = set(REGISTRY)
    seen: set[str] = set()
    for i, name in enumerate(rb.rules.enabled):
        if name not in known:
            raise RulebookError(
                f"{where}: `$.rules.enabled[{i}]` - unknown rule {name!r} (known: {', '.join(REGISTRY)})"
            )
        if name in seen:
            raise RulebookError(f"{where}: `$.rules.enabled[{i}]` - rule {name!r} listed twice")
        seen.add(name)
    for name in rb.scoring.discipline_deductions:
        if name not in known:
            raise RulebookError(f"{where}: `$.scoring.discipline_deductions` - unknown rule {name!r}")
    for field in ("below_standard_rules", "late_rules"):
        for i, name in enumerate(getattr(rb.scoring, field)):
            if name not in known:
                raise RulebookError(f"{where}: `$.scoring.{field}[{i}]` - unknown rule {name!r}")
    src = rb.sources
    if src.watermark == "shared":
        if src.lateness:
            raise RulebookError(f"{where}: `$.sources.lateness` - needs `sources.watermark: per_source`")
        for name in ("idle_after", "expected", "end_of_stream"):
            if getattr(src, name) != getattr(SourcesSection(), name):
                raise RulebookError(f"{where}: `$.sources.{name}` - needs `sources.watermark: per_source`")
    for i, name in enumerate(src.expected):
        if any(c in name for c in "*?["):
            raise RulebookError(
                f"{where}: `$.sources.expected[{i}]` - {name!r}: a source name, not a pattern"
            )
    _check_periods(rb.calendar.periods, where)
    s = rb.scoring
    if s.class_one_fraction + s.class_two_fraction > 1.0 + 1e-9:
        raise RulebookError(
            f"{where}: `$.scoring.class_two_fraction` - class one and two fractions add up to more than 1"
        )
    return rb


def _check_periods(periods: tuple[tuple[str, str], ...], where: str) -> None:
    """Each working period ends after it starts and none overlaps another (named by index)."""
    for i, (a, b) in enumerate(periods):
        if b <= a:  # zero-padded HH:MM compares as text
            raise RulebookError(f"{where}: `$.calendar.periods[{i}]` - {a}-{b} does not end after it starts")
    order = sorted(range(len(periods)), key=lambda k: periods[k])
    for prev, k in itertools.pairwise(order):
        if periods[k][0] < periods[prev][1]:
            raise RulebookError(
                f"{where}: `$.calendar.periods[{k}]` - {periods[k][0]}-{periods[k][1]} overlaps "
                f"{periods[prev][0]}-{periods[prev][1]} (periods[{prev}])"
            )


def decode_rulebook(data: bytes | str, *, where: str = "rulebook") -> Rulebook:
    """Decode YAML text; errors name ``where`` and the JSON path of the bad field."""
    if problems := yaml_problems(data):
        raise RulebookError("\n".join(f"{where}: `{path}` - {reason}" for path, reason in problems))
    try:
        rb = msgspec.yaml.decode(data, type=rulebook_type())
    except msgspec.ValidationError as exc:
        raise RulebookError(_format(where, exc)) from None
    except msgspec.DecodeError as exc:
        path, reason = date_problem(data) or ("$", f"malformed YAML ({exc})")
        raise RulebookError(f"{where}: `{path}` - {reason}") from None
    return _validate(rb, where)


def load_rulebook(path: str | Path) -> Rulebook:
    """Read and validate a rulebook file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RulebookError(f"{path}: `$` - cannot read ({exc.strerror})") from None
    rb = decode_rulebook(data, where=str(path))
    if rb.calendar.holidays:  # holiday files are named relative to the rulebook file
        files = tuple(p if Path(p).is_absolute() else str(path.parent / p) for p in rb.calendar.holidays)
        rb = msgspec.structs.replace(rb, calendar=msgspec.structs.replace(rb.calendar, holidays=files))
    return rb


def rulebook_json_schema() -> dict[str, object]:
    """JSON Schema of the rulebook, generated from the Structs (for editors)."""
    return msgspec.json.schema(rulebook_type())


def build_rules(rulebook: Rulebook) -> list[Rule]:
    """Unbound rule instances for ``rulebook.rules.enabled``, in registry order."""
    enabled = set(rulebook.rules.enabled)
    rules: list[Rule] = []
    for name, cls in REGISTRY.items():
        if name not in enabled:
            continue
        params = {}
        if cls.section is not None:
            section = getattr(rulebook.rules, cls.section)
            params = {p: getattr(section, p) for p in cls.param_names()}
        rules.append(cls(**params))
    return rules
