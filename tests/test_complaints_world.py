"""The complaints layer: a section that adds complaint events and truth, and touches nothing else."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from engine.contract import events as ev
from sim.common.scenario import ScenarioError, decode_scenario, load_scenario
from sim.common.sections.complaints import ComplaintLookalikes, ComplaintMisconduct, Complaints
from sim.hall.world import SimResult, simulate

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "scenarios" / "smoke.yaml"
COMPLAINTS = ev.COMPLAINT_EVENT_TYPES


def _with_complaints(days: int = 60) -> SimResult:
    base = load_scenario(SMOKE)
    spec = Complaints(
        misconduct=ComplaintMisconduct(
            late_answer=0.1, late_feedback=0.1, no_feedback=0.05, problem_officials=0.2
        ),
        lookalikes=ComplaintLookalikes(extended=0.1, last_day_answer=0.1, last_day_feedback=0.1),
    )
    return simulate(msgspec.structs.replace(base, days=days, complaints=spec))


@pytest.fixture(scope="module")
def world() -> SimResult:
    return _with_complaints()


def test_the_section_adds_complaints_and_leaves_the_hall_untouched(world: SimResult) -> None:
    base = load_scenario(SMOKE)
    plain = simulate(msgspec.structs.replace(base, days=60))
    hall_events = [e for e in world.events if not isinstance(e, COMPLAINTS)]
    assert hall_events == plain.events
    kinds = {
        "complaint_overdue",
        "complaint_feedback_overdue",
        "repeat_complaints",
        "substantiated_complaint",
    }
    looks = {"complaint_extended", "answered_on_last_day", "feedback_on_last_day"}
    hall_truth = [ep for ep in world.truth if ep.kind not in kinds | looks]
    assert hall_truth == plain.truth
    assert {ep.kind for ep in world.truth} >= kinds | looks
    assert {type(e) for e in world.events if isinstance(e, COMPLAINTS)} == set(COMPLAINTS)


def test_the_layer_is_determined_by_the_seed(world: SimResult) -> None:
    again = _with_complaints()
    assert again.events == world.events and again.truth == world.truth


def test_every_complaint_runs_its_workflow_in_order(world: SimResult) -> None:
    order = {t: i for i, t in enumerate(COMPLAINTS)}
    by_id: dict[str, list[ev.Event]] = {}
    for e in world.events:
        if isinstance(e, COMPLAINTS):
            by_id.setdefault(e.complaint_id, []).append(e)
    for cid, evs in by_id.items():
        assert isinstance(evs[0], ev.ComplaintReceived), cid
        assert isinstance(evs[1], ev.ComplaintClassified), cid
        assert [e.ts for e in evs] == sorted(e.ts for e in evs)
        firsts = [
            order[type(e)] for e in evs if not isinstance(e, ev.ComplaintReopened | ev.ComplaintAssigned)
        ]
        assert firsts[:2] == [0, 1]


def test_look_alikes_sit_on_the_right_side_of_their_limits(world: SimResult) -> None:
    cal = world.calendar
    day = cal.day_seconds
    assigned = {e.complaint_id: e.ts for e in reversed(world.events) if isinstance(e, ev.ComplaintAssigned)}
    answered = {e.complaint_id: e.ts for e in reversed(world.events) if isinstance(e, ev.ComplaintAnswered)}
    extended = {e.complaint_id: e.extra_days for e in world.events if isinstance(e, ev.ComplaintExtended)}
    looks = [
        ep for ep in world.truth if ep.lookalike and ep.kind in ("complaint_extended", "answered_on_last_day")
    ]
    assert looks
    for ep in looks:
        cid = ep.subject.removeprefix("complaint:")
        if cid not in answered:
            continue
        used = cal.to_index(answered[cid]) - cal.to_index(assigned[cid])
        if ep.kind == "complaint_extended":
            assert 10 * day < used < (10 + extended[cid]) * day
        else:
            assert 9.8 * day < used < 10 * day


def test_a_bad_section_is_named() -> None:
    text = (
        SMOKE.read_text(encoding="utf-8")
        + "\ncomplaints:\n  misconduct: {late_answer: 0.7}\n  lookalikes: {extended: 0.5}\n"
    )
    with pytest.raises(ScenarioError, match=r"`\$\.complaints\.misconduct` - .*sum above 1"):
        decode_scenario(text, source="x.yaml")
    bad = SMOKE.read_text(encoding="utf-8") + "\ncomplaints:\n  channels: {fax: {per_month: 1}}\n"
    with pytest.raises(ScenarioError, match=r"complaints\.channels"):
        decode_scenario(bad, source="x.yaml")
