"""Rule families gated by what the stream carries: ``dormant_kinds`` and ``RuleContext.wake``.

A rule's dormant kinds reach it only after it has woken; before, the engine does not even
call it for them (an approval-only stream pays nothing for the camera capacity rule). Waking
takes effect from the next event applied, inside the batch being applied.
"""

from __future__ import annotations

from typing import Any

import pytest
from case_streams import CaseScript, StepScript, stream, wd
from test_discipline_capacity import acc, at, roster, sub

from engine.contract import events as ev
from engine.core import Engine
from engine.rules.base import Rule
from engine.rules.discipline.capacity import CapacityRule


class Sleeper(Rule):
    """Wakes on a fee; watches completed steps only once awake (test-only, not registered)."""

    name = "test.sleeper"
    kinds = ("fee.charged",)
    dormant_kinds = ("step.completed",)

    def __init__(self) -> None:
        self.seen: list[str] = []

    def check_one(self, event: Any, case: Any) -> None:
        self.seen.append(event.event_id)
        if isinstance(event, ev.FeeCharged):
            self.ctx.wake(self)
            self.ctx.wake(self)  # idempotent


def _exported(events: list[ev.Event], rules: list[Rule] | None = None) -> Engine:
    """An engine for an export taken at its newest event (nothing is held as ahead)."""
    end = max(e.ts for e in events).timestamp()
    return Engine(clock=lambda: end, rules=rules)


def _two_cases() -> list[ev.Event]:
    # C1's review completes before C2's fee (wd 1, 12:00), its check after it.
    c2_steps = (
        StepScript("review", "R1", wd(0, "09:40"), wd(1, "11:00")),
        StepScript("check", "K1", wd(1, "12:30"), wd(1, "16:00")),
    )
    return stream(CaseScript("C1", fee=None), CaseScript("C2", fee_at=wd(1, "12:00"), steps=c2_steps))


@pytest.mark.parametrize("how", ["one batch", "one by one"])
def test_dormant_kinds_reach_the_rule_from_its_wake_on(how: str) -> None:
    rule = Sleeper()
    events = _two_cases()
    engine = _exported(events, rules=[rule])
    if how == "one batch":
        engine.process_many(events)
    else:
        for e in events:
            engine.process_one(e)
    engine.finish()
    steps = {e.event_id: e.ts for e in events if isinstance(e, ev.StepCompleted)}
    fee_ts = wd(1, "12:00")
    assert [e for e in rule.seen if e not in steps] == ["C2-02"]  # the fee itself
    assert {e for e in rule.seen if e in steps} == {e for e, ts in steps.items() if ts > fee_ts}
    assert {e for e, ts in steps.items() if ts < fee_ts}  # some steps did come before the wake


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    original = CapacityRule.check_one

    def counted(self: CapacityRule, event: Any, state: Any) -> None:
        calls.append(type(event).__name__)
        original(self, event, state)

    monkeypatch.setattr(CapacityRule, "check_one", counted)
    return calls


def test_the_capacity_rule_is_not_called_on_an_approval_only_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting(monkeypatch)
    events = stream(CaseScript("C1"), CaseScript("C2"))
    engine = _exported(events)
    engine.process_many(events)
    engine.finish()
    assert calls == []


def test_a_roster_wakes_the_capacity_rule_for_later_walk_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting(monkeypatch)
    before = [sub("W0", at(7, 50)), acc("W0", at(7, 55))]  # before the roster: nothing to estimate
    after = [sub(f"W{k}", at(9, k)) for k in range(1, 4)]
    end = ev.SourceHeartbeat(event_id="hb", ts=at(9, 40), source_id="hall-H", hall_id="H")
    events = [*before, *roster(1), *after, end]
    engine = _exported(events)
    alerts = engine.process_many(events) + engine.finish()
    assert calls == ["CaseSubmitted"] * 3
    # Three walk-ins from 9:01 at one window: the second certainly waits from 9:02; 20 min on, an alert.
    assert [a.rule for a in alerts if a.rule == CapacityRule.name] == [CapacityRule.name]
