"""Targets files: published figures, each with the denominator it was published against.

Why a typed schema: a published figure is only comparable to a simulated one once we know
what it counts and over what. "113 deadline warnings" means nothing until it is "113 over
about nine months and 39,613 cases". So every figure states its *basis*:

* ``rate`` — a ratio (completion rate, early-completion rate, a share, a discount): compared
  as it is;
* ``per_cases`` — a count published against the cases it came from (``113`` warnings in
  ``39,613`` cases): the target becomes ``value × simulated cases / period cases``;
* ``count`` — a count over the file's ``period``: scaled by the scenario's share of that
  period and, for each name in ``per``, by the ratio of the scenario's size to the place's
  (``population``), e.g. ``per: [departments]``;
* ``stock_rate`` — a completion-style rate whose complement is a *stock* (cases still in the
  pipeline when the period ends), not a flow: the open share scales with
  ``period / scenario period`` (a month's run ends with the same pipeline as a nine-month
  one, over a ninth of the cases);
* ``size`` — a structural figure of the place (windows, departments, items, staff),
  compared with the scenario's own structure.

Files are decoded with ``forbid_unknown_fields`` so a misspelt key fails with its path, like
scenario files. A reference ``targets/x.yaml#trading`` selects the figures tagged
``trading``, so one place's file can serve a hall scenario and a trading scenario.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from engine.contract.yaml_checks import type_hint, yaml_problems
from reports.evaluation.calibration.complaint_metrics import COMPLAINT_METRICS
from reports.evaluation.calibration.inspection_metrics import INSPECTION_METRICS
from reports.evaluation.calibration.kinds import KIND_METRICS, UNSIMULATED
from sim.common.scenario import ScenarioError

__all__ = [
    "DEFAULT_TOLERANCE",
    "METRICS",
    "SIZE_MEASURES",
    "Figure",
    "FitParam",
    "Period",
    "Targets",
    "TargetsError",
    "decode_targets",
    "load_targets",
]

#: Figures a run can produce (see :mod:`reports.evaluation.calibration.metrics`) and what they mean.
METRICS: dict[str, str] = {
    "cases": "cases watched (distinct case ids)",
    "cases_closed": "cases closed",
    "open_cases": "cases still open at the end",
    "completion_rate": "closed / accepted (办结率)",
    "early_completion_rate": "promised cases closed with time left / promised cases closed (提前办结率)",
    "on_time_rate": "promised cases closed by the deadline / promised cases closed",
    "instant_share": "instant cases / submitted cases (即办件 share)",
    "online_share": "online cases / submitted cases",
    "deadline_warnings": "deadline warnings (时限预警)",
    "step_warnings": "step warnings",
    "logic_warnings": "logic warnings (逻辑预警)",
    "yellow_cards": "yellow cards (黄牌)",
    "red_cards": "red cards (红牌)",
    "tenders_awarded": "tenders awarded",
    "award_discount_mean": "mean of 1 - award price / control price",
    "award_discount_max": "largest 1 - award price / control price",
    "award_discount_p95": "95th percentile of 1 - award price / control price",
    "departments": "departments in the halls",
    "windows": "windows in the halls",
    "staff": "staff (windows, back-office posts, leaders)",
    "items": "catalogue items",
    "instant_items": "instant items in the catalogue",
    "instant_item_share": "instant items / catalogue items",
    "halls": "halls",
    "mean_processing_days": "mean working days from acceptance to closure, promised cases (平均办理时间)",
    "processing_speedup": "1 - processing time / promised limit, promised cases closed (提速率)",
    **KIND_METRICS,
    **COMPLAINT_METRICS,
    **INSPECTION_METRICS,
}

#: Figures that are proportions: a published value above 1 is a percentage written as a number.
PROPORTIONS = frozenset(
    {
        "completion_rate",
        "early_completion_rate",
        "on_time_rate",
        "instant_share",
        "online_share",
        "award_discount_mean",
        "award_discount_max",
        "award_discount_p95",
        "instant_item_share",
        "instant_completion_rate",
        "promised_completion_rate",
        "complaint_closure_rate",
        "substantiated_share",
    }
)

#: Structure measures a ``count`` may be scaled by, and ``size`` figures compared with.
SIZE_MEASURES = ("halls", "departments", "windows", "staff", "items")

#: The relative band of a figure that states no tolerance (of the target, or of a rate's smaller side).
DEFAULT_TOLERANCE = 0.10

Basis = Literal["rate", "per_cases", "count", "stock_rate", "size"]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Positive = Annotated[float, Meta(gt=0)]


class _Spec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base: immutable, keyword-only, unknown keys rejected."""


class Period(_Spec, frozen=True, kw_only=True):
    """How long the published figures were collected over (give one of the two)."""

    working_days: Positive | None = None
    calendar_days: Positive | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if (self.working_days is None) == (self.calendar_days is None):
            raise ValueError("give exactly one of `working_days` and `calendar_days`")


class Figure(_Spec, frozen=True, kw_only=True):
    """One published figure and how to bring it to the scenario's scale.

    ``cases`` (for ``per_cases`` and ``stock_rate``) defaults to the file's
    ``population.cases``. The band a simulated mean must fall in is per figure:
    ``tolerance`` is relative (a share of the target), ``abs_tolerance`` absolute (a zero
    target such as no red cards, or a rate near 1); give either or both (either passes).
    Given neither, counts get ±10 % of the target, and rates (``rate``, ``stock_rate``) ±10 %
    of the smaller of the rate and its complement: a relative ±10 % of 0.981 would pass 0.918,
    four times the late share published, so near 1 the complement is what is judged.
    ``bound``: ``equal`` (default) judges the gap either side; ``at_most`` / ``at_least`` a
    published limit ("awards at most 24 % below the control price"): only a simulated mean
    beyond the limit (by more than the tolerance) fails, and only the excess counts in the
    NRMSE, since any value on the right side of a limit reproduces it.
    """

    id: Annotated[str, Meta(pattern=r"^[a-z0-9_]+$")]
    metric: str
    value: Annotated[float, Meta(ge=0)]
    basis: Basis
    cases: Positive | None = None
    per: list[str] = []
    tolerance: Annotated[float, Meta(gt=0, le=10)] | None = None
    abs_tolerance: Annotated[float, Meta(ge=0)] | None = None
    bound: Literal["equal", "at_most", "at_least"] = "equal"
    tags: list[str] = []
    source: str = ""
    note: str = ""


class FitParam(_Spec, frozen=True, kw_only=True):
    """A scenario rate ``--fit`` may change.

    ``value``: ``paths`` (dotted, e.g. ``misconduct.slow_walking``) all take one value in
    ``[min, max]``. ``scale``: each path keeps its ratio to the others and is multiplied by one
    factor in ``[min, max]`` (a group of logic misconduct rates moves together).
    ``tags``: with ``file.yaml#tag`` only the parameters tagged ``tag`` (and untagged ones)
    are fitted, because two scenarios claiming different figures of one place need not
    share a search space (a one-month hall does not fit its deadline misconduct to the
    district's warning rate if it does not claim that rate).
    """

    name: Annotated[str, Meta(pattern=r"^[a-z0-9_]+$")]
    paths: Annotated[list[str], Meta(min_length=1)]
    mode: Literal["value", "scale"] = "value"
    min: Annotated[float, Meta(ge=0)]
    max: Annotated[float, Meta(ge=0)]
    tags: list[str] = []

    def __post_init__(self) -> None:
        if self.min > self.max:
            raise ValueError(f"`min` ({self.min}) must not exceed `max` ({self.max})")


class Targets(_Spec, frozen=True, kw_only=True):
    """A place's published figures, their period and population, and what ``--fit`` may vary."""

    place: Name
    source: str = ""
    period: Period | None = None
    population: dict[str, Positive] = {}
    figures: Annotated[list[Figure], Meta(min_length=1)]
    fit: list[FitParam] = []
    replications: Annotated[int, Meta(ge=1, le=1000)] = 5


class TargetsError(ScenarioError):
    """A targets file is malformed or inconsistent; the message names the file and field.

    A kind of :class:`~sim.common.scenario.ScenarioError` (a targets file is part of what a scenario
    claims), so the command line reports it the same way: one line per problem, no traceback.
    """


_AT_PATH = re.compile(r"^(?P<reason>.*) - at `(?P<path>\$[^`]*)`$", re.DOTALL)


def _check(t: Targets) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, fig in enumerate(t.figures):
        at = f"$.figures[{i}]"
        if fig.id in seen:
            problems.append((f"{at}.id", f"duplicate figure id {fig.id!r}"))
        seen.add(fig.id)
        if fig.metric in UNSIMULATED:
            problems.append(
                (f"{at}.metric", f"{fig.metric!r} cannot be simulated: {UNSIMULATED[fig.metric]}")
            )
        elif fig.metric not in METRICS:
            problems.append((f"{at}.metric", f"unknown metric {fig.metric!r}; known: {', '.join(METRICS)}"))
        if fig.metric in PROPORTIONS and fig.value > 1:
            problems.append(
                (
                    f"{at}.value",
                    f"{fig.metric!r} is a proportion in [0, 1]; {fig.value:g} looks like a percentage: "
                    f"write {fig.value / 100:g}",
                )
            )
        if fig.basis in ("per_cases", "stock_rate") and fig.cases is None and "cases" not in t.population:
            problems.append((f"{at}.cases", f"basis {fig.basis!r} needs `cases` or `population.cases`"))
        if fig.basis in ("count", "stock_rate") and t.period is None:
            problems.append((f"{at}.basis", f"basis {fig.basis!r} needs the file's `period`"))
        for j, name in enumerate(fig.per):
            if name not in SIZE_MEASURES:
                problems.append((f"{at}.per[{j}]", f"{name!r} is not one of {', '.join(SIZE_MEASURES)}"))
            elif name not in t.population:
                problems.append((f"{at}.per[{j}]", f"`population.{name}` is not given"))
        if fig.basis == "size" and fig.metric not in (*SIZE_MEASURES, "instant_items", "instant_item_share"):
            problems.append((f"{at}.metric", f"{fig.metric!r} is not a structural figure"))
    names = [p.name for p in t.fit]
    for i, name in enumerate(names):
        if name in names[:i]:
            problems.append((f"$.fit[{i}].name", f"duplicate fit parameter {name!r}"))
    return problems


def decode_targets(data: bytes | str, *, source: str = "<targets>", tag: str | None = None) -> Targets:
    """Decode and check targets YAML; keep only the figures (and fit parameters) tagged ``tag``."""
    if problems := yaml_problems(data):
        raise TargetsError(source, problems)
    try:
        targets = msgspec.yaml.decode(data, type=Targets)
    except msgspec.ValidationError as exc:
        match = _AT_PATH.match(str(exc))
        path, reason = (match["path"], type_hint(match["reason"])) if match else ("$", str(exc))
        raise TargetsError(source, [(path, reason)]) from None
    except msgspec.DecodeError as exc:
        raise TargetsError(source, [("$", f"malformed YAML: {' '.join(str(exc).split())}")]) from None
    problems = _check(targets)
    if problems:
        raise TargetsError(source, problems)
    if tag is not None:
        chosen = [f for f in targets.figures if tag in f.tags]
        if not chosen:
            raise TargetsError(source, [("$.figures", f"no figure is tagged {tag!r}")])
        fit = [p for p in targets.fit if not p.tags or tag in p.tags]
        targets = msgspec.structs.replace(targets, figures=chosen, fit=fit)
    return targets


def load_targets(ref: str | Path) -> Targets:
    """Read a targets file; ``path#tag`` keeps only the figures tagged ``tag``."""
    text = str(ref)
    path_text, _, tag = text.partition("#")
    path = Path(path_text)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TargetsError(str(path), [("$", f"cannot read the file ({exc.strerror})")]) from None
    return decode_targets(data, source=str(path), tag=tag or None)
