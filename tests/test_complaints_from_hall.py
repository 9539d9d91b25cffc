"""Complaints from the hall's own misconduct: slow-walked and overdue cases make their applicants complain."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from engine.contract import events as ev
from engine.core import Engine
from engine.replay import fixed_clock
from engine.rules.rulebook import Rulebook
from reports.evaluation.families.complaints import evaluate_complaints
from sim.common.scenario import Scenario, ScenarioError, decode_scenario, load_scenario
from sim.common.sections.complaints import FromHall
from sim.hall.world import SimResult, simulate

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "complaints.yaml"


def _scenario(from_hall: FromHall | None, days: int = 45) -> Scenario:
    base = load_scenario(SCENARIO)
    assert base.complaints is not None
    spec = msgspec.structs.replace(base.complaints, from_hall=from_hall)
    return msgspec.structs.replace(base, days=days, complaints=spec)


@pytest.fixture(scope="module")
def plain() -> SimResult:
    return simulate(_scenario(None))


@pytest.fixture(scope="module")
def linked() -> SimResult:
    return simulate(_scenario(FromHall(slow_walked=0.8, overdue=0.3)))


def _encoded(items: list[ev.Event]) -> list[bytes]:
    return [msgspec.json.encode(x) for x in items]


def test_the_knob_only_adds_complaints_of_its_own(plain: SimResult, linked: SimResult) -> None:
    before, after = _encoded(plain.events), _encoded(linked.events)
    extra = set(after) - set(before)
    assert set(before) <= set(after)
    assert extra and all(b'"complaint_id":"HY-KH' in x for x in extra)
    old_truth = {ep.episode_id for ep in plain.truth}
    assert old_truth <= {ep.episode_id for ep in linked.truth}


def test_each_such_complaint_names_the_case_and_the_official_behind_it(linked: SimResult) -> None:
    hall = {ep.episode_id: ep for ep in linked.truth}
    links = [ep for ep in linked.truth if ep.kind == "hall_misconduct_complaint"]
    received = {e.complaint_id for e in linked.events if isinstance(e, ev.ComplaintReceived)}
    classified = {e.complaint_id: e for e in linked.events if isinstance(e, ev.ComplaintClassified)}
    assert {ep.subject.removeprefix("complaint:") for ep in links} == {
        c for c in received if c.startswith("HY-KH")
    }
    kinds = set()
    for link in links:
        cause = hall[str(link.params["episode"])]
        assert cause.subject == link.params["case"] and cause.kind == link.params["from"]
        assert cause.onset < link.onset  # the applicant complains after the limit passed
        kinds.add(cause.kind)
        c = classified.get(link.subject.removeprefix("complaint:"))
        if c is not None:
            assert c.department_id == cause.department_id
            # a slow-walked step names its official; an overdue case is about the unit
            assert c.staff_id == (cause.staff_id if cause.kind == "step_overdue" else None)
    assert kinds == {"step_overdue", "overdue"}


def test_no_chance_means_no_complaint_from_the_hall() -> None:
    world = simulate(_scenario(FromHall(slow_walked=0.0, overdue=0.0), days=20))
    assert not any(e.event_id.startswith("HY-KH") for e in world.events)
    assert world.stats["complaints.from_hall"] == 0


def test_the_complaint_rules_stay_exact_with_the_hall_complaints(linked: SimResult) -> None:
    engine = Engine(Rulebook.default(), calendar=linked.calendar, clock=fixed_clock(linked.end))
    alerts = engine.process_many(linked.events) + engine.finish()
    report = evaluate_complaints(linked.events, alerts, linked.truth, calendar=linked.calendar, bootstrap=0)
    assert (report.overall.fp, report.overall.fn) == (0, 0)
    assert report.overall.tp > 0 and report.lookalikes_flagged == 0
    subst = [ep for ep in linked.truth if ep.kind == "substantiated_complaint" and "-KH" in ep.subject]
    assert subst and all(ep.cause == "injected" for ep in subst)


def test_finding_shares_above_one_are_named() -> None:
    lines = SCENARIO.read_text(encoding="utf-8").splitlines(keepends=True)
    start = lines.index("complaints:\n")
    end = next((i for i in range(start + 1, len(lines)) if lines[i][:1].isalpha()), len(lines))
    knob = ["  from_hall:\n", "    substantiated: 0.8\n", "    partly_substantiated: 0.3\n"]
    text = "".join(lines[:end] + knob + lines[end:])  # at the end of the complaints section
    with pytest.raises(ScenarioError) as err:
        decode_scenario(text, source="c.yaml")
    assert "$.complaints.from_hall.partly_substantiated" in str(err.value)
