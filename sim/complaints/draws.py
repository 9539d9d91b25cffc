"""Every random number a complaint needs, drawn up front per hall, by arrival index.

Why up front and in separate generators: a complaint's target, finding and durations are
then fixed by its arrival index, not by the order in which SimPy resumes processes; and the
misconduct generator is apart from the natural one, so changing a misconduct rate leaves
every natural handling time of the run unchanged (as in the hall world).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.common.hall_model import HallModel, StaffModel
from sim.common.scenario_types import LogNormal
from sim.common.sections.complaints import Complaints

__all__ = ["KINDS", "ComplaintDraws", "Target", "draw_complaints", "problem_officials"]

#: The categorical draw per complaint: injected violations, then look-alikes (None: neither).
KINDS: tuple[str, ...] = (
    "late_answer",
    "late_feedback",
    "no_feedback",
    "extended",
    "last_day_answer",
    "last_day_feedback",
)


@dataclass(frozen=True, slots=True)
class Target:
    """Whom a complaint is about: a unit, and the official it names (or None)."""

    department_id: str
    staff_id: str | None
    problem: bool


@dataclass(slots=True)
class ComplaintDraws:
    """Column-wise draws for one hall's complaints (index = arrival order); durations in working seconds."""

    targets: list[Target]
    category: list[str]
    finding: list[str]
    kind: list[str | None]
    classify_s: list[float]
    assign_s: list[float]
    answer_s: list[list[float]]  # (n, 2): one per handling round
    feedback_s: list[list[float]]
    close_s: list[float]
    satisfied: list[bool]
    reopen: list[bool]
    reopen_s: list[float]
    shape: list[list[float]]  # uniforms shaping the injected kind (how late, when the extension)


def problem_officials(hall: HallModel, spec: Complaints, rng: np.random.Generator) -> set[str]:
    """Window staff who draw many complaints (drawn once per hall, in staff order)."""
    staff = [s for d in hall.departments for s in d.window_staff]
    flags = rng.random(len(staff)) < spec.misconduct.problem_officials
    return {s.id for s, f in zip(staff, flags.tolist(), strict=True) if f}


def _lognormal(
    rng: np.random.Generator, d: LogNormal, scale: float, size: int | tuple[int, int]
) -> list[Any]:
    return list(np.asarray(rng.lognormal(np.log(d.median * scale), d.sigma, size=size)).tolist())


def draw_complaints(
    spec: Complaints,
    hall: HallModel,
    n: int,
    problems: set[str],
    day_seconds: float,
    natural: np.random.Generator,
    misconduct: np.random.Generator,
) -> ComplaintDraws:
    """Draws for ``n`` complaints about ``hall``."""
    depts = hall.departments
    dept_w = np.array([len(d.window_staff) or 1 for d in depts], dtype=np.float64)
    dept_idx = natural.choice(len(depts), size=n, p=dept_w / dept_w.sum()).tolist() if n else []
    named = (natural.random(n) < spec.named_share).tolist()
    u_staff = natural.random(n).tolist()
    targets = [
        _target(depts[k].id, depts[k].window_staff, problems, spec, named[i], u_staff[i])
        for i, k in enumerate(dept_idx)
    ]
    cats = list(spec.categories)
    cat_w = np.array([spec.categories[c] for c in cats], dtype=np.float64)
    category = (
        [cats[k] for k in natural.choice(len(cats), size=n, p=cat_w / cat_w.sum()).tolist()] if n else []
    )
    u_find = natural.random(n).tolist()
    finding = [_finding(spec, t, u) for t, u in zip(targets, u_find, strict=True)]
    h = spec.handling
    m, lk = spec.misconduct, spec.lookalikes
    rates = [
        m.late_answer,
        m.late_feedback,
        m.no_feedback,
        lk.extended,
        lk.last_day_answer,
        lk.last_day_feedback,
    ]
    edges = np.cumsum(rates)
    u_kind = misconduct.random(n)
    pick = np.searchsorted(edges, u_kind, side="right").tolist()
    kind = [KINDS[k] if k < len(KINDS) else None for k in pick]
    return ComplaintDraws(
        targets=targets,
        category=category,
        finding=finding,
        kind=kind,
        classify_s=_lognormal(natural, h.classify_hours, 3600, n),
        assign_s=_lognormal(natural, h.assign_hours, 3600, n),
        answer_s=_lognormal(natural, h.answer_days, day_seconds, (n, 2)),
        feedback_s=_lognormal(natural, h.feedback_days, day_seconds, (n, 2)),
        close_s=_lognormal(natural, h.close_hours, 3600, n),
        satisfied=(natural.random(n) < h.satisfied_rate).tolist(),
        reopen=(natural.random(n) < h.reopen_rate).tolist(),
        reopen_s=(natural.uniform(h.reopen_days.min, h.reopen_days.max, n) * day_seconds).tolist(),
        shape=misconduct.random((n, 3)).tolist(),
    )


def _target(
    dept: str, staff: list[StaffModel], problems: set[str], spec: Complaints, named: bool, u: float
) -> Target:
    if not named or not staff:
        return Target(dept, None, False)
    w = np.array([spec.misconduct.problem_weight if s.id in problems else 1.0 for s in staff])
    k = int(np.searchsorted(np.cumsum(w) / w.sum(), u, side="right"))
    chosen = staff[min(k, len(staff) - 1)]
    return Target(dept, chosen.id, chosen.id in problems)


def _finding(spec: Complaints, target: Target, u: float) -> str:
    p_sub = spec.misconduct.problem_substantiated if target.problem else spec.substantiated
    if u < p_sub:
        return "substantiated"
    if u < p_sub + spec.partly_substantiated:
        return "partly_substantiated"
    return "unsubstantiated"
