"""The vectorised case-clock evaluation gives exactly the streaming engine's alerts."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core import Engine
from engine.rules import build_rules
from engine.rules.rulebook import load_rulebook
from engine.vectorised.thresholds import batch_alerts, materialise
from engine.vectorised.trace import trace_case_clocks
from sim.common.scenario import load_scenario
from sim.hall.world import SimResult, simulate

SCENARIO = Path("scenarios/county_hall.yaml")


@pytest.fixture(scope="module")
def world() -> SimResult:
    return simulate(load_scenario(SCENARIO))


CASES = [
    ("deadline.warning", "warning_lead_days", [0.0, 0.5, 1.0, 2.5, 3.5, 7.0]),
    ("deadline.overdue", "instant_limit_days", [0.05, 1.0]),
    ("deadline.severe", "severe_overdue_days", [0.0, 2.0, 5.0]),
]


@pytest.mark.parametrize(("rule", "param", "values"), CASES)
def test_batch_equals_streaming(world: SimResult, rule: str, param: str, values: list[float]) -> None:
    book = load_rulebook(load_scenario(SCENARIO).rulebook_path(SCENARIO)).with_enabled(rule)
    trace = trace_case_clocks(world.events, book, calendar=world.calendar)
    params = [{param: v} for v in values]
    batch = batch_alerts(rule, params, trace)
    counts = set()
    for v, p in enumerate(params):
        rules = [r.clone().set_params(**p) for r in build_rules(book)]
        engine = Engine(book, calendar=world.calendar, rules=rules)
        streamed = engine.process_many(world.events) + engine.finish()
        streamed.sort(key=lambda a: (a.ts, a.alert_id))
        assert materialise(batch, v, trace) == streamed
        counts.add(len(streamed))
    assert len(counts) > 1  # the values really change the alerts


def test_batch_rejects_rules_without_batch_path(world: SimResult) -> None:
    book = load_rulebook(load_scenario(SCENARIO).rulebook_path(SCENARIO))
    trace = trace_case_clocks(world.events[:200], book, calendar=world.calendar)
    with pytest.raises(ValueError, match="no batch path"):
        batch_alerts("logic.backdated", [{"tolerance_minutes": 1.0}], trace)
