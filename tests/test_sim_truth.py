"""Ground truth agrees with the stream: recomputed here, independently, from the events alone.

The reference below reads each case's records the way the shared vocabulary defines the
violations (it is deliberately naive: per-case lists and the calendar's public API), and the
simulator's truth must match it exactly, in both directions: nothing labelled that did not
happen, and nothing happened that was not labelled (no accidental second violation).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from engine.contract.calendar import WorkingCalendar
from engine.contract.events import (
    CaseAccepted,
    CaseClosed,
    CaseDecided,
    CaseResumed,
    CaseSuspended,
    CertificateIssued,
    Event,
    FeeCharged,
    ItemPublished,
    StaffAuthorised,
    StepCompleted,
    StepStarted,
)
from sim.common.scenario import load_scenario
from sim.common.truth import LOOKALIKE_KINDS, VIOLATION_KINDS, Episode
from sim.hall.world import SimResult, simulate

SMOKE = Path(__file__).resolve().parent.parent / "scenarios" / "smoke.yaml"
LEGAL = {"supplement", "expert_review", "hearing", "inspection", "testing", "appraisal", "superior_authority"}
TOLERANCE = timedelta(minutes=30)
DEADLINE_KINDS = ("deadline_at_risk", "overdue", "severely_overdue")
LOGIC_KINDS = set(VIOLATION_KINDS) - {*DEADLINE_KINDS, "step_overdue"}


@pytest.fixture(scope="module")
def run() -> SimResult:
    return simulate(load_scenario(SMOKE))


@pytest.fixture(scope="module")
def world(run: SimResult) -> World:
    return World(run)


class World:
    """The stream regrouped: items, authorisations and each case's records in order."""

    def __init__(self, run: SimResult) -> None:
        self.cal: WorkingCalendar = run.calendar
        self.end = run.end
        self.items = {e.item_id: e for e in run.events if isinstance(e, ItemPublished)}
        self.staff = {e.staff_id: e for e in run.events if isinstance(e, StaffAuthorised)}
        self.cases: dict[str, list[Event]] = defaultdict(list)
        for e in run.events:
            if (case_id := getattr(e, "case_id", None)) is not None:
                self.cases[case_id].append(e)
        self.truth: dict[str, list[Episode]] = defaultdict(list)
        for ep in run.truth:
            self.truth[ep.subject.removeprefix("case:")].append(ep)

    def item(self, case_id: str) -> ItemPublished:
        return self.items[self.cases[case_id][0].item_id]  # type: ignore[attr-defined]

    def legal_pauses(self, case_id: str) -> list[tuple[datetime, datetime | None]]:
        pauses: list[tuple[datetime, datetime | None]] = []
        for e in self.cases[case_id]:
            if isinstance(e, CaseSuspended):
                pauses.append((e.ts, None) if e.reason in LEGAL else (e.ts, e.ts))
            elif isinstance(e, CaseResumed) and pauses[-1][1] is None:
                pauses[-1] = (pauses[-1][0], e.ts)
        return pauses

    def elapsed(self, case_id: str, start: datetime, t: datetime) -> float:
        """Working seconds from ``start`` to ``t`` not inside a legal suspension."""
        total = self.cal.working_seconds(start, t)
        for begin, resume in self.legal_pauses(case_id):
            a, b = max(begin, start), min(resume or t, t)
            if b > a:
                total -= self.cal.working_seconds(a, b)
        return total


def reference_logic(w: World, case_id: str) -> dict[str, datetime]:
    """The first instant each logic kind shows in the case's records."""
    found: dict[str, datetime] = {}
    item = w.item(case_id)
    order = {s.name: k for k, s in enumerate(item.steps)}
    accepted_by = None
    approved = False
    completed: set[int] = set()
    for e in w.cases[case_id]:
        hits: list[str] = []
        stated = getattr(e, "stated_at", None)
        if stated is not None and stated < e.ts - TOLERANCE:
            hits.append("backdated")
        if isinstance(e, CaseAccepted):
            accepted_by = e.staff_id
        elif isinstance(e, StepCompleted):
            k = order[e.step]
            if any(j > k for j in completed):
                hits.append("steps_out_of_order")
            completed.add(k)
        elif isinstance(e, CaseDecided):
            if accepted_by is None:
                hits.append("decision_before_acceptance")
            if len(completed) < len(item.steps):
                hits.append("skipped_step")
            if item.item_id not in w.staff[e.approver_id].may_decide:
                hits.append("unauthorised_approval")
            if item.promised_days > 0 and e.approver_id == accepted_by:
                hits.append("same_person_accept_approve")
            approved = approved or e.decision == "approve"
        elif isinstance(e, CertificateIssued) and not approved:
            hits.append("certificate_without_approval")
        elif isinstance(e, FeeCharged) and e.amount > item.fee_standard + 0.005:
            hits.append("excess_fee")
        elif isinstance(e, CaseSuspended) and e.reason not in LEGAL:
            hits.append("illegal_suspension")
        for kind in hits:
            found.setdefault(kind, e.ts)
    return found


def test_every_kind_appears_a_few_times(run: SimResult) -> None:
    kinds = {kind: sum(ep.kind == kind for ep in run.truth) for kind in VIOLATION_KINDS + LOOKALIKE_KINDS}
    assert all(n >= 3 for n in kinds.values()), kinds


def test_truth_is_sorted_unique_and_well_formed(run: SimResult) -> None:
    keys = [(ep.onset, ep.episode_id) for ep in run.truth]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    for ep in run.truth:
        assert ep.onset.tzinfo is not None
        assert ep.lookalike == (ep.kind in LOOKALIKE_KINDS)
        assert ep.cause == ("lookalike" if ep.lookalike else ep.cause)
        if ep.kind in LOGIC_KINDS:
            assert ep.cause == "injected"
        if ep.lookalike:
            assert ep.confuses and set(ep.confuses) <= set(VIOLATION_KINDS)


def test_logic_truth_equals_what_the_records_show(world: World) -> None:
    for case_id in world.cases:
        expected = reference_logic(world, case_id)
        labelled = {ep.kind: ep.onset for ep in world.truth[case_id] if ep.kind in LOGIC_KINDS}
        assert labelled == expected, case_id


@pytest.mark.parametrize("kind", DEADLINE_KINDS)
def test_deadline_truth_equals_the_recomputed_clock(world: World, run: SimResult, kind: str) -> None:
    scenario = load_scenario(SMOKE)
    day = world.cal.day_seconds
    shift = {
        "deadline_at_risk": -scenario.truth.warning_lead_days,
        "overdue": 0.0,
        "severely_overdue": scenario.truth.severe_overdue_days,
    }[kind]
    checked = 0
    for case_id, events in world.cases.items():
        accepted = next((e for e in events if isinstance(e, CaseAccepted)), None)
        item = world.item(case_id)
        if accepted is None or item.promised_days == 0:
            continue
        limit = (item.promised_days + shift) * day
        closed = next((e.ts for e in events if isinstance(e, CaseClosed)), None)
        late = world.elapsed(case_id, accepted.ts, closed or world.end) > limit
        episodes = [ep for ep in world.truth[case_id] if ep.kind == kind]
        assert late == bool(episodes), case_id
        for ep in episodes:
            checked += 1
            assert ep.end == closed
            assert world.elapsed(case_id, accepted.ts, ep.onset) == limit
            assert world.elapsed(case_id, accepted.ts, ep.onset + timedelta(seconds=1)) > limit
    assert checked >= 3


def test_step_truth_equals_the_recomputed_step_clocks(world: World) -> None:
    day = world.cal.day_seconds
    checked = 0
    for case_id, events in world.cases.items():
        limits = {s.name: s.limit_days * day for s in world.item(case_id).steps}
        done = {e.step: e.ts for e in events if isinstance(e, StepCompleted)}
        late = {ep.params["step"]: ep for ep in world.truth[case_id] if ep.kind == "step_overdue"}
        for started in (e for e in events if isinstance(e, StepStarted)):
            finish = done.get(started.step, world.end)
            over = world.elapsed(case_id, started.ts, finish) > limits[started.step]
            assert over == (started.step in late), (case_id, started.step)
            if over:
                checked += 1
                onset = late[started.step].onset
                assert world.elapsed(case_id, started.ts, onset) == limits[started.step]
                assert late[started.step].staff_id == started.staff_id
    assert checked >= 3


def test_lookalikes_are_legal_but_resemble_their_kind(world: World) -> None:
    day = world.cal.day_seconds
    for case_id, episodes in world.truth.items():
        logic = reference_logic(world, case_id)
        for ep in (ep for ep in episodes if ep.lookalike):
            assert not set(ep.confuses) & set(logic), (case_id, ep.kind)
            at = [e for e in world.cases[case_id] if e.ts == ep.onset]
            item = world.item(case_id)
            if ep.kind == "legal_suspension":
                assert any(isinstance(e, CaseSuspended) and e.reason in LEGAL and e.notice_id for e in at)
            elif ep.kind == "fee_on_fee_item":
                fees = [e.amount for e in at if isinstance(e, FeeCharged)]
                assert fees and 0 < fees[0] <= item.fee_standard
            elif ep.kind == "authorised_reassignment":
                (dec,) = [e for e in at if isinstance(e, CaseDecided)]
                approver = world.staff[dec.approver_id]
                assert item.item_id in approver.may_decide and approver.posts == ("lead",)
            elif ep.kind == "stated_time_within_tolerance":
                stated = [(e.ts, getattr(e, "stated_at", None)) for e in at]
                skews = [ts - when for ts, when in stated if when is not None]
                assert skews and timedelta(0) < skews[0] <= TOLERANCE
            elif ep.kind == "closed_just_before_deadline":
                accepted = next(e for e in world.cases[case_id] if isinstance(e, CaseAccepted))
                assert any(isinstance(e, CaseClosed) for e in at)
                left = item.promised_days * day - world.elapsed(case_id, accepted.ts, ep.onset)
                assert 0 < left <= 3600
                assert not any(other.kind == "overdue" for other in episodes)


def test_excess_fee_episodes_carry_a_fee_above_the_standard(world: World) -> None:
    seen = 0
    for case_id, episodes in world.truth.items():
        for ep in (ep for ep in episodes if ep.kind == "excess_fee"):
            standard = world.item(case_id).fee_standard
            fees = [e for e in world.cases[case_id] if isinstance(e, FeeCharged) and e.ts == ep.onset]
            assert fees and fees[0].amount > standard + 0.005
            assert ep.params["amount"] == fees[0].amount
            seen += 1
    assert seen >= 3


def test_injected_timing_is_labelled_injected(world: World) -> None:
    """Illegal suspensions come near the deadline and do not stop the clock."""
    for episodes in world.truth.values():
        kinds = {ep.kind for ep in episodes}
        if "illegal_suspension" in kinds:
            assert "deadline_at_risk" in kinds
            assert all(ep.cause == "injected" for ep in episodes if ep.kind in DEADLINE_KINDS)
