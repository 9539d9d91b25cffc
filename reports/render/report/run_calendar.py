"""The working calendar a run was counted on, recovered for its report.

Detection latencies are working hours, so a report must count them on the calendar of the
run's own scenario (its working periods, its holiday table, its extra holidays and make-up
days), not on a default: a hall open 08:30–12:00 and 14:00–18:00 would otherwise show
latencies shifted by the hours the default calendar does not count.

A run folder records the scenario's file name and SHA-256 in ``metrics.json``. We look for
that file where it is likely to be (a copy in the run folder, files named on the command
line, beside the run folder, the ``scenarios/`` folder of the working directory and of
this checkout) and accept a candidate **only if its digest matches**, so an edited scenario
never lends its calendar to an older run. When no candidate matches, the report says it
fell back to the default China calendar.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.contract.calendar import WorkingCalendar
from engine.contract.holidays import BeyondRange, CalendarOverride
from sim.common.scenario import ScenarioError

__all__ = ["RunCalendar", "calendar_note", "describe_calendar", "run_calendar"]

_PROJECT_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


class RunCalendar:
    """A calendar and a one-line note of where it came from (shown in the report)."""

    __slots__ = ("calendar", "note", "source")

    def __init__(self, calendar: WorkingCalendar, note: str, source: Path | None) -> None:
        self.calendar = calendar
        self.note = note
        self.source = source


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _candidates(run: Path, name: str | None, scenarios: Sequence[Path]) -> Iterable[Path]:
    yield run / "scenario.yaml"
    yield from scenarios
    if name:
        for folder in (run, run.parent, Path.cwd() / "scenarios", Path.cwd(), _PROJECT_SCENARIOS):
            yield folder / name


def _build(path: Path, override: CalendarOverride | None) -> WorkingCalendar:
    from sim.common.scenario import load_scenario
    from sim.market.scenario import is_market_file, load_market_scenario

    if is_market_file(path):
        return load_market_scenario(path, calendar=override).build_calendar()
    return load_scenario(path, calendar=override).build_calendar()


def _run_override(
    run: Path, metrics: Mapping[str, Any], near: Sequence[Path]
) -> tuple[CalendarOverride, list[str]]:
    """The run's holiday files (found by name and digest) and fallback, from ``metrics.json``.

    A file the run used but the report cannot find leaves its years to the weekdays fallback,
    and the note says so: the report never stops, and never hides what it assumed.
    """
    cov = metrics.get("calendar") or {}
    folders = [
        run,
        run / "holidays",
        *(p.parent for p in near),
        *(p.parent / "holidays" for p in near),
        Path.cwd(),
    ]
    found: list[str] = []
    missing: list[str] = []
    for ref in cov.get("holiday_files") or ():
        hit = next(
            (f for d in folders if (f := d / str(ref["name"])).is_file() and _sha256(f) == ref["sha256"]),
            None,
        )
        if hit is None:
            missing.append(f"{ref['name']} (sha256 {str(ref['sha256'])[:12]}…)")
        else:
            found.append(str(hit))
    beyond: BeyondRange | None = "weekdays" if missing or cov.get("beyond_range") == "weekdays" else None
    return CalendarOverride(tuple(found), beyond), missing


def describe_calendar(cal: WorkingCalendar) -> str:
    """Working periods and time zone, e.g. ``09:00-12:00, 13:30-17:30 (Asia/Shanghai)``."""
    periods = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in cal.periods)
    return f"{periods} ({cal.tz})"


def run_calendar(run: Path, metrics: Mapping[str, Any], *, scenarios: Sequence[Path] = ()) -> RunCalendar:
    """The calendar of ``run``'s scenario, found by digest; the default China calendar otherwise."""
    name, digest = metrics.get("scenario_file"), metrics.get("scenario_sha256")
    seen: set[Path] = set()
    for path in _candidates(run, str(name) if name else None, scenarios):
        key = path.resolve()
        if key in seen or not path.is_file():
            continue
        seen.add(key)
        if digest is not None and _sha256(path) != digest:
            continue
        override, missing = _run_override(run, metrics, [path, *scenarios])
        try:
            cal = _build(path, override)
        except (ScenarioError, OSError, ValueError):
            continue
        note = f"the scenario's own ({path.name}, digest checked): {describe_calendar(cal)}"
        if missing:
            lost = ", ".join(missing)
            note += f"; holiday files of the run not found ({lost}): their years counted as weekdays"
        return RunCalendar(cal, note, path)
    override, _ = _run_override(run, metrics, scenarios)
    cal = WorkingCalendar.china(beyond_range=override.beyond_range or "error")
    absent = f"{name or 'the scenario file'} with sha256 {str(digest)[:12]}…"
    note = (
        f"default China calendar, {describe_calendar(cal)}: {absent} was not found (pass it with --scenario)"
    )
    return RunCalendar(cal, note, None)


def calendar_note(coverage: Mapping[str, Any] | None) -> str | None:
    """One sentence for a report when a run's calendar went beyond the shipped data, else None.

    ``coverage`` is ``metrics.json``'s ``calendar`` field (``WorkingCalendar.coverage()``).
    Why in every report: a deadline counted without the year's holiday arrangement can be
    days off, so a reader must see that the figures rest on an assumption.
    """
    if not coverage:
        return None
    parts: list[str] = []
    assumed = list(coverage.get("years_assumed") or ())
    if coverage.get("beyond_range") == "weekdays":
        years = ", ".join(str(y) for y in assumed) or "none so far"
        parts.append(
            f"holiday arrangements cover {coverage.get('covered')}; with `beyond_range: weekdays` the years "
            f"outside count as plain Monday-Friday weeks, without holidays or make-up days "
            f"(years assumed: {years})"
        )
    if user := list(coverage.get("years_from_user_files") or ()):
        parts.append(f"arrangements for {', '.join(str(y) for y in user)} come from user holiday files")
    return "Calendar: " + "; ".join(parts) + "." if parts else None
