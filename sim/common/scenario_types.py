"""The scenario schema: typed, constrained msgspec Structs decoded straight from YAML.

Why Structs and not free-form dicts: a scenario fully determines a run, so a typo must fail
before anything runs, with the path of the bad field. ``forbid_unknown_fields`` catches
misspelt keys, ``Annotated[..., Meta(...)]`` catches out-of-range values, and the cross-field
checks in :mod:`sim.common.scenario` catch what a single field cannot express (references,
duplicates, sums). The same Structs generate the JSON Schema that editors use.

Conventions: durations in *working* days are counted on the scenario's calendar
(``calendar.periods`` make one working day); minutes and hours of service are working time
too. Probabilities are per *eligible* case (see :class:`Misconduct`).
"""

from __future__ import annotations

import math
from datetime import date, time
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from engine.contract.event_base import MAX_YUAN

__all__ = [
    "DECIDE_POST",
    "LEGAL_SUSPENSION_REASONS",
    "Arrivals",
    "BetaDist",
    "CalendarSpec",
    "Department",
    "Hall",
    "Injection",
    "ItemDef",
    "ItemMix",
    "LogNormal",
    "Lookalikes",
    "Misconduct",
    "Range",
    "Service",
    "ServiceTime",
    "StepDef",
    "TruthSpec",
    "parse_period",
]

#: The post whose staff are the authorised approvers of a department's promised items.
DECIDE_POST = "decide"

#: Suspension reasons that legally stop the clock (行政许可法 Art. 45 and 补正); anything else does not.
LEGAL_SUSPENSION_REASONS: frozenset[str] = frozenset(
    {"supplement", "expert_review", "hearing", "inspection", "testing", "appraisal", "superior_authority"}
)

Ident = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Prob = Annotated[float, Meta(ge=0, le=1)]
NonNeg = Annotated[float, Meta(ge=0)]
Positive = Annotated[float, Meta(gt=0)]
Period = Annotated[str, Meta(pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")]
HolidayFile = Annotated[str, Meta(min_length=1, max_length=1000)]


def parse_period(text: str) -> tuple[time, time]:
    """``"09:00-12:00"`` as a pair of times; raises ``ValueError`` on a bad or empty period."""
    left, right = text.split("-")
    begin, end = time.fromisoformat(left), time.fromisoformat(right)
    if begin >= end:
        raise ValueError(f"period {text!r} ends before it starts")
    return begin, end


class _Spec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every scenario Struct: immutable, keyword-only, unknown keys rejected."""


class Range(_Spec, frozen=True):
    """A closed interval ``[min, max]``; values are drawn uniformly from it."""

    min: NonNeg
    max: NonNeg

    def __post_init__(self) -> None:
        if self.min > self.max:
            raise ValueError(f"`min` ({self.min}) must not exceed `max` ({self.max})")


class LogNormal(_Spec, frozen=True):
    """A lognormal given by its median and the sigma of its logarithm (service times are skewed)."""

    median: Positive
    sigma: Annotated[float, Meta(ge=0, le=3)] = 0.5


#: What each service-time distribution requires, and what else it accepts.
_SERVICE_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "lognormal": (frozenset({"median"}), frozenset({"sigma"})),
    "exponential": (frozenset({"mean"}), frozenset()),
    "gamma": (frozenset({"mean", "shape"}), frozenset()),
    "empirical": (frozenset({"values"}), frozenset()),
}


class ServiceTime(_Spec, frozen=True):
    """How long one piece of work takes (in the unit its field names), as a distribution.

    * ``lognormal`` (the default, and every shipped scenario's): ``median`` and ``sigma`` of the
      logarithm (default 0.5). Service times in halls are skewed to the right.
    * ``exponential``: ``mean``. The M/M/c assumption: a scenario with exponential windows can
      be checked against Erlang C (docs/planning.md).
    * ``gamma``: ``mean`` and ``shape``. An integer shape *k* is the Erlang-*k* phase-type
      distribution (*k* exponential phases in series, coefficient of variation 1/√k); shape 1
      is the exponential.
    * ``empirical``: ``values``, observed durations resampled with replacement (a hall's own
      records, when no parametric form is defensible).

    A field that the chosen distribution does not take is an error, not ignored: a planner who
    writes ``mean`` under a lognormal would otherwise simulate something else than they think.
    """

    dist: Literal["lognormal", "exponential", "gamma", "empirical"] = "lognormal"
    median: Positive | None = None
    sigma: Annotated[float, Meta(ge=0, le=3)] | None = None
    mean: Positive | None = None
    shape: Annotated[float, Meta(gt=0, le=1000)] | None = None
    values: Annotated[list[NonNeg], Meta(min_length=1, max_length=1_000_000)] | None = None

    def __post_init__(self) -> None:
        required, optional = _SERVICE_FIELDS[self.dist]
        for name in ("median", "sigma", "mean", "shape", "values"):
            given = getattr(self, name) is not None
            if not given and name in required:
                raise ValueError(f"`{name}` is required for dist `{self.dist}`")
            if given and name not in required | optional:
                takes = ", ".join(f"`{f}`" for f in sorted(required | optional))
                raise ValueError(f"`{name}` does not apply to dist `{self.dist}` (it takes {takes})")
        if self.values is not None and not any(v > 0 for v in self.values):
            raise ValueError("`values` must hold at least one positive duration")

    @property
    def expected(self) -> float:
        """The distribution's mean (for planners' tables and the M/M/c check)."""
        if self.dist == "lognormal":
            assert self.median is not None
            s = 0.5 if self.sigma is None else self.sigma
            return self.median * math.exp(s * s / 2)
        if self.dist == "empirical":
            assert self.values is not None
            return sum(self.values) / len(self.values)
        assert self.mean is not None
        return self.mean


class BetaDist(_Spec, frozen=True):
    """A Beta(a, b) fraction in (0, 1)."""

    a: Positive
    b: Positive


class CalendarSpec(_Spec, frozen=True):
    """Working periods of a day and the holiday arrangements the limits are counted on.

    ``holidays``: ``china`` (the shipped yearly arrangements), ``none`` (plain Monday-Friday
    weeks), or a list of holiday files and directories, relative to the scenario file, added
    to the shipped years (see :mod:`engine.contract.holidays`). ``beyond_range``: ``error``
    (an instant outside the covered years stops the run) or ``weekdays`` (such years count as
    plain Monday-Friday weeks, and the run's outputs say so).
    """

    periods: Annotated[list[Period], Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["09:00-12:00", "13:30-17:30"]
    )
    holidays: Literal["china", "none"] | Annotated[list[HolidayFile], Meta(min_length=1)] = "china"
    beyond_range: Literal["error", "weekdays"] = "error"
    extra_holidays: list[date] = []
    extra_workdays: list[date] = []


class Department(_Spec, frozen=True):
    """A department with windows in the hall and back-office posts.

    ``posts`` maps post name to staff count; its order is the order of the generated
    workflows. The ``decide`` post's staff are the approvers; ``leaders`` are also authorised
    to decide but do so only when a case is reassigned to them.
    """

    id: Ident
    name: Name
    windows: Annotated[int, Meta(ge=1, le=200)]
    posts: dict[Ident, Annotated[int, Meta(ge=1, le=100)]] = msgspec.field(
        default_factory=lambda: {"review": 1, DECIDE_POST: 1}
    )
    leaders: Annotated[int, Meta(ge=0, le=20)] = 1


class StepDef(_Spec, frozen=True):
    """One back-office step of an explicit item."""

    name: Ident
    post: Ident
    limit_days: Positive


class ItemDef(_Spec, frozen=True):
    """An explicit catalogue item. ``promised_days == 0`` makes it an instant item (no steps)."""

    id: Ident
    name: Name
    department: Ident
    promised_days: Annotated[int, Meta(ge=0, le=365)]
    fee_standard: Annotated[float, Meta(ge=0, le=MAX_YUAN)] = 0.0  # the event contract's bound
    steps: list[StepDef] = []
    issues_certificate: bool = False
    popularity: Positive = 1.0


class ItemMix(_Spec, frozen=True):
    """A generator of catalogue items for halls too large to list item by item.

    ``counts`` gives the number of items per department. Promised items get one step per
    non-decide post of their department, whose limits share ``step_budget`` of the promised
    days in proportion to ``step_weights`` (default: equal). Popularity is lognormal.
    """

    counts: dict[Ident, Annotated[int, Meta(ge=0, le=1000)]]
    promised_days: dict[Annotated[int, Meta(ge=1, le=365)], Positive] = msgspec.field(
        default_factory=lambda: {5: 0.3, 10: 0.4, 20: 0.3}
    )
    instant_share: Prob = 0.2
    free_share: Prob = 0.7
    fee_range: Range = Range(min=10, max=200)
    certificate_share: Prob = 0.6
    step_budget: Annotated[float, Meta(gt=0, le=1)] = 0.6
    step_weights: dict[Ident, Positive] = {}
    popularity_sigma: Annotated[float, Meta(ge=0, le=3)] = 1.0


class Hall(_Spec, frozen=True):
    """One service hall: its departments and its item catalogue (explicit and/or generated)."""

    id: Ident
    name: Name
    departments: Annotated[list[Department], Meta(min_length=1)]
    items: list[ItemDef] = []
    item_mix: ItemMix | None = None
    cases_per_day: Positive | None = None


class Arrivals(_Spec, frozen=True):
    """Demand: Poisson per working hour on working days, shaped by ``hourly_profile``.

    ``cases_per_day`` is the mean per hall per working day (a hall may override it).
    ``hourly_profile`` has one weight per working hour of the day (7 for the default
    periods); omitted means flat.
    """

    cases_per_day: Positive
    hourly_profile: list[NonNeg] | None = None
    online_share: Prob = 0.3


class Service(_Spec, frozen=True):
    """How long work takes (all working time) and how often the clock is legally suspended.

    ``acceptance_minutes`` holds a window per case (plus ``instant_minutes`` for an instant
    case, decided on the spot); ``online_intake_hours`` passes before an online application
    reaches a window. A back-office step lasts ``step_fraction`` of its limit, of which only
    ``handling_minutes`` hold a member of the post; ``overrun_rate`` of steps instead run
    ``overrun_days`` past their limit. ``decision_hours`` pass between the last step and the
    decision, which holds an approver for ``decision_minutes``. Each duration is a
    :class:`ServiceTime`: lognormal unless the scenario names another distribution.
    """

    acceptance_minutes: ServiceTime = ServiceTime(median=12, sigma=0.5)
    instant_minutes: ServiceTime = ServiceTime(median=6, sigma=0.5)
    online_intake_hours: ServiceTime = ServiceTime(median=2, sigma=0.8)
    step_fraction: BetaDist = BetaDist(a=2, b=5)
    handling_minutes: ServiceTime = ServiceTime(median=20, sigma=0.6)
    decision_hours: ServiceTime = ServiceTime(median=3, sigma=0.8)
    decision_minutes: ServiceTime = ServiceTime(median=5, sigma=0.5)
    approve_rate: Prob = 0.97
    suspension_rate: Prob = 0.03
    suspension_days: Range = Range(min=1, max=5)
    overrun_rate: Prob = 0.0
    overrun_days: Range = Range(min=0.2, max=2)


class Misconduct(_Spec, frozen=True):
    """Per-case probability of each injected violation, among the cases it can apply to.

    Eligibility: ``slow_walking``/``skipped_step`` need a promised item with a step,
    ``steps_out_of_order`` two steps, ``decision_before_acceptance`` an instant item,
    ``certificate_without_approval`` an item that issues a certificate,
    ``unauthorised_approval``/``same_person_accept_approve``/``illegal_suspension`` a promised
    item. The rest apply to any case. One categorical draw per case (with the look-alikes).
    """

    slow_walking: Prob = 0.0
    skipped_step: Prob = 0.0
    steps_out_of_order: Prob = 0.0
    decision_before_acceptance: Prob = 0.0
    certificate_without_approval: Prob = 0.0
    excess_fee: Prob = 0.0
    unauthorised_approval: Prob = 0.0
    same_person_accept_approve: Prob = 0.0
    backdated: Prob = 0.0
    illegal_suspension: Prob = 0.0


class Lookalikes(_Spec, frozen=True):
    """Per-case probability of each look-alike negative (``fee_on_fee_item`` needs a fee item,
    ``stated_time_within_tolerance`` applies to any case, the others need a promised item)."""

    legal_suspension: Prob = 0.0
    fee_on_fee_item: Prob = 0.0
    closed_just_before_deadline: Prob = 0.0
    authorised_reassignment: Prob = 0.0
    stated_time_within_tolerance: Prob = 0.0


class Injection(_Spec, frozen=True):
    """The shapes of injected violations and look-alikes.

    ``slow_walking_days``: how far one step runs past its limit. ``backdate_hours``: how many
    working hours a back-dated ``stated_at`` lies before the record; ``tolerance_minutes``: the
    harmless skew of the look-alike. An illegal suspension starts
    ``illegal_suspension_lead_days`` before the case's deadline (or at once if later) and
    lasts ``illegal_suspension_days`` without stopping the clock. ``closing_minutes``: how
    long before the deadline a just-in-time case closes (in working minutes).
    ``legal_suspension_days``: length of the look-alike legal suspensions (with notices).
    """

    slow_walking_days: Range = Range(min=1, max=12)
    excess_factor: Range = Range(min=1.2, max=2.5)
    free_item_fee: Range = Range(min=20, max=300)
    backdate_hours: Range = Range(min=2, max=48)
    tolerance_minutes: Range = Range(min=1, max=10)
    illegal_suspension_days: Range = Range(min=0.3, max=1.5)
    illegal_suspension_lead_days: Range = Range(min=0.2, max=0.9)
    legal_suspension_days: Range = Range(min=1, max=5)
    illegal_reasons: Annotated[list[Ident], Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["awaiting_leader", "internal_discussion", "pending_coordination"]
    )
    closing_minutes: Range = Range(min=2, max=55)


class TruthSpec(_Spec, frozen=True):
    """Clock thresholds the ground truth is computed with (keep them equal to the rulebook's)."""

    warning_lead_days: Annotated[float, Meta(ge=0)] = 1.0
    severe_overdue_days: Annotated[float, Meta(ge=0)] = 5.0
