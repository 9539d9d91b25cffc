"""Figure kinds: instant and promised counts, instant completion, pre-deadline vs overdue alerts."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from engine.contract import events as ev
from engine.core import Engine
from engine.replay import fixed_clock
from reports.evaluation.calibration.complaint_metrics import complaint_run_figures
from reports.evaluation.calibration.inspection_metrics import inspection_run_figures
from reports.evaluation.calibration.metrics import run_figures
from reports.evaluation.calibration.targets import TargetsError, decode_targets
from sim.common.scenario import load_scenario
from sim.hall.world import simulate
from supsim.experiments.calibrate_fit import load_rulebook_for

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "scenarios" / "smoke.yaml"


@pytest.fixture(scope="module")
def figures() -> dict[str, float | None]:
    scenario = load_scenario(SMOKE)
    world = simulate(scenario, seed=3)
    engine = Engine(load_rulebook_for(scenario, SMOKE), calendar=world.calendar, clock=fixed_clock(world.end))
    alerts = engine.process_many(world.events)
    alerts.extend(engine.finish())
    return run_figures(scenario, world.events, alerts, world.calendar)


def test_instant_and_promised_counts_add_up(figures: dict[str, float | None]) -> None:
    instant, promised = figures["instant_cases"], figures["promised_cases"]
    assert instant is not None and promised is not None and instant > 0 and promised > 0
    share = figures["instant_share"]
    assert share is not None and instant / (instant + promised) == pytest.approx(share, abs=1e-6)
    rate = figures["instant_completion_rate"]
    assert rate is not None and 0 < rate <= 1


def test_overdue_and_pre_deadline_alerts_are_apart(figures: dict[str, float | None]) -> None:
    assert figures["pre_deadline_warnings"] == figures["deadline_warnings"]
    overdue, yellow = figures["overdue_alerts"], figures["yellow_cards"]
    late, promised = figures["late_closed"], figures["promised_cases"]
    assert overdue is not None and yellow is not None and overdue <= yellow  # overdue is one yellow kind
    assert late is not None and promised is not None and 0 <= late <= promised


def test_new_kinds_are_accepted_by_a_targets_file() -> None:
    kinds = ["instant_cases", "promised_cases", "instant_completion_rate", "overdue_alerts", "late_closed"]
    figures = "\n".join(f"  - {{id: f{i}, metric: {k}, value: 1, basis: rate}}" for i, k in enumerate(kinds))
    assert len(decode_targets(f"place: p\nfigures:\n{figures}\n").figures) == len(kinds)


@pytest.mark.parametrize("kind", ["website_visits", "rejected_vouchers"])
def test_kinds_the_world_cannot_measure_are_refused_by_name(kind: str) -> None:
    with pytest.raises(TargetsError) as err:
        decode_targets(
            f"place: p\nfigures:\n  - {{id: a, metric: {kind}, value: 3, basis: rate}}\n", source="t.yaml"
        )
    text = str(err.value)
    assert "t.yaml" in text and "$.figures[0].metric" in text and f"{kind!r} cannot be simulated" in text


def test_follow_up_kinds_are_read_off_the_complaint_and_inspection_events() -> None:
    """corrections, criticised_units, supervision_suggestions and person_times: accepted and measured."""
    kinds = ["corrections", "criticised_units", "supervision_suggestions", "person_times"]
    figures = "\n".join(f"  - {{id: f{i}, metric: {k}, value: 1, basis: count}}" for i, k in enumerate(kinds))
    text = f"place: p\nperiod: {{calendar_days: 365}}\nfigures:\n{figures}\n"
    assert [f.metric for f in decode_targets(text).figures] == kinds
    base = load_scenario(ROOT / "scenarios" / "complaints.yaml")
    events = simulate(msgspec.structs.replace(base, days=60)).events
    inspections, complaints = inspection_run_figures(events), complaint_run_figures(events)
    assert inspections["corrections"] == inspections["rectification_notices"]
    assert inspections["criticised_units"] == inspections["units_named"]
    assert inspections["criticised_units"] is not None and inspections["criticised_units"] > 0
    suggested = inspections["supervision_suggestions"]
    assert suggested == sum(1 for e in events if isinstance(e, ev.SupervisionSuggested)) and suggested > 0
    suspensions = complaints["person_times"]
    dealt_with = complaints["officials_dealt_with"]
    substantiated = complaints["complaints_substantiated"]
    assert suspensions is not None and dealt_with is not None and substantiated is not None
    assert 0 < dealt_with <= suspensions <= substantiated  # people <= suspensions <= substantiated complaints
