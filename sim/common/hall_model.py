"""The static side of a hall: departments, staff, authorisations and the item catalogue.

Built once from the scenario before the clock starts, with no SimPy in sight: the world
attaches queues to it. Explicit items are taken as written; an ``item_mix`` generates the
rest (a city hall lists hundreds of items). Ids are stable and readable, since they travel
in the stream: department ``H1-D03``, staff ``H1-D03-S012``, window ``H1-D03-W02``,
generated item ``H1-D03-I007`` (explicit item ids are kept as written).

Authorisation follows the fixed flow: the ``decide`` post's staff and the department's
leaders may decide every item of the department; window staff may decide only its instant
items (they accept and decide those on the spot); other back-office staff may decide nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from engine.contract.events import ItemPublished, StaffAuthorised, StepSpec
from sim.common.scenario import Scenario
from sim.common.scenario_types import DECIDE_POST, Department, Hall, ItemMix

__all__ = ["LEADER_POST", "WINDOW_POST", "DeptModel", "HallModel", "ItemModel", "StaffModel", "build_halls"]

#: Post names of window staff and of department leaders in ``staff.authorised``.
WINDOW_POST = "window"
LEADER_POST = "lead"

_OBJECTS = (
    "食品经营",
    "建设工程",
    "道路运输",
    "药品零售",
    "排污",
    "户外广告",
    "消防设计",
    "公共场所卫生",
    "特种设备",
    "林木采伐",
    "取水",
    "临时占道",
    "档案查询",
    "医疗机构",
    "民办学校",
    "烟草零售",
    "建筑施工",
    "商品房预售",
    "危险化学品",
    "文化娱乐场所",
    "出版物零售",
    "人力资源服务",
    "劳务派遣",
    "社会团体",
    "民办非企业",
    "宗教活动场所",
    "养老机构",
    "河道采砂",
    "渔业捕捞",
    "动物防疫",
)
_ACTIONS = ("许可", "审批", "核准", "备案", "登记", "变更", "延续", "注销", "证明", "年检")


@dataclass(slots=True)
class StaffModel:
    id: str
    name: str
    department_id: str
    posts: tuple[str, ...]
    window_id: str | None = None
    may_decide: tuple[str, ...] = ()


@dataclass(slots=True)
class ItemModel:
    id: str
    name: str
    department_id: str
    promised_days: int
    fee_standard: float
    steps: tuple[StepSpec, ...]
    issues_certificate: bool
    popularity: float

    @property
    def instant(self) -> bool:
        return self.promised_days == 0


@dataclass(slots=True)
class DeptModel:
    """A department: its window staff (with their windows), posts, leaders and items."""

    id: str
    key: str
    name: str
    window_staff: list[StaffModel]
    posts: dict[str, list[StaffModel]]
    leaders: list[StaffModel]
    items: list[ItemModel] = field(default_factory=list)

    @property
    def approvers(self) -> list[StaffModel]:
        return self.posts.get(DECIDE_POST, [])

    @property
    def back_office(self) -> list[StaffModel]:
        """Staff of the non-deciding back-office posts: never authorised to decide."""
        return [s for post, staff in self.posts.items() if post != DECIDE_POST for s in staff]

    def staff(self) -> list[StaffModel]:
        return [*self.window_staff, *(s for staff in self.posts.values() for s in staff), *self.leaders]


@dataclass(slots=True)
class HallModel:
    id: str
    name: str
    departments: list[DeptModel]
    items: list[ItemModel]
    cases_per_day: float

    def reference_events(self, ts: datetime) -> list[ItemPublished | StaffAuthorised]:
        """The catalogue and authorisations as the stream's opening reference data."""
        out: list[ItemPublished | StaffAuthorised] = [
            ItemPublished(
                event_id=f"ref-item-{item.id}",
                ts=ts,
                hall_id=self.id,
                item_id=item.id,
                department_id=item.department_id,
                name=item.name,
                promised_days=item.promised_days,
                fee_standard=item.fee_standard,
                steps=item.steps,
            )
            for item in self.items
        ]
        for dept in self.departments:
            out.extend(
                StaffAuthorised(
                    event_id=f"ref-staff-{s.id}",
                    ts=ts,
                    hall_id=self.id,
                    staff_id=s.id,
                    department_id=dept.id,
                    posts=s.posts,
                    may_decide=s.may_decide,
                )
                for s in dept.staff()
            )
        return out


def build_halls(scenario: Scenario, rng: np.random.Generator) -> list[HallModel]:
    """Every hall of the scenario, with staff named by Faker seeded from ``rng``."""
    from faker import Faker  # imported lazily: loading a scenario should not pay for Faker

    fake = Faker("zh_CN")
    fake.seed_instance(int(rng.integers(2**31)))
    return [_build_hall(scenario, hall, rng, fake) for hall in scenario.halls]


def _build_hall(scenario: Scenario, hall: Hall, rng: np.random.Generator, fake: object) -> HallModel:
    depts = [_build_dept(hall.id, d, fake) for d in hall.departments]
    by_key = {d.key: d for d in depts}
    items: list[ItemModel] = []
    for spec in hall.items:
        dept = by_key[spec.department]
        steps = tuple(StepSpec(name=s.name, post=s.post, limit_days=s.limit_days) for s in spec.steps)
        items.append(
            ItemModel(
                spec.id,
                spec.name,
                dept.id,
                spec.promised_days,
                spec.fee_standard,
                steps,
                spec.issues_certificate,
                spec.popularity,
            )
        )
    if hall.item_mix is not None:
        items.extend(_generate_items(hall, hall.item_mix, depts, rng))
    by_id = {d.id: d for d in depts}
    for item in items:
        by_id[item.department_id].items.append(item)
    for dept in depts:
        every = tuple(item.id for item in dept.items)
        instant = tuple(item.id for item in dept.items if item.instant)
        for s in dept.window_staff:
            s.may_decide = instant
        for s in [*dept.approvers, *dept.leaders]:
            s.may_decide = every
    per_day = hall.cases_per_day if hall.cases_per_day is not None else scenario.arrivals.cases_per_day
    return HallModel(hall.id, hall.name, depts, items, per_day)


def _build_dept(hall_id: str, spec: Department, fake: object) -> DeptModel:
    dept_id = f"{hall_id}-{spec.id}"
    counter = iter(range(1, 10_000))

    def person(posts: tuple[str, ...], window_id: str | None = None) -> StaffModel:
        name: str = fake.name()  # type: ignore[attr-defined]
        return StaffModel(f"{dept_id}-S{next(counter):03d}", name, dept_id, posts, window_id)

    windows = [person((WINDOW_POST,), f"{dept_id}-W{w:02d}") for w in range(1, spec.windows + 1)]
    posts = {post: [person((post,)) for _ in range(n)] for post, n in spec.posts.items()}
    leaders = [person((LEADER_POST,)) for _ in range(spec.leaders)]
    return DeptModel(dept_id, spec.id, spec.name, windows, posts, leaders)


def _generate_items(
    hall: Hall, mix: ItemMix, depts: list[DeptModel], rng: np.random.Generator
) -> list[ItemModel]:
    days = np.array(list(mix.promised_days), dtype=np.int64)
    weights = np.array(list(mix.promised_days.values()), dtype=np.float64)
    weights /= weights.sum()
    out: list[ItemModel] = []
    for dept in depts:  # hall order, not mapping order: the catalogue must not depend on key order
        n = mix.counts.get(dept.key, 0)
        if n == 0:
            continue
        instant = rng.random(n) < mix.instant_share
        promised = rng.choice(days, size=n, p=weights)
        free = rng.random(n) < mix.free_share
        fees = np.round(rng.uniform(mix.fee_range.min, mix.fee_range.max, size=n), 1)
        cert = rng.random(n) < mix.certificate_share
        popularity = rng.lognormal(0.0, mix.popularity_sigma, size=n) if mix.popularity_sigma else np.ones(n)
        names = rng.integers(0, [len(_OBJECTS), len(_ACTIONS)], size=(n, 2))
        posts = [p for p in dept.posts if p != DECIDE_POST]
        for k in range(n):
            pdays = 0 if instant[k] else int(promised[k])
            steps = _generate_steps(posts, pdays, mix) if pdays else ()
            obj, act = _OBJECTS[names[k, 0]], _ACTIONS[names[k, 1]]
            out.append(
                ItemModel(
                    id=f"{dept.id}-I{k + 1:03d}",
                    name=f"{obj}{act}（{dept.name}）",
                    department_id=dept.id,
                    promised_days=pdays,
                    fee_standard=0.0 if free[k] else float(fees[k]),
                    steps=steps,
                    issues_certificate=bool(cert[k]),
                    popularity=float(popularity[k]),
                )
            )
    return out


def _generate_steps(posts: list[str], promised_days: int, mix: ItemMix) -> tuple[StepSpec, ...]:
    """One step per back-office post; limits share the step budget, floored to 0.1 day."""
    if not posts:
        return ()
    w = [mix.step_weights.get(p, 1.0) for p in posts]
    budget = promised_days * mix.step_budget
    limits = [max(0.1, np.floor(10 * budget * x / sum(w)) / 10) for x in w]
    return tuple(
        StepSpec(name=p, post=p, limit_days=float(lim)) for p, lim in zip(posts, limits, strict=True)
    )
