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
from sim.common.scenario import ScenarioError

__all__ = ["RunCalendar", "describe_calendar", "run_calendar"]

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


def _build(path: Path) -> WorkingCalendar:
    from sim.common.scenario import load_scenario
    from sim.market.scenario import is_market_file, load_market_scenario

    if is_market_file(path):
        return load_market_scenario(path).build_calendar()
    return load_scenario(path).build_calendar()


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
        try:
            cal = _build(path)
        except (ScenarioError, OSError, ValueError):
            continue
        return RunCalendar(
            cal, f"the scenario's own ({path.name}, digest checked): {describe_calendar(cal)}", path
        )
    cal = WorkingCalendar.china()
    missing = f"{name or 'the scenario file'} with sha256 {str(digest)[:12]}…"
    note = (
        f"default China calendar, {describe_calendar(cal)}: {missing} was not found (pass it with --scenario)"
    )
    return RunCalendar(cal, note, None)
