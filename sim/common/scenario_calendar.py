"""The working calendar of a scenario (hall or market): built from its ``calendar:`` block.

Why one function for both kinds of world: a market and a hall run counted on different
calendars from the same ``calendar:`` block would make their deadlines disagree. The block
names holiday files relative to the scenario file (:func:`resolve_holiday_paths`, applied
when the file is loaded), and a command line can add files or change the fallback
(:func:`with_override`); what it cannot do is leave a run silently beyond the covered years.
"""

from __future__ import annotations

from datetime import date, time, timedelta, tzinfo
from pathlib import Path

import msgspec

from engine.contract.calendar import WorkingCalendar
from engine.contract.event_base import EARLIEST, LATEST
from engine.contract.holidays import CalendarOverride, HolidayError, Problem, how_to_add
from sim.common.scenario_types import CalendarSpec, parse_period

__all__ = ["build_scenario_calendar", "coverage_problems", "resolve_holiday_paths", "with_override"]


def resolve_holiday_paths(spec: CalendarSpec, source: str | Path) -> CalendarSpec:
    """``spec`` with its holiday files made relative to the scenario file ``source``."""
    if not isinstance(spec.holidays, list):
        return spec
    base = Path(source).parent
    files = [p if Path(p).is_absolute() else str(base / p) for p in spec.holidays]
    return msgspec.structs.replace(spec, holidays=files)


def with_override(spec: CalendarSpec, override: CalendarOverride | None) -> CalendarSpec:
    """``spec`` with the command line's holiday files appended and its fallback applied."""
    if override is None:
        return spec
    if override.holidays and spec.holidays == "none":
        raise HolidayError(
            [Problem("--holidays", None, "the scenario's `calendar.holidays` is `none` (no holiday table)")]
        )
    files = [] if not isinstance(spec.holidays, list) else list(spec.holidays)
    holidays: str | list[str] = files + list(override.holidays) if override.holidays else spec.holidays
    beyond = override.beyond_range or spec.beyond_range
    return msgspec.structs.replace(spec, holidays=holidays, beyond_range=beyond)


def build_scenario_calendar(spec: CalendarSpec, *, tz: tzinfo, start: date, days: int) -> WorkingCalendar:
    """The calendar a run is counted on.

    ``holidays: china`` (or a list of files, added to the shipped years) gives the China
    arrangements; ``none`` gives plain Monday-Friday weeks over the run's years and the
    years either side.
    """
    periods: list[tuple[time, time]] = [parse_period(p) for p in spec.periods]
    if spec.holidays != "none":
        return WorkingCalendar.china(
            periods=periods,
            extra_holidays=spec.extra_holidays,
            extra_workdays=spec.extra_workdays,
            tz=tz,
            holiday_files=spec.holidays if isinstance(spec.holidays, list) else (),
            beyond_range=spec.beyond_range,
        )
    end = start + timedelta(days=days)
    return WorkingCalendar(
        first=date(start.year - 1, 1, 1),
        last=date(end.year + 1, 12, 31),
        periods=periods,
        holidays=spec.extra_holidays,
        makeup_workdays=spec.extra_workdays,
        tz=tz,
        beyond_range=spec.beyond_range,
    )


def coverage_problems(
    calendar: WorkingCalendar, spec: CalendarSpec, start: date, days: int
) -> list[tuple[str, str]]:
    """The run's days and the extra days must lie where the calendar can count."""
    out: list[tuple[str, str]] = []
    end = start + timedelta(days=days)
    if start < EARLIEST or end > LATEST:  # its own events.jsonl would fail `detect` and the service
        window = f"events are dated {EARLIEST}..{LATEST} (the event contract's window)"
        return (
            [("$.start", f"{start} is before the window: {window}")]
            if start < EARLIEST
            else [("$.days", f"the run ends on {end}, after the window: {window}")]
        )
    first, last = calendar.first, calendar.last
    if not first <= start <= last:
        out.append(
            ("$.start", f"{start} is outside the calendar ({first} to {last}): {how_to_add(start.year)}")
        )
    elif end > last:
        out.append(
            (
                "$.days",
                f"the run ends on {end}, after the calendar's last day {last}: {how_to_add(last.year + 1)}",
            )
        )
    for key in ("extra_holidays", "extra_workdays"):
        for i, day in enumerate(getattr(spec, key)):
            if not first <= day <= last:
                out.append((f"$.calendar.{key}[{i}]", f"{day} is outside the calendar's years"))
    return out
