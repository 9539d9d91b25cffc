"""Cross-field checks of a decoded scenario: what a single field's type cannot say.

msgspec has already checked every field's type and range. Here we check references
(an item's department, a step's post), uniqueness (hall, department, item, step ids),
sums (misconduct and look-alike rates share one categorical draw per case), shapes (the
hourly profile has one weight per working hour) and that the run lies inside the years
the working calendar covers. Each problem is reported with the JSON path of the field
to fix, in the same form as msgspec's own errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.contract.calendar import CalendarRangeError
from engine.contract.holidays import HolidayError
from sim.common.scenario_calendar import coverage_problems
from sim.common.scenario_types import DECIDE_POST, LEGAL_SUSPENSION_REASONS, Department, Hall, parse_period
from sim.common.sections.complaints import complaint_problems
from sim.common.sections.deemed import deemed_problems
from sim.common.sections.inspections import inspection_problems
from sim.common.sections.quality_checks import check_data_quality

if TYPE_CHECKING:
    from sim.common.hall_scenario import Scenario

__all__ = ["check_scenario"]

Problems = list[tuple[str, str]]

#: Post names the world gives window staff and leaders; a back-office post may not reuse them.
_RESERVED_POSTS = frozenset({"window", "lead"})


def check_scenario(s: Scenario) -> Problems:
    """All cross-field problems of ``s`` as ``(path, reason)`` pairs (empty when consistent)."""
    problems: Problems = []
    calendar_ok = _check_time(s, problems)
    item_ids: dict[str, str] = {}
    hall_ids: set[str] = set()
    for h, hall in enumerate(s.halls):
        at = f"$.halls[{h}]"
        if hall.id in hall_ids:
            problems.append((f"{at}.id", f"duplicate hall id {hall.id!r}"))
        hall_ids.add(hall.id)
        _check_hall(s, hall, at, item_ids, problems)
    _check_rates(s, problems)
    if s.complaints is not None:
        problems.extend(complaint_problems(s.complaints))
    if s.inspections is not None:
        problems.extend(inspection_problems(s.inspections))
    if s.deemed is not None:
        problems.extend(deemed_problems(s.deemed, set(item_ids)))
    for i, reason in enumerate(s.injection.illegal_reasons):
        if reason in LEGAL_SUSPENSION_REASONS:
            problems.append((f"$.injection.illegal_reasons[{i}]", f"{reason!r} is a legal suspension reason"))
    if s.data_quality is not None:
        problems.extend(check_data_quality(s.data_quality, s.halls))
    if calendar_ok:
        _check_profile(s, problems)
        _check_coverage(s, problems)
    return problems


def _check_time(s: Scenario, problems: Problems) -> bool:
    try:
        ZoneInfo(s.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(("$.timezone", f"unknown time zone {s.timezone!r}"))
        return False
    ok = True
    previous_end = None
    for i, text in enumerate(s.calendar.periods):
        try:
            begin, end = parse_period(text)
        except ValueError as exc:
            problems.append((f"$.calendar.periods[{i}]", str(exc)))
            ok = False
            continue
        if previous_end is not None and begin < previous_end:
            problems.append((f"$.calendar.periods[{i}]", "periods must be in order and must not overlap"))
            ok = False
        previous_end = end
    return ok


def _dupes(values: Iterable[str]) -> list[int]:
    seen: set[str] = set()
    out = []
    for i, v in enumerate(values):
        if v in seen:
            out.append(i)
        seen.add(v)
    return out


def _check_hall(s: Scenario, hall: Hall, at: str, item_ids: dict[str, str], problems: Problems) -> None:
    depts = {d.id: d for d in hall.departments}
    for j in _dupes(d.id for d in hall.departments):
        problems.append((f"{at}.departments[{j}].id", f"duplicate department id {hall.departments[j].id!r}"))
    for j, dept in enumerate(hall.departments):
        for post in dept.posts:
            if post in _RESERVED_POSTS:
                problems.append((f"{at}.departments[{j}].posts.{post}", f"{post!r} is a reserved post name"))
    needs_decide: dict[str, str] = {}
    for k, item in enumerate(hall.items):
        ip = f"{at}.items[{k}]"
        if item.id in item_ids:
            problems.append((f"{ip}.id", f"duplicate item id {item.id!r} (also at {item_ids[item.id]})"))
        item_ids.setdefault(item.id, ip)
        owner = depts.get(item.department)
        if owner is None:
            problems.append(
                (f"{ip}.department", f"unknown department {item.department!r} in hall {hall.id!r}")
            )
            continue
        if item.promised_days == 0:
            if item.steps:
                problems.append((f"{ip}.steps", "an instant item (promised_days 0) has no back-office steps"))
            continue
        needs_decide.setdefault(owner.id, f"{ip}.department")
        for n in _dupes(step.name for step in item.steps):
            problems.append((f"{ip}.steps[{n}].name", f"duplicate step name {item.steps[n].name!r}"))
        for n, step in enumerate(item.steps):
            if step.post == DECIDE_POST or step.post not in owner.posts:
                problems.append(
                    (
                        f"{ip}.steps[{n}].post",
                        f"{step.post!r} is not a back-office post of department {owner.id!r}",
                    )
                )
        total = sum(step.limit_days for step in item.steps)
        if total > item.promised_days:
            problems.append(
                (
                    f"{ip}.steps",
                    f"step limits sum to {total:g} days, more than promised_days {item.promised_days}",
                )
            )
    mix = hall.item_mix
    if mix is not None:
        mp = f"{at}.item_mix"
        for dept_id, count in mix.counts.items():
            if dept_id not in depts:
                problems.append(
                    (f"{mp}.counts.{dept_id}", f"unknown department {dept_id!r} in hall {hall.id!r}")
                )
            elif count and mix.instant_share < 1:
                needs_decide.setdefault(dept_id, f"{mp}.counts.{dept_id}")
        posts = {p for d in hall.departments for p in d.posts if p != DECIDE_POST}
        for post in mix.step_weights:
            if post not in posts:
                problems.append(
                    (f"{mp}.step_weights.{post}", f"{post!r} is not a back-office post in the hall")
                )
    for j, dept in enumerate(hall.departments):
        if dept.id in needs_decide and DECIDE_POST not in dept.posts:
            problems.append(
                (
                    f"{at}.departments[{j}].posts",
                    f"needs a {DECIDE_POST!r} post to decide its promised items ({needs_decide[dept.id]})",
                )
            )
    if not hall.items and (mix is None or not any(mix.counts.get(d, 0) for d in depts)):
        problems.append((f"{at}.items", "the hall has no items (list `items` or give an `item_mix`)"))
    _check_unauthorised_candidates(s, hall, at, problems)


def _check_unauthorised_candidates(s: Scenario, hall: Hall, at: str, problems: Problems) -> None:
    """Unauthorised approvals are made by back-office staff; some department must have them."""
    if s.misconduct.unauthorised_approval > 0 and not any(_back_office(d) for d in hall.departments):
        problems.append(
            (
                f"{at}.departments",
                "unauthorised_approval needs a department with a non-decide back-office post",
            )
        )


def _back_office(d: Department) -> bool:
    return any(p != DECIDE_POST for p in d.posts)


def _check_rates(s: Scenario, problems: Problems) -> None:
    total = sum(getattr(s.misconduct, f) for f in s.misconduct.__struct_fields__)
    total += sum(getattr(s.lookalikes, f) for f in s.lookalikes.__struct_fields__)
    if total > 1 + 1e-9:
        problems.append(
            ("$.misconduct", f"misconduct and lookalike rates sum to {total:g}; one draw per case needs <= 1")
        )
    if s.service.suspension_rate + s.lookalikes.legal_suspension > 1 + 1e-9:
        problems.append(("$.service.suspension_rate", "with lookalikes.legal_suspension it exceeds 1"))


def _check_profile(s: Scenario, problems: Problems) -> None:
    profile = s.arrivals.hourly_profile
    if profile is None:
        return
    hours = s.working_hours()
    if len(profile) != hours:
        problems.append(
            (
                "$.arrivals.hourly_profile",
                f"has {len(profile)} weights; the working day has {hours} working hours",
            )
        )
    elif sum(profile) <= 0:
        problems.append(("$.arrivals.hourly_profile", "weights sum to 0"))


def _check_coverage(s: Scenario, problems: Problems) -> None:
    try:
        calendar = s.build_calendar()
    except HolidayError as exc:
        problems.append(("$.calendar.holidays", f"cannot use the holiday files: {exc}"))
        return
    except (CalendarRangeError, ValueError) as exc:
        problems.append(("$.calendar", f"cannot build the working calendar: {exc}"))
        return
    problems.extend(coverage_problems(calendar, s.calendar, s.start, s.days))
