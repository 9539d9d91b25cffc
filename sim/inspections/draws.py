"""Everything an inspections run draws, up front and per hall: visit times, units, groups, findings.

Why up front: the SimPy processes then only wait and record, so the draws do not depend on the
order in which the kernel runs processes. Natural draws (when, whom, what was found) and injected
ones (overdue rectifications, the look-alikes, units named again) come from separate generators,
so changing a misconduct rate leaves the natural world unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np

from engine.contract.calendar import WorkingCalendar
from sim.common.hall_model import HallModel
from sim.common.sections.inspections import Inspections

__all__ = ["Finding", "Visit", "draw_visits"]

_MONTH_DAYS = 30.4375  # mean calendar month: months of "again_months" become days


@dataclass(slots=True)
class Finding:
    finding_id: str
    problem: str
    #: rectification notice: (issue delay in working days, share of the deadline, kind) or None;
    #: kind is None (rectified in time), "overdue" or "last_day"
    notice: tuple[float, float, str | None] | None = None


@dataclass(slots=True)
class Visit:
    visit_id: str
    hall_id: str
    department_id: str
    at: float  # working-time index of the visit
    inspectors: list[str]
    findings: list[Finding]
    named: bool
    #: why this visit happens: None (the monthly round), "named_again" or "named_after_13_months"
    follow_up_of: str | None = None
    #: for a named visit of the monthly round: (kind, calendar days later) of a follow-up naming
    again: tuple[str, float] | None = None
    #: supervision suggestion (监察建议): (working days after the visit, the findings it is about)
    suggestion: tuple[float, list[str]] | None = None


def _month_days(calendar: WorkingCalendar, start: date, end: date) -> list[tuple[list[date], float]]:
    """The run's working days grouped by calendar month, each with the share of its month's
    working days that falls inside the run.

    Why the share: a run that starts or ends mid-month sees only part of that month's round, so the
    month's expected visits are scaled by it; a quarter from the 15th spans four calendar months,
    and a full round in each would inflate a quarter's visits by about a third.
    """
    months: dict[tuple[int, int], list[date]] = {}
    d = start
    while d < end:
        if calendar.is_working_day(d):
            months.setdefault((d.year, d.month), []).append(d)
        d += timedelta(days=1)
    out: list[tuple[list[date], float]] = []
    for (year, month), days in months.items():
        first = date(year, month, 1)
        after = date(year + month // 12, month % 12 + 1, 1)
        total = sum(
            1 for k in range((after - first).days) if calendar.is_working_day(first + timedelta(days=k))
        )
        out.append((days, len(days) / total))
    return out


def draw_visits(
    spec: Inspections,
    hall: HallModel,
    calendar: WorkingCalendar,
    start: datetime,
    end: datetime,
    natural: np.random.Generator,
    misconduct: np.random.Generator,
    suggestions: np.random.Generator,
) -> list[Visit]:
    """The monthly rounds' visits of ``hall`` within ``[start, end)``, in time order.

    ``suggestions`` draws only whether (and when) a visit is followed by a supervision
    suggestion, so a scenario's ``suggestion_share`` leaves every other draw unchanged."""
    day = float(calendar.day_seconds)
    tz = calendar.tz
    depts = [d.id for d in hall.departments]
    names = list(spec.problems)
    weights = np.array([spec.problems[p] for p in names], dtype=float)
    weights /= weights.sum()
    pool = [f"{hall.id}-INS{k + 1:02d}" for k in range(spec.inspectors)]
    mc, lk = spec.misconduct, spec.lookalikes
    out: list[Visit] = []
    start_x, end_x = calendar.to_index(start), calendar.to_index(end)
    local_start = start.astimezone(tz).date()
    local_end = end.astimezone(tz).date()
    for days, share in _month_days(calendar, local_start, local_end):
        first = days[int(natural.integers(len(days)))]
        x0 = calendar.to_index(datetime.combine(first, time(0), tz))
        n = int(natural.poisson(spec.per_month * share))
        xs = np.sort(x0 + natural.random(n) * spec.round_days * day)
        for x in xs:
            i = len(out) + 1
            vid = f"{hall.id}-V{i:05d}"
            dept = depts[int(natural.integers(len(depts)))]
            size = 3 if natural.random() < spec.group_of_three else 2
            group = [pool[k] for k in sorted(natural.choice(len(pool), size, replace=False))]
            k = int(natural.poisson(spec.problems_per_visit))
            findings: list[Finding] = []
            for j in range(k):
                f = Finding(f"{vid}-F{j + 1}", names[int(natural.choice(len(names), p=weights))])
                if natural.random() < spec.notice_share:
                    u = misconduct.random()
                    kind = (
                        "overdue" if u < mc.overdue else "last_day" if u < mc.overdue + lk.last_day else None
                    )
                    delay = spec.notice_days.min + natural.random() * (
                        spec.notice_days.max - spec.notice_days.min
                    )
                    f.notice = (delay, float(misconduct.random()), kind)
                findings.append(f)
            named = bool(findings) and natural.random() < spec.named_share
            again = None
            if named:
                u = misconduct.random()
                m = misconduct.random()
                if u < mc.named_again:
                    months = mc.again_months.min + m * (mc.again_months.max - mc.again_months.min)
                    again = ("named_again", months * _MONTH_DAYS)
                elif u < mc.named_again + lk.named_after_13_months:
                    again = ("named_after_13_months", 0.0)
            suggestion = None
            unnoticed = [f.finding_id for f in findings if f.notice is None]
            if unnoticed:
                u, w = suggestions.random(), suggestions.random()
                if u < spec.suggestion_share:
                    wait = spec.suggestion_days
                    suggestion = (wait.min + w * (wait.max - wait.min), unnoticed)
            if start_x <= x < end_x:
                out.append(
                    Visit(vid, hall.id, dept, float(x), group, findings, named, None, again, suggestion)
                )
    return out
