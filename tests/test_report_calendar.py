"""The report counts latencies on the run's own working calendar, found by the scenario's digest."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.contract.calendar import WorkingCalendar
from reports.render.report.model import _latencies, build_report, load_run
from reports.render.report.run_calendar import run_calendar
from sim.common.scenario import load_scenario
from supsim.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "scenarios" / "smoke.yaml"
#: Working periods unlike the default (09:00-12:00, 13:30-17:30), still seven hours a day,
#: and no holiday table: 2025-04-04 (Qingming, inside the smoke run's fortnight once moved)
#: is a working day here.
OWN_CALENDAR = 'calendar:\n  periods: ["08:00-11:30", "14:30-18:00"]\n  holidays: none\n'


@pytest.fixture(scope="module")
def own_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A smoke run whose scenario (beside the run folder) has its own working periods."""
    folder = tmp_path_factory.mktemp("own")
    text = SMOKE.read_text(encoding="utf-8")
    text = text.replace(
        'calendar:\n  periods: ["09:00-12:00", "13:30-17:30"]\n  holidays: china\n', OWN_CALENDAR
    )
    text = text.replace("start: 2025-03-03", "start: 2025-03-31").replace(
        "rulebook: rulebooks/default.yaml", f"rulebook: {ROOT / 'scenarios' / 'rulebooks' / 'default.yaml'}"
    )
    assert OWN_CALENDAR in text
    scenario = folder / "own_hours.yaml"
    scenario.write_text(text, encoding="utf-8")
    out = folder / "run"
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 0
    return out


def test_latencies_are_counted_on_the_scenarios_calendar(
    own_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reports.render.report.model as model

    seen: list[WorkingCalendar] = []
    real = model.working_latency_h

    def spy(ts: Any, onset: Any, calendar: WorkingCalendar) -> float:
        seen.append(calendar)
        return real(ts, onset, calendar)

    monkeypatch.setattr(model, "working_latency_h", spy)
    run = load_run(own_run)
    assert run["calendar"].startswith("the scenario's own (own_hours.yaml, digest checked): 08:00-11:30")
    assert seen, "the smoke run has matched alerts"
    own = load_scenario(own_run.parent / "own_hours.yaml").build_calendar()
    for cal in {id(c): c for c in seen}.values():
        assert cal.periods == own.periods and cal.periods != WorkingCalendar.china().periods
        assert cal.is_working_day(date(2025, 4, 4))  # Qingming: a holiday only on the China table
        assert cal.to_index(datetime(2025, 4, 4, 17, 0, tzinfo=cal.tz)) == own.to_index(
            datetime(2025, 4, 4, 17, 0, tzinfo=own.tz)
        )
    tolerance = float(run["tolerance_s"])
    assert run["latencies_h"] == _latencies(own_run, tolerance, own)


def test_an_edited_scenario_does_not_lend_its_calendar(own_run: Path, tmp_path: Path) -> None:
    metrics = json.loads((own_run / "metrics.json").read_bytes())
    changed = tmp_path / "own_hours.yaml"
    changed.write_text((own_run.parent / "own_hours.yaml").read_text(encoding="utf-8") + "\n# edited\n")
    found = run_calendar(tmp_path / "run", metrics, scenarios=(changed,))
    assert found.source is None and "default China calendar" in found.note and "--scenario" in found.note
    same = run_calendar(tmp_path / "run", metrics, scenarios=(own_run.parent / "own_hours.yaml",))
    assert same.source == own_run.parent / "own_hours.yaml"


def test_the_report_states_the_calendar(own_run: Path) -> None:
    report = build_report([own_run])
    assert report["runs"][0]["calendar"].endswith("08:00-11:30, 14:30-18:00 (Asia/Shanghai)")
