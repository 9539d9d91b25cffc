"""Bidding-market scenario files: a county trading centre with firms, experts, agents and rings.

A market scenario has the same header as a hall scenario (``name``, ``seed``, ``start``,
``days``, ``timezone``, ``rulebook``) and a ``market:`` section instead of ``halls``. It is
decoded with msgspec (``forbid_unknown_fields``, ``Meta`` ranges) so that a bad file fails
with the path of the bad field before anything runs; :func:`is_market_file` lets the
pipeline tell the two kinds apart from the keys alone.

Defaults aim at the published Jiaozhou figures (``scenarios/targets/county_trading.yaml``:
competitive awards on average ~15 % below the control price, rarely beyond 24 %) while keeping
the bid dispersion of real competitive tenders: most construction tenders are awarded against
a benchmark price and abnormally low bids are rejected (:mod:`sim.market.award`), which is
what lets both hold (``docs/bidding.md`` has the measurements).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Meta

from engine.contract.calendar import WorkingCalendar
from engine.contract.holidays import CalendarOverride
from engine.contract.yaml_checks import date_problem, type_hint, yaml_problems
from sim.common.scenario import resolve_targets
from sim.common.scenario_calendar import (
    build_scenario_calendar,
    coverage_problems,
    resolve_holiday_paths,
    with_override,
)
from sim.common.scenario_types import CalendarSpec

__all__ = [
    "CATEGORIES",
    "STRATEGIES",
    "TRACE_FIELDS",
    "Camouflage",
    "Granularity",
    "LookalikeSpec",
    "MarketScenario",
    "MarketSpec",
    "RingSpec",
    "is_market_file",
    "load_market_scenario",
    "market_scenario_json_schema",
]

CATEGORIES = ("construction", "procurement", "land", "property")
Frac = Annotated[float, Meta(ge=0, le=1)]
Positive = Annotated[float, Meta(gt=0)]
Strategy = Literal["cover", "rotation", "surrounding", "pattern", "agent", "expert"]
TraceField = Literal[
    "ip",
    "mac",
    "cpu_serial",
    "disk_serial",
    "file_creation_id",
    "ca_serial",
    "dongle_serial",
    "author",
    "bond_account",
    "project_manager",
    "bid_agent",
    "marks",
]
#: The strategies and the trace fields a ring may leak (``ip`` is left to look-alikes and
#: careless machines), as tuples for iteration; the Literals above are the one list.
STRATEGIES: tuple[str, ...] = get_args(Strategy)
TRACE_FIELDS: tuple[str, ...] = get_args(TraceField)


class _Spec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class Camouflage(_Spec, frozen=True, kw_only=True):
    """How hard a ring works to look competitive.

    ``price_noise`` is the sigma (relative) of noise on cover bids: 0 leaves covers tightly
    above the winner, 0.07 mimics competitive dispersion. ``irregular`` jitters the steps of a
    patterned ring. ``separate_machines`` makes members bid from their own machines (no
    machine code, file id or IP shared)."""

    price_noise: Annotated[float, Meta(ge=0, le=0.5)] = 0.01
    irregular: bool = False
    separate_machines: bool = False


class RingSpec(_Spec, frozen=True, kw_only=True):
    """One ring of known membership and strategy.

    ``tenders`` is how many tenders of its ``categories`` the ring rigs over the run;
    ``shared_traces`` the trace fields its members may share (the leader's value), each
    leaked on a bid with probability ``carelessness``. ``pattern`` applies to the
    ``pattern`` strategy; ``outsiders`` is the probability that each honest firm that
    would have bid still bids in a rigged tender."""

    name: Annotated[str, Meta(min_length=1, max_length=64)]
    strategy: Strategy
    #: Firms in the ring (for ``agent`` and ``expert``: 1 favoured firm; for ``expert`` this
    #: is instead the number of bribed experts).
    members: Annotated[int, Meta(ge=1, le=20)] = 4
    tenders: Annotated[int, Meta(ge=1)] = 12
    categories: list[Literal["construction", "procurement", "land", "property"]] = msgspec.field(
        default_factory=lambda: ["construction", "procurement"]
    )
    shared_traces: list[TraceField] = []
    carelessness: Frac = 0.5
    pattern: Literal["arithmetic", "geometric"] = "arithmetic"
    outsiders: Frac = 0.3
    camouflage: Camouflage = Camouflage()


class LookalikeSpec(_Spec, frozen=True, kw_only=True):
    """Honest situations that resemble collusion and must not be flagged as it."""

    business_parks: Annotated[int, Meta(ge=0)] = 3
    firms_per_park: Annotated[int, Meta(ge=2)] = 4
    popular_vendor_share: Frac = 0.6
    consortiums: Annotated[int, Meta(ge=0)] = 4
    close_bids: Annotated[int, Meta(ge=0)] = 8
    #: Bid agencies (投标代理) in the county; one of them is popular (half their clients).
    bid_agencies: Annotated[int, Meta(ge=1)] = 5
    #: Share of firms that entrust their bids to an agency rather than handling them in-house.
    #: An agency serves one bidder per tender (serving two is Art. 40 (二)), so a client
    #: whose agency already serves a rival handles that bid itself.
    bid_agency_share: Frac = 0.4
    #: Share of honest procurement bids carrying a manufacturer's authorisation (another
    #: firm's name in the documents, legitimately: that firm does not bid in the tender).
    supplier_marks: Frac = 0.3


class Granularity(_Spec, frozen=True, kw_only=True):
    """How bidders write their prices down (:mod:`sim.market.granularity`).

    Real bids are not continuous: a bidder quotes to a unit that depends on the size of the
    job, some tenders take bids as a discount rate from the control price in fixed steps
    (下浮率), ascending sales take bids in fixed increments (加价幅度), and some bidders round
    to a "nice" number. Coarse units make ties and equally spaced bids common by chance alone.

    ``unit_fractions``: a tender's unit is the power of ten nearest to control price × one of
    these (drawn per tender; 3e6 × 1e-3 → 1,000 yuan). ``rate_share`` of construction and
    procurement tenders take bids as discount rates on a grid of one of ``rate_steps``.
    ``nice_share`` of honest bidders round to ``nice_factor`` × the unit. Ascending sales bid
    in increments of ``increment`` × the reserve (rounded to a power of ten). ``share``: the
    tenders quoted in coarse units at all; the rest are priced to the cent."""

    share: Frac = 1.0
    unit_fractions: Annotated[list[Annotated[float, Meta(gt=0, le=0.1)]], Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: [1e-4, 1e-3, 3e-3]
    )
    rate_share: Frac = 0.2
    rate_steps: Annotated[list[Annotated[float, Meta(gt=0, le=0.1)]], Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: [0.001, 0.005]
    )
    nice_share: Frac = 0.3
    nice_factor: Annotated[int, Meta(ge=2, le=100)] = 10
    increment: Annotated[float, Meta(gt=0, le=0.1)] = 0.01


class MarketSpec(_Spec, frozen=True, kw_only=True):
    """The trading centre: parties, tender flow and the competitive price model."""

    firms: Annotated[int, Meta(ge=6, le=5000)] = 80
    regions: Annotated[list[str], Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["城关镇", "东城区", "西城区", "南郊"]
    )
    experts: Annotated[int, Meta(ge=5)] = 60
    agents: Annotated[int, Meta(ge=1)] = 6
    tenders: Annotated[int, Meta(ge=1)] = 300
    category_mix: dict[Literal["construction", "procurement", "land", "property"], Positive] = msgspec.field(
        default_factory=lambda: {"construction": 0.55, "procurement": 0.30, "land": 0.08, "property": 0.07}
    )
    control_price_median: Positive = 3.0e6
    control_price_sigma: Annotated[float, Meta(ge=0, le=3)] = 0.9
    bidders_min: Annotated[int, Meta(ge=2)] = 5
    bidders_max: Annotated[int, Meta(ge=2)] = 12
    panel_size: Annotated[int, Meta(ge=3, le=15)] = 5
    #: Mean cost of the work relative to the control price, and its spread between tenders
    #: and between firms (relative sigmas). With the award rules below, competitive awards
    #: average ~15.7 % below the control price (see ``docs/bidding.md``).
    cost_ratio: Positive = 0.87
    tender_sigma: Annotated[float, Meta(ge=0, le=1)] = 0.035
    cost_sigma: Annotated[float, Meta(ge=0, le=1)] = 0.10
    #: Markup = markup_base + markup_scale / (competitors − 1): it shrinks with competition.
    markup_base: Annotated[float, Meta(ge=0, le=1)] = 0.02
    markup_scale: Annotated[float, Meta(ge=0, le=1)] = 0.10
    #: Share of honest bids from firms near capacity, who add a 4-15 % premium.
    busy_share: Frac = 0.25
    #: Share of construction tenders evaluated against a benchmark price (基准价, 合理低价法 /
    #: 综合评估法); the others by the lowest evaluated price. See :mod:`sim.market.award`.
    benchmark_share: Frac = 0.8
    #: The factor K drawn at the opening (下浮系数): benchmark = K × mean of the valid bids.
    benchmark_factors: Annotated[list[Annotated[float, Meta(gt=0.5, le=1.2)]], Meta(min_length=1)] = (
        msgspec.field(default_factory=lambda: [0.96, 0.97, 0.98, 0.99])
    )
    #: Points lost per 1 % above / below the benchmark.
    benchmark_above: Annotated[float, Meta(ge=0)] = 1.0
    benchmark_below: Annotated[float, Meta(ge=0)] = 0.5
    #: A bid more than this far below the mean of the bids is rejected as under cost (低于成本).
    abnormal_low: Annotated[float, Meta(ge=0, le=1)] = 0.12
    rings: list[RingSpec] = []
    lookalikes: LookalikeSpec = LookalikeSpec()
    #: Price granularity (units, rate grids, increments, nice numbers); ``None`` (the
    #: default) keeps bids continuous, to the cent, as markets written before it.
    granularity: Granularity | None = None


class MarketScenario(_Spec, frozen=True, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    description: str = ""
    seed: Annotated[int, Meta(ge=0, le=2**63 - 1)] = 0
    start: date
    days: Annotated[int, Meta(ge=1, le=3660)]
    timezone: str = "Asia/Shanghai"
    #: Working periods and holiday arrangements (as a hall scenario's; the defaults are China's).
    calendar: CalendarSpec = CalendarSpec()
    rulebook: str = "rulebooks/default.yaml"
    #: Published figures this market claims (``targets/x.yaml[#tag]``, relative to the file);
    #: ``supsim run`` then prints the calibration table.
    targets: str | None = None
    market: MarketSpec

    def tzinfo(self) -> tzinfo:
        return ZoneInfo(self.timezone)

    def horizon(self) -> tuple[datetime, datetime]:
        begin = datetime.combine(self.start, time(0), tzinfo=self.tzinfo())
        return begin, begin + timedelta(days=self.days)

    def build_calendar(self) -> WorkingCalendar:
        return build_scenario_calendar(self.calendar, tz=self.tzinfo(), start=self.start, days=self.days)

    def rulebook_path(self, scenario_file: str | Path) -> Path:
        path = Path(self.rulebook)
        return path if path.is_absolute() else Path(scenario_file).parent / path

    def targets_path(self, scenario_file: str | Path) -> str | None:
        """The targets reference resolved against the scenario file, keeping any ``#tag``."""
        return resolve_targets(self.targets, scenario_file)


def _problems(s: MarketScenario) -> list[tuple[str, str]]:
    m = s.market
    out: list[tuple[str, str]] = []
    if m.bidders_min > m.bidders_max:
        out.append(("$.market.bidders_min", "must not exceed bidders_max"))
    names: set[str] = set()
    used = 0
    for i, ring in enumerate(m.rings):
        if ring.name in names:
            out.append((f"$.market.rings[{i}].name", f"duplicate ring name {ring.name!r}"))
        names.add(ring.name)
        used += ring.members
        if ring.strategy in ("cover", "rotation", "surrounding", "pattern") and ring.members < 2:
            out.append((f"$.market.rings[{i}].members", "a bidding ring needs at least 2 members"))
        if ring.strategy == "expert" and ring.members > m.panel_size:
            out.append((f"$.market.rings[{i}].members", "an expert ring cannot outnumber the panel"))
    parks = m.lookalikes.business_parks * m.lookalikes.firms_per_park
    if used + parks + 2 * m.lookalikes.consortiums + m.bidders_max > m.firms:
        out.append(("$.market.firms", "too few firms for the rings, parks, consortiums and honest bidders"))
    try:
        calendar = s.build_calendar()
    except ValueError as exc:  # HolidayError and CalendarRangeError are ValueErrors
        out.append(("$.calendar", f"cannot build the working calendar: {exc}"))
    else:
        out.extend(coverage_problems(calendar, s.calendar, s.start, s.days))
    return out


def is_market_file(path: str | Path) -> bool:
    """Whether a scenario file describes a bidding market (a top-level ``market:`` key)."""
    try:
        data = msgspec.yaml.decode(Path(path).read_bytes())
    except (OSError, msgspec.DecodeError):
        return False
    return isinstance(data, dict) and "market" in data and "halls" not in data


def load_market_scenario(path: str | Path, *, calendar: CalendarOverride | None = None) -> MarketScenario:
    """Read, decode and check a market scenario; errors name the file and field path.

    ``calendar`` (``--holidays`` / ``--beyond-range``) is applied before the checks.
    """
    from sim.common.scenario import ScenarioError

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(str(path), [("$", f"cannot read the file ({exc.strerror})")]) from None
    if problems := yaml_problems(data):
        raise ScenarioError(str(path), problems)
    try:
        scenario = msgspec.yaml.decode(data, type=MarketScenario)
    except msgspec.ValidationError as exc:
        text = str(exc)
        where, _, reason = text.rpartition(" - at `")
        problem = (reason.rstrip("`"), type_hint(where)) if where else ("$", text)
        raise ScenarioError(str(path), [problem]) from None
    except msgspec.DecodeError as exc:
        raise ScenarioError(str(path), [date_problem(data) or ("$", f"malformed YAML: {exc}")]) from None
    spec = with_override(resolve_holiday_paths(scenario.calendar, path), calendar)
    if spec is not scenario.calendar:
        scenario = msgspec.structs.replace(scenario, calendar=spec)
    problems = _problems(scenario)
    if problems:
        raise ScenarioError(str(path), problems)
    return scenario


def market_scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of market scenario files (for editors)."""
    return msgspec.json.schema(MarketScenario)
