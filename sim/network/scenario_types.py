"""The network scenario schema: a multi-level network of halls by levels, templates and counts.

Why templates and counts rather than a list of halls: a province has some 1,700 service
halls, and nobody can write (or review) 1,700 hall blocks. A planner knows the shape instead
— one province hall, 21 city halls, about 120 county halls, about 1,600 township halls — and
what a hall of each level looks like (how many departments and windows, how many items, how
busy a window is, whether the hall has cameras, how deep its back office is). Each hall is
drawn from its level's template with its own seed (:mod:`sim.network.layout`), so halls of
one level differ as real ones do, and the same file and seed always give the same network.

The hall-level sections (``service``, ``misconduct``, ``lookalikes``, ``injection``,
``truth``, the camera settings) are the ones of a hall scenario
(:mod:`sim.common.scenario_types`), shared by every hall; a template may override the
misconduct rates of its level.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from msgspec import Meta

from sim.common.scenario_types import (
    CalendarSpec,
    Injection,
    Lookalikes,
    Misconduct,
    Range,
    Service,
    TruthSpec,
)
from sim.common.sections.cameras import Cameras

__all__ = [
    "DEPARTMENT_NAMES",
    "ArrivalShape",
    "CatalogueShape",
    "HallTemplate",
    "IntRange",
    "LevelSpec",
    "NetworkScenario",
    "NetworkShape",
    "StaffShape",
]

Ident = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
Code = Annotated[str, Meta(min_length=1, max_length=4, pattern=r"^[A-Z]+$")]
Name = Annotated[str, Meta(min_length=1, max_length=120)]
Prob = Annotated[float, Meta(ge=0, le=1)]
NonNeg = Annotated[float, Meta(ge=0)]
Positive = Annotated[float, Meta(gt=0)]


class _Spec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every network Struct: immutable, keyword-only, unknown keys rejected."""


class IntRange(_Spec, frozen=True, kw_only=True):
    """Whole numbers drawn uniformly from ``[min, max]`` (both included)."""

    min: Annotated[int, Meta(ge=1, le=100_000)]
    max: Annotated[int, Meta(ge=1, le=100_000)]

    def __post_init__(self) -> None:
        if self.min > self.max:
            raise ValueError(f"`min` ({self.min}) must not exceed `max` ({self.max})")


class StaffShape(_Spec, frozen=True, kw_only=True):
    """The back office behind the windows, in staff per window of the department.

    A department gets ``review`` (at least one) and ``decide`` (at least one) staff per
    window; a department with ``check_from_windows`` windows or more also gets a ``check``
    post. ``leaders`` per department may decide every item when a case is reassigned.
    """

    review: Annotated[float, Meta(ge=0, le=20)] = 0.8
    check: Annotated[float, Meta(ge=0, le=20)] = 0.4
    decide: Annotated[float, Meta(ge=0, le=20)] = 0.3
    check_from_windows: Annotated[int, Meta(ge=1, le=200)] = 2
    leaders: Annotated[int, Meta(ge=0, le=20)] = 1


class CatalogueShape(_Spec, frozen=True, kw_only=True):
    """How the items of a hall look (the ``item_mix`` of a hall scenario, minus the counts).

    Items are spread over the departments in proportion to their windows; each department
    gets at least one.
    """

    promised_days: dict[Annotated[int, Meta(ge=1, le=365)], Positive] = msgspec.field(
        default_factory=lambda: {5: 0.3, 10: 0.4, 20: 0.3}
    )
    instant_share: Prob = 0.3
    free_share: Prob = 0.7
    fee_range: Range = Range(min=10, max=300)
    certificate_share: Prob = 0.6
    step_budget: Annotated[float, Meta(gt=0, le=1)] = 0.6
    popularity_sigma: Annotated[float, Meta(ge=0, le=3)] = 0.8


class HallTemplate(_Spec, frozen=True, kw_only=True):
    """What a hall of one level looks like; every number is drawn per hall from its range.

    ``windows`` is the hall's total, spread over ``departments`` with the busiest first
    (a city hall's big six bureaus have five windows each, a small bureau one);
    ``cases_per_window_day`` times the windows gives the hall's mean cases per working day,
    because halls are staffed for their traffic. ``cameras`` is the share of the level's
    halls that have the camera layer (one presence camera per window, one queue camera per
    department). ``name`` is formatted with ``{unit}``, the name of the hall's unit.
    """

    name: Name = "{unit}政务服务中心"
    departments: IntRange
    windows: IntRange
    items: IntRange
    cases_per_window_day: Range
    cameras: Prob = 0.0
    staff: StaffShape = StaffShape()
    catalogue: CatalogueShape = CatalogueShape()
    #: Misconduct rates of this level's halls, instead of the network's.
    misconduct: Misconduct | None = None


class LevelSpec(_Spec, frozen=True, kw_only=True):
    """One level of the network: how many units it has and what their halls look like.

    ``count`` is the level's total number of units, spread over the units of the level above
    (each gets at least one, the rest are drawn from the seed). Every unit has one service
    hall made from ``template``. ``code`` prefixes the unit's number in hall ids
    (``GD_C07_K03_T12``: the twelfth township of the third county of the seventh city);
    ``names`` names the first units in order (the rest are numbered with ``label``).
    """

    level: Ident
    code: Code
    label: Name
    count: Annotated[int, Meta(ge=1, le=100_000)]
    template: Ident
    names: list[Name] = []


class NetworkShape(_Spec, frozen=True, kw_only=True):
    """The network's root unit (the province or any top unit) and its levels, top first.

    The first level is the root itself (``count: 1``); the second level is the one results
    are grouped by (the prefecture cities of a province).
    """

    id: Annotated[str, Meta(min_length=1, max_length=8, pattern=r"^[A-Za-z0-9]+$")]
    name: Name
    levels: Annotated[list[LevelSpec], Meta(min_length=1, max_length=6)]


class ArrivalShape(_Spec, frozen=True, kw_only=True):
    """The daily shape of demand shared by every hall (the rate comes from the template)."""

    hourly_profile: list[NonNeg] | None = None
    online_share: Prob = 0.3


class NetworkScenario(_Spec, frozen=True, kw_only=True):
    """A network of halls run for ``days`` from ``start``; one file and seed fix every hall.

    ``partition_halls`` is how many halls (in network order) share one output partition: a
    property of the file, not of the machine, so the outputs do not depend on the number
    of workers.
    """

    name: Annotated[str, Meta(min_length=1, max_length=200)]
    description: str = ""
    seed: Annotated[int, Meta(ge=0, le=2**63 - 1)] = 0
    start: date
    days: Annotated[int, Meta(ge=1, le=3660)]
    timezone: str = "Asia/Shanghai"
    calendar: CalendarSpec = CalendarSpec()
    rulebook: str = "rulebooks/default.yaml"
    network: NetworkShape
    templates: Annotated[dict[Ident, HallTemplate], Meta(min_length=1)]
    partition_halls: Annotated[int, Meta(ge=1, le=10_000)] = 8
    arrivals: ArrivalShape = ArrivalShape()
    service: Service = Service()
    misconduct: Misconduct = Misconduct()
    lookalikes: Lookalikes = Lookalikes()
    injection: Injection = Injection()
    truth: TruthSpec = TruthSpec()
    #: Camera settings of the halls that have cameras (see each template's ``cameras`` share).
    cameras: Cameras = Cameras()


#: Names of the generated departments, busiest first (a city hall's order of size).
DEPARTMENT_NAMES: tuple[str, ...] = (
    "市场监督管理局",
    "公安局",
    "人力资源和社会保障局",
    "不动产登记中心",
    "住房和城乡建设局",
    "税务局",
    "自然资源局",
    "交通运输局",
    "卫生健康局",
    "生态环境局",
    "商务局",
    "文化广电旅游体育局",
    "民政局",
    "教育局",
    "城市管理和综合执法局",
    "农业农村局",
    "医疗保障局",
    "住房公积金管理中心",
    "出入境管理大队",
    "交通警察大队",
    "发展和改革局",
    "科学技术局",
    "工业和信息化局",
    "司法局",
    "财政局",
    "水务局",
    "退役军人事务局",
    "应急管理局",
    "审计局",
    "林业局",
    "统计局",
    "档案馆",
    "人民防空办公室",
    "气象局",
    "消防救援大队",
    "烟草专卖局",
    "邮政管理局",
    "残疾人联合会",
    "供电公司",
    "自来水公司",
)
