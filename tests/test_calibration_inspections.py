"""Inspection figures in calibration: read off the inspection events, scaled per hall and period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.contract import events as ev
from reports.evaluation.calibration.inspection_metrics import INSPECTION_METRICS, inspection_run_figures
from reports.evaluation.calibration.table import calibrate_figures
from reports.evaluation.calibration.targets import TargetsError, decode_targets, load_targets
from sim.common.scenario import load_scenario
from supsim.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2025, 9, 15, 9, tzinfo=UTC)


def _visit(vid: str, k: int, dept: str, findings: list[tuple[bool, bool]]) -> list[ev.Event]:
    """A visit to ``dept`` with one finding per ``(named, noticed)`` pair."""
    ts = T0 + timedelta(days=k)
    base = {"hall_id": "H1", "inspection_id": vid, "department_id": dept}
    out: list[ev.Event] = [
        ev.InspectionPerformed(event_id=f"{vid}.p", ts=ts, inspectors=["I1", "I2"], **base)
    ]
    for j, (named, noticed) in enumerate(findings):
        fid = f"{vid}.f{j}"
        out.append(
            ev.InspectionFinding(event_id=fid, ts=ts, finding_id=fid, problem="delay", named=named, **base)
        )
        if noticed:
            out.append(
                ev.RectificationIssued(
                    event_id=f"{fid}.r",
                    ts=ts,
                    rectification_id=f"{fid}.r",
                    finding_id=fid,
                    deadline_days=15,
                    **base,
                )
            )
    return out


def test_figures_count_visits_problems_namings_and_notices() -> None:
    events = [
        *_visit("V1", 1, "D1", [(True, True), (True, False)]),  # two named findings: one naming
        *_visit("V2", 2, "D1", [(True, False)]),  # the same unit named again: a second naming
        *_visit("V3", 3, "D2", [(False, False)]),
        *_visit("V4", 4, "D2", []),
        ev.SupervisionSuggested(
            event_id="V3.s",
            ts=T0 + timedelta(days=5),
            hall_id="H1",
            inspection_id="V3",
            department_id="D2",
            suggestion_id="V3.s",
            finding_ids=("V3.f0",),
        ),
    ]
    assert inspection_run_figures(events) == {
        "inspections": 4.0,
        "inspection_problems": 4.0,
        "units_named": 2.0,
        "rectification_notices": 1.0,
        "problems_per_inspection": 1.0,
        "named_per_inspection": 0.5,
        "notices_per_problem": 0.25,
        "corrections": 1.0,  # the notices under the report's word
        "criticised_units": 2.0,  # the namings under the report's word
        "supervision_suggestions": 1.0,
    }


def test_visits_that_find_nothing_leave_the_share_per_problem_not_available() -> None:
    figs = inspection_run_figures(_visit("V1", 1, "D1", []))
    assert figs["inspections"] == 1.0
    assert figs["notices_per_problem"] is None


def test_a_run_without_inspections_shows_them_as_not_available() -> None:
    assert inspection_run_figures([]) == dict.fromkeys(INSPECTION_METRICS)


def test_a_count_is_scaled_by_halls_and_period() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "complaints.yaml")
    targets = load_targets(ROOT / "scenarios" / "targets" / "inspections.yaml")
    runs = [inspection_run_figures([]) | {"inspections": 1229 * 91 / 365 / 11}]
    rows = {r.id: r for r in calibrate_figures(scenario, targets, runs).rows}
    assert len(scenario.halls) == 1
    assert rows["city_inspections"].target == pytest.approx(1229 * 91 / 365 / 11, abs=1e-6)
    assert rows["city_inspections"].within is True
    assert rows["city_problems"].target == pytest.approx(726 * 91 / 365 / 11, abs=1e-6)
    assert rows["city_notices_per_problem"].target == pytest.approx(38 / 726, abs=1e-6)
    assert rows["city_units_named"].mean is None  # n/a: not in this run's figures


def test_a_misspelt_inspection_metric_is_named_with_its_file_and_field() -> None:
    with pytest.raises(TargetsError) as info:
        decode_targets(
            "place: p\nperiod: {calendar_days: 365}\npopulation: {halls: 11}\n"
            "figures:\n  - {id: v, metric: inspection, value: 1229, basis: count, per: [halls]}\n",
            source="targets/inspections.yaml",
        )
    text = str(info.value)
    assert "targets/inspections.yaml" in text
    assert "$.figures[0].metric" in text
    assert "unknown metric 'inspection'" in text


def test_supsim_calibrate_runs_the_inspection_targets(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "calibrate",
            str(ROOT / "scenarios" / "complaints.yaml"),
            "--targets",
            str(ROOT / "scenarios" / "targets" / "inspections.yaml"),
            "--replications",
            "1",
        ]
    )
    out = capsys.readouterr().out
    assert code in (0, 1)
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("city_")}
    assert len(lines) == 7
    assert "n/a" not in lines["city_inspections"]
    assert "n/a" not in lines["city_problems_per_inspection"]
