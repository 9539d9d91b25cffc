"""The complaint rules measured against the complaints layer's truth, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from engine.contract.alerts import Alert
from engine.core import Engine
from engine.replay import fixed_clock
from engine.rules.rulebook import Rulebook
from reports.evaluation.families.complaints import evaluate_complaints
from sim.hall.world import SimResult
from supsim.experiments.run import run_scenario
from tests.test_complaints_world import _with_complaints

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run() -> tuple[SimResult, list[Alert]]:
    world = _with_complaints()
    engine = Engine(Rulebook.default(), calendar=world.calendar, clock=fixed_clock(world.end))
    alerts = engine.process_many(world.events) + engine.finish()
    return world, sorted(alerts, key=lambda a: (a.ts, a.alert_id))


def test_every_complaint_rule_finds_its_truth_and_no_look_alike(run: tuple[SimResult, list[Alert]]) -> None:
    world, alerts = run
    report = evaluate_complaints(world.events, alerts, world.truth, calendar=world.calendar, bootstrap=0)
    for score in report.rules:
        assert score.episodes > 0, score.name
        assert (score.precision, score.recall) == (1.0, 1.0), score
    assert all(lk.episodes > 0 for lk in report.lookalikes)
    assert report.lookalikes_flagged == 0


def test_a_missed_and_a_spurious_alert_are_counted(run: tuple[SimResult, list[Alert]]) -> None:
    world, alerts = run
    overdue = [a for a in alerts if a.rule == "complaint.overdue"]
    look = next(ep for ep in world.truth if ep.kind == "answered_on_last_day")
    spurious = msgspec.structs.replace(overdue[0], alert_id="x", subject=look.subject, ts=look.onset)
    changed = [a for a in alerts if a is not overdue[0]] + [spurious]
    report = evaluate_complaints(world.events, changed, world.truth, calendar=world.calendar, bootstrap=0)
    (score,) = [s for s in report.rules if s.name == "complaint.overdue"]
    assert (score.fn, score.fp) == (1, 1)
    assert report.lookalikes_flagged == 1


def test_supsim_run_reports_the_complaint_rules(tmp_path: Path) -> None:
    text = (ROOT / "scenarios" / "complaints.yaml").read_text(encoding="utf-8")
    rulebook = ROOT / "scenarios" / "rulebooks" / "deemed.yaml"
    targets = ROOT / "scenarios" / "targets" / "complaints.yaml"
    text = (
        text.replace("days: 91", "days: 40")
        .replace("rulebook: rulebooks/deemed.yaml", f"rulebook: {rulebook}")
        .replace("targets: targets/complaints.yaml", f"targets: {targets}")
    )
    scenario = tmp_path / "complaints.yaml"
    scenario.write_text(text, encoding="utf-8")
    result = run_scenario(scenario, out_dir=tmp_path / "out", progress=False)
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text(encoding="utf-8"))
    rules = {r["name"]: r for r in metrics["complaints"]["rules"]}
    assert set(rules) == {
        "complaint.overdue",
        "complaint.feedback_overdue",
        "complaint.repeat",
        "complaint.substantiated",
    }
    assert all(r["fp"] == 0 and r["fn"] == 0 for r in rules.values())
    assert "## Complaints" in (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert "complaint.overdue" in result.table
    # The scenario's rulebook enables the deemed rules, and its deemed: section scores them.
    assert all(r["fp"] == 0 and r["fn"] == 0 for r in metrics["deemed"]["rules"])
