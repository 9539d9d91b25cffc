"""The rulebook: every threshold of the engine, in one YAML file decoded into typed Structs.

Why a typed schema rather than a dict: rule designers sweep thresholds, and a typo
(``warning_lead_day``) that silently falls back to a default would make a whole sweep
meaningless. Decoding uses msgspec with ``forbid_unknown_fields`` and ``Meta``
constraints, so a bad file fails before anything runs, with the file and the JSON path of
the bad field: ``rb.yaml: `$.rules.deadline.warning_lead_days` - Expected `float`...``.

Rule parameters live in *sections* (``rules.deadline``, ``rules.backdating``...). A rule
class names its section, and each of its keyword-only ``__init__`` parameters is a field
of that section with the same name, so building the configured rules is mechanical
(:func:`engine.rules.build_rules`). The defaults below equal the shipped
``scenarios/rulebooks/default.yaml``; its comments say where each value comes from.
"""

from __future__ import annotations

import re
from datetime import date, time
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from engine.contract.calendar import WorkingCalendar
from engine.contract.holidays import CalendarOverride, HolidayError
from engine.rules.base import Rule
from engine.rules.registry import LOGIC_RULE_NAMES, REGISTRY, RULE_NAMES
from engine.runtime.cases import LEGAL_SUSPENSION_REASONS

__all__ = [
    "LEGAL_SUSPENSION_REASONS",
    "BackdatingSection",
    "CalendarSection",
    "CollusionSection",
    "DeadlineSection",
    "DepartmentRepeatSection",
    "DisciplineSection",
    "FeeSection",
    "Rulebook",
    "RulebookError",
    "RulesSection",
    "SamePersonSection",
    "ScoringSection",
    "StepSection",
    "build_rules",
    "decode_rulebook",
    "load_rulebook",
    "rulebook_json_schema",
]

Days = Annotated[float, Meta(ge=0)]
ClockTime = Annotated[str, Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")]
Fraction = Annotated[float, Meta(ge=0, le=1)]


class RulebookError(ValueError):
    """A rulebook that cannot be used; the message names the file and the field."""


class _Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class CalendarSection(_Section, frozen=True):
    """Working periods, holiday files and local corrections to the shipped arrangements.

    ``holidays`` names holiday files or directories (relative to the rulebook file) that add
    or replace years of the shipped arrangements (:mod:`engine.contract.holidays`);
    ``beyond_range: weekdays`` counts years outside the covered range as plain Monday-Friday
    weeks instead of stopping (and every output then says so).
    """

    periods: Annotated[tuple[tuple[ClockTime, ClockTime], ...], Meta(min_length=1)] = (
        ("09:00", "12:00"),
        ("13:30", "17:30"),
    )
    holidays: tuple[Annotated[str, Meta(min_length=1)], ...] = ()
    beyond_range: Literal["error", "weekdays"] = "error"
    extra_holidays: tuple[date, ...] = ()
    extra_workdays: tuple[date, ...] = ()

    def period_times(self) -> tuple[tuple[time, time], ...]:
        return tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in self.periods)


class DeadlineSection(_Section, frozen=True):
    warning_lead_days: Days = 1.0
    severe_overdue_days: Days = 5.0
    instant_limit_days: Annotated[float, Meta(gt=0)] = 1.0
    legal_suspension_reasons: tuple[str, ...] = LEGAL_SUSPENSION_REASONS


class StepSection(_Section, frozen=True):
    grace_days: Days = 0.0


class DepartmentRepeatSection(_Section, frozen=True):
    k: Annotated[int, Meta(ge=1)] = 3
    window_days: Annotated[float, Meta(gt=0)] = 20.0


class BackdatingSection(_Section, frozen=True):
    tolerance_minutes: Annotated[float, Meta(ge=0)] = 30.0


class FeeSection(_Section, frozen=True):
    epsilon: Annotated[float, Meta(ge=0)] = 0.005


class SamePersonSection(_Section, frozen=True):
    promised_only: bool = True


class CollusionSection(_Section, frozen=True):
    """Thresholds of the collusion rules (sources in ``scenarios/rulebooks/default.yaml``)."""

    min_bids: Annotated[int, Meta(ge=3)] = 4
    cv_threshold: Annotated[float, Meta(gt=0)] = 0.05
    spd_threshold: Annotated[float, Meta(gt=0)] = 0.13
    rd_threshold: Annotated[float, Meta(gt=0)] = 1.0
    score_threshold: Fraction = 0.65
    min_rd: Annotated[float, Meta(ge=0)] = 1.25
    pattern_tolerance: Annotated[float, Meta(ge=0, le=0.5)] = 0.01
    pattern_min_bids: Annotated[int, Meta(ge=3)] = 4
    expert_deviation: Annotated[float, Meta(gt=0)] = 0.30
    favour_margin: Annotated[float, Meta(ge=0)] = 0.10
    pairing_min: Annotated[int, Meta(ge=2)] = 3
    agent_close_gap: Annotated[float, Meta(ge=0)] = 0.005
    debar_days: Annotated[float, Meta(ge=0)] = 365.0
    expert_card_after: Annotated[int, Meta(ge=1)] = 2
    ring_min_shared: Annotated[int, Meta(ge=1)] = 3
    ring_min_ratio: Fraction = 0.5


class DisciplineSection(_Section, frozen=True):
    """Hall discipline on camera streams (sources in ``scenarios/rulebooks/default.yaml``)."""

    absence_minutes: Annotated[float, Meta(gt=0)] = 15.0
    min_confidence: Fraction = 0.6
    leave_debounce_s: Annotated[float, Meta(ge=0)] = 30.0
    return_debounce_s: Annotated[float, Meta(ge=0)] = 30.0
    heartbeat_grace_s: Annotated[float, Meta(gt=0)] = 150.0
    offline_minutes: Annotated[float, Meta(gt=0)] = 5.0
    queue_threshold: Annotated[int, Meta(ge=1)] = 3
    queue_hysteresis: Annotated[int, Meta(ge=0)] = 0
    queue_window: Annotated[int, Meta(ge=1)] = 3
    queue_off_seconds: Annotated[float, Meta(ge=0)] = 30.0
    empty_minutes: Annotated[float, Meta(gt=0)] = 5.0
    capacity_wait_minutes: Annotated[float, Meta(gt=0)] = 20.0
    capacity_clear_minutes: Annotated[float, Meta(ge=0)] = 5.0
    late_tolerance_minutes: Annotated[float, Meta(ge=0)] = 5.0
    early_tolerance_minutes: Annotated[float, Meta(ge=0)] = 5.0
    dispute_min_alerts: Annotated[int, Meta(ge=1)] = 2
    dispute_window_minutes: Annotated[float, Meta(gt=0)] = 3.0
    dispute_min_confidence: Fraction = 0.6
    dispute_cooldown_minutes: Annotated[float, Meta(ge=0)] = 10.0
    blue_after: Annotated[int, Meta(ge=1)] = 1
    yellow_after: Annotated[int, Meta(ge=1)] = 2
    red_after: Annotated[int, Meta(ge=1)] = 3


class RulesSection(_Section, frozen=True):
    enabled: tuple[str, ...] = RULE_NAMES
    deadline: DeadlineSection = DeadlineSection()
    step: StepSection = StepSection()
    department_repeat: DepartmentRepeatSection = DepartmentRepeatSection()
    backdating: BackdatingSection = BackdatingSection()
    fee: FeeSection = FeeSection()
    same_person: SamePersonSection = SamePersonSection()
    collusion: CollusionSection = CollusionSection()
    discipline: DisciplineSection = DisciplineSection()


class ScoringSection(_Section, frozen=True):
    """Deductions after the county rule 累积分 = 基本分 + 奖励分 − 倒扣分 (no floor)."""

    base: float = 100.0
    below_standard: Annotated[float, Meta(ge=0)] = 1.0
    late: Annotated[float, Meta(ge=0)] = 1.0
    both: Annotated[float, Meta(ge=0)] = 2.0
    red_card: Annotated[float, Meta(ge=0)] = 3.0
    below_standard_rules: tuple[str, ...] = LOGIC_RULE_NAMES
    late_rules: tuple[str, ...] = ("deadline.overdue",)
    #: Points deducted per discipline alert, from the staff member and their department.
    discipline_deductions: dict[str, Annotated[float, Meta(ge=0)]] = msgspec.field(
        default_factory=lambda: {
            "discipline.absence": 3.0,
            "discipline.early_departure": 1.0,
            "discipline.late_arrival": 1.0,
        }
    )
    class_one_fraction: Fraction = 0.2
    class_two_fraction: Fraction = 0.6


class Rulebook(_Section, frozen=True):
    """All engine settings. Durations are in seconds, limits in working days."""

    allowed_lateness: Annotated[int, Meta(ge=0)] = 600
    max_future: Annotated[int, Meta(ge=0)] = 3600
    calendar: CalendarSection = CalendarSection()
    rules: RulesSection = RulesSection()
    scoring: ScoringSection = ScoringSection()

    @classmethod
    def default(cls) -> Rulebook:
        """The shipped defaults (equal to ``scenarios/rulebooks/default.yaml``)."""
        return cls()

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
    return f"{where}: `{m['path']}` - {m['msg']}"


def _validate(rb: Rulebook, where: str) -> Rulebook:
    known = set(RULE_NAMES)
    seen: set[str] = set()
    for i, name in enumerate(rb.rules.enabled):
        if name not in known:
            raise RulebookError(
                f"{where}: `$.rules.enabled[{i}]` - unknown rule {name!r} (known: {', '.join(RULE_NAMES)})"
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
    s = rb.scoring
    if s.class_one_fraction + s.class_two_fraction > 1.0 + 1e-9:
        raise RulebookError(
            f"{where}: `$.scoring.class_two_fraction` - class one and two fractions add up to more than 1"
        )
    return rb


def decode_rulebook(data: bytes | str, *, where: str = "rulebook") -> Rulebook:
    """Decode YAML text; errors name ``where`` and the JSON path of the bad field."""
    try:
        rb = msgspec.yaml.decode(data, type=Rulebook)
    except msgspec.ValidationError as exc:
        raise RulebookError(_format(where, exc)) from None
    except msgspec.DecodeError as exc:
        raise RulebookError(f"{where}: `$` - malformed YAML ({exc})") from None
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
    return msgspec.json.schema(Rulebook)


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
