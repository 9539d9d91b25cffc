"""The ``deemed:`` section: truth for the opt-in deemed rules and joint reviews, touching nothing else.

The engine with ``scenarios/rulebooks/deemed.yaml`` must find every ``deemed_approval`` and
``deemed_consent`` episode at its instant and flag none of the look-alikes (the target on clean
streams); the rulebook's ``enabled`` list stays the default's plus the two deemed rules.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from engine.contract import events as ev
from engine.core import Engine
from engine.replay import fixed_clock
from engine.rules.rulebook import Rulebook, load_rulebook
from reports.evaluation.families.deemed import evaluate_deemed
from sim.common.scenario import ScenarioError, decode_scenario, load_scenario
from sim.common.scenario_types import Range
from sim.common.sections.deemed import Deemed, JointReviewSpec
from sim.hall.world import SimResult, simulate

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "scenarios" / "smoke.yaml"
RULEBOOK = ROOT / "scenarios" / "rulebooks" / "deemed.yaml"
DEEMED_KINDS = {"deemed_approval", "deemed_consent", "decided_on_last_day", "written_opinion_absent"}
SPEC = Deemed(joint_review=JointReviewSpec(item_share=1.0, absent_rate=0.4, written_opinion_rate=0.5))


def _world(spec: Deemed | None, days: int = 40) -> SimResult:
    base = load_scenario(SMOKE)
    # Slow-walked cases give undecided deadlines; last-minute closures give last-day decisions.
    mis = msgspec.structs.replace(base.misconduct, slow_walking=0.05)
    looks = msgspec.structs.replace(base.lookalikes, closed_just_before_deadline=0.05)
    return simulate(msgspec.structs.replace(base, days=days, deemed=spec, misconduct=mis, lookalikes=looks))


@pytest.fixture(scope="module")
def world() -> SimResult:
    return _world(SPEC)


def test_the_section_adds_reviews_and_truth_and_leaves_the_hall_untouched(world: SimResult) -> None:
    plain = _world(None)
    assert [e for e in world.events if not isinstance(e, ev.JOINT_REVIEW_EVENT_TYPES)] == plain.events
    assert [ep for ep in world.truth if ep.kind not in DEEMED_KINDS] == plain.truth
    kinds = {ep.kind for ep in world.truth}
    assert kinds >= DEEMED_KINDS, kinds - DEEMED_KINDS


def test_the_deemed_rules_find_every_episode_and_no_look_alike(world: SimResult) -> None:
    engine = Engine(load_rulebook(RULEBOOK), calendar=world.calendar, clock=fixed_clock(world.end))
    alerts = [*engine.process_many(world.events), *engine.finish()]
    report = evaluate_deemed(world.events, alerts, world.truth, calendar=world.calendar, bootstrap=10)
    for score in report.rules:
        assert score.episodes > 0 and (score.fp, score.fn) == (0, 0), score
    assert report.lookalikes_flagged == 0 and all(lk.episodes > 0 for lk in report.lookalikes)


def test_the_rulebook_is_the_default_plus_the_deemed_rules() -> None:
    enabled = load_rulebook(RULEBOOK).rules.enabled
    assert [n for n in enabled if not n.startswith("deemed.")] == list(Rulebook.default().rules.enabled)
    assert {"deemed.approval", "deemed.consent"} <= set(enabled)


def test_listed_items_must_be_promised_items_and_the_section_is_checked() -> None:
    bad = Deemed(joint_review=JointReviewSpec(items=["NO-SUCH-ITEM"]))
    with pytest.raises(ValueError, match=r"deemed.joint_review.items: .*NO-SUCH-ITEM"):
        _world(bad, days=5)
    text = SMOKE.read_text(encoding="utf-8") + "\ndeemed:\n  joint_review:\n    invited: {min: 0, max: 2}\n"
    with pytest.raises(ScenarioError, match=r"deemed.joint_review.invited"):
        decode_scenario(text)


def test_a_range_of_invitees_is_drawn_within_its_bounds(world: SimResult) -> None:
    spec = SPEC.joint_review
    assert spec is not None and spec.invited == Range(min=2, max=4)
    sizes = {len(e.invited) for e in world.events if isinstance(e, ev.JointReviewConvened)}
    assert sizes and sizes <= {2, 3, 4}
