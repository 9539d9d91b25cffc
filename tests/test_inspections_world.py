"""The inspections layer: a section that adds inspection events and truth, and the rules that read them."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import msgspec
import numpy as np
import pytest

from engine.contract import events as ev
from engine.contract.calendar import WorkingCalendar
from engine.replay import detect
from engine.rules.rulebook import Rulebook
from reports.evaluation.families.inspections import evaluate_inspections
from sim.common.hall_model import build_halls
from sim.common.scenario import ScenarioError, decode_scenario, load_scenario
from sim.common.sections.inspections import InspectionLookalikes, InspectionMisconduct, Inspections
from sim.hall.world import SimResult, simulate
from sim.inspections.draws import draw_visits
from sim.inspections.truth import INSPECTION_LOOKALIKE_KINDS, INSPECTION_VIOLATION_KINDS, add_months
from sim.inspections.world import InspectionWorld, inspection_rng, simulate_inspections
from supsim.experiments.run import run_scenario

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "scenarios" / "smoke.yaml"
INSPECTIONS = ev.INSPECTION_EVENT_TYPES
SPEC = Inspections(
    per_month=12.0,
    problems_per_visit=1.0,
    notice_share=0.5,
    suggestion_share=0.6,
    misconduct=InspectionMisconduct(overdue=0.3, named_again=0.4),
    lookalikes=InspectionLookalikes(last_day=0.3, named_after_13_months=0.4),
)
BOOK = Rulebook.default().with_enabled("inspection.rectification_overdue", "inspection.named_twice")


def _year_and_a_half(seed: int) -> tuple[InspectionWorld, datetime, datetime, WorkingCalendar]:
    """The layer alone over 500 days from the smoke hall's start (13-month follow-ups fit in)."""
    scenario = load_scenario(SMOKE)
    calendar = scenario.build_calendar()
    start, _ = scenario.horizon()
    start = start.astimezone(calendar.tz)
    end = start + timedelta(days=500)
    halls = build_halls(scenario, np.random.default_rng(0))
    world = simulate_inspections(SPEC, halls, calendar, start, end, inspection_rng(seed))
    return world, start, end, calendar


@pytest.fixture(scope="module")
def world() -> SimResult:
    base = load_scenario(SMOKE)
    return simulate(msgspec.structs.replace(base, days=60, inspections=SPEC))


def test_the_section_adds_inspections_and_leaves_the_hall_untouched(world: SimResult) -> None:
    plain = simulate(msgspec.structs.replace(load_scenario(SMOKE), days=60))
    assert [e for e in world.events if not isinstance(e, INSPECTIONS)] == plain.events
    mine = set(INSPECTION_VIOLATION_KINDS) | set(INSPECTION_LOOKALIKE_KINDS)
    assert [ep for ep in world.truth if ep.kind not in mine] == plain.truth
    assert {type(e) for e in world.events if isinstance(e, INSPECTIONS)} == set(INSPECTIONS)
    again = simulate(msgspec.structs.replace(load_scenario(SMOKE), days=60, inspections=SPEC))
    assert again.events == world.events and again.truth == world.truth


def test_visits_are_by_groups_of_two_or_three_and_notices_follow_their_findings(world: SimResult) -> None:
    visits = [e for e in world.events if isinstance(e, ev.InspectionPerformed)]
    assert visits and all(len(v.inspectors) in (2, 3) and not v.announced for v in visits)
    found = {e.finding_id: e.ts for e in world.events if isinstance(e, ev.InspectionFinding)}
    notices = [e for e in world.events if isinstance(e, ev.RectificationIssued)]
    assert notices and all(n.finding_id in found and n.ts > found[n.finding_id] for n in notices)
    verified = {e.rectification_id: e.ts for e in world.events if isinstance(e, ev.RectificationVerified)}
    assert all(verified[n.rectification_id] > n.ts for n in notices if n.rectification_id in verified)


def test_suggestions_follow_visits_about_findings_without_a_notice(world: SimResult) -> None:
    findings = {e.finding_id: e for e in world.events if isinstance(e, ev.InspectionFinding)}
    noticed = {e.finding_id for e in world.events if isinstance(e, ev.RectificationIssued)}
    visits = {e.inspection_id: e.ts for e in world.events if isinstance(e, ev.InspectionPerformed)}
    suggestions = [e for e in world.events if isinstance(e, ev.SupervisionSuggested)]
    assert suggestions
    for s in suggestions:
        assert s.ts > visits[s.inspection_id]
        assert all(findings[f].inspection_id == s.inspection_id and f not in noticed for f in s.finding_ids)
    # visits that could get one: some findings without a notice (the run's last days aside)
    eligible = {f.inspection_id for f in findings.values() if f.finding_id not in noticed}
    assert 0.4 < len(suggestions) / len(eligible) < 0.8  # suggestion_share 0.6


def test_suggestions_change_no_other_event_nor_the_truth(world: SimResult) -> None:
    base = load_scenario(SMOKE)
    none = msgspec.structs.replace(SPEC, suggestion_share=0.0)
    without = simulate(msgspec.structs.replace(base, days=60, inspections=none))
    assert [e for e in world.events if not isinstance(e, ev.SupervisionSuggested)] == without.events
    assert world.truth == without.truth


def test_over_a_year_and_a_half_the_rules_find_every_violation_and_no_look_alike() -> None:
    for seed in (1, 2):
        layer, _, end, calendar = _year_and_a_half(seed)
        kinds = {ep.kind for ep in layer.truth}
        assert kinds == set(INSPECTION_VIOLATION_KINDS) | set(INSPECTION_LOOKALIKE_KINDS), seed
        hb = ev.SourceHeartbeat(event_id="hb-end", ts=end, source_id="platform", hall_id="H1")
        alerts = detect([*layer.events, hb], BOOK, reference=end).alerts
        report = evaluate_inspections(layer.events, alerts, layer.truth, calendar=calendar, bootstrap=0)
        assert all(s.fp == 0 and s.fn == 0 and s.tp > 0 for s in report.rules), report.rules
        assert report.lookalikes_flagged == 0 and all(lk.episodes > 0 for lk in report.lookalikes)


def test_thirteen_month_look_alikes_are_thirteen_months_after_a_naming() -> None:
    layer, *_ = _year_and_a_half(3)
    named = {e.inspection_id: e.ts for e in layer.events if isinstance(e, ev.InspectionFinding) and e.named}
    looks = [ep for ep in layer.truth if ep.kind == "named_13_months_apart"]
    assert looks
    for ep in looks:
        first = named[str(ep.params["trigger"]).removesuffix("R")]
        assert add_months(first.date(), 13) <= ep.onset.date() < add_months(first.date(), 14)


def test_a_missed_and_a_spurious_alert_are_counted() -> None:
    layer, _, end, calendar = _year_and_a_half(1)
    hb = ev.SourceHeartbeat(event_id="hb-end", ts=end, source_id="platform", hall_id="H1")
    alerts = detect([*layer.events, hb], BOOK, reference=end).alerts
    overdue = [a for a in alerts if a.rule == "inspection.rectification_overdue"]
    look = next(ep for ep in layer.truth if ep.kind == "rectified_on_last_day")
    spurious = msgspec.structs.replace(overdue[0], alert_id="x", subject=look.subject, ts=look.onset)
    changed = [a for a in alerts if a is not overdue[0]] + [spurious]
    report = evaluate_inspections(layer.events, changed, layer.truth, calendar=calendar, bootstrap=0)
    (score,) = [s for s in report.rules if s.name == "inspection.rectification_overdue"]
    assert (score.fn, score.fp) == (1, 1) and report.lookalikes_flagged == 1


def test_a_bad_section_is_named() -> None:
    text = (
        SMOKE.read_text(encoding="utf-8")
        + "\ninspections:\n  misconduct: {overdue: 0.8}\n  lookalikes: {last_day: 0.5}\n"
    )
    with pytest.raises(ScenarioError, match=r"`\$\.inspections\.misconduct\.overdue` - .*sum above 1"):
        decode_scenario(text, source="x.yaml")
    bad = SMOKE.read_text(encoding="utf-8") + "\ninspections:\n  problems: {rudeness: 1}\n"
    with pytest.raises(ScenarioError, match=r"inspections\.problems"):
        decode_scenario(bad, source="x.yaml")


def test_supsim_run_reports_the_inspection_rules(tmp_path: Path) -> None:
    text = (ROOT / "scenarios" / "complaints.yaml").read_text(encoding="utf-8")
    # The scenario names its rulebook and targets relative to itself; the copy names them absolutely.
    text = re.sub(
        r"(rulebook|targets): ((?:rulebooks|targets)/\S+)",
        lambda m: f"{m[1]}: {ROOT / 'scenarios' / m[2]}",
        text,
    )
    scenario = tmp_path / "complaints.yaml"
    scenario.write_text(text, encoding="utf-8")
    run_scenario(scenario, out_dir=tmp_path / "out", progress=False)
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text(encoding="utf-8"))
    rules = {r["name"]: r for r in metrics["inspections"]["rules"]}
    assert set(rules) == {"inspection.rectification_overdue", "inspection.named_twice"}
    assert all(r["fp"] == 0 and r["fn"] == 0 for r in rules.values())
    assert metrics["inspections"]["figures"]["visits"] > 0
    assert "## Inspections" in (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")


def test_a_run_that_starts_and_ends_mid_month_sees_only_its_share_of_those_months_rounds() -> None:
    # 91 days from the 15th span four calendar months but hold about three months of working days: the
    # expected visits are about three rounds', not four (a full round per partial month inflated a
    # quarter's visits by a third).
    scenario = load_scenario(SMOKE)
    calendar = scenario.build_calendar()
    start = datetime(2025, 9, 15, tzinfo=calendar.tz)
    end = start + timedelta(days=91)
    hall = build_halls(scenario, np.random.default_rng(0))[0]
    spec = Inspections(per_month=200.0, round_days=1)
    counts = []
    for seed in range(5):
        natural, injected, suggestions = np.random.default_rng(seed).spawn(3)
        counts.append(len(draw_visits(spec, hall, calendar, start, end, natural, injected, suggestions)))
    months = 91 / 30.4375
    assert 0.85 * 200 * months < np.mean(counts) < 1.1 * 200 * months
