"""Logic warnings: every procedural misconduct is caught at the offending record, and every
look-alike that resembles one is left alone.

Each test starts from the clean case of ``case_streams`` (review → check → decide →
certificate → close, all within the limit) and changes one thing; the expected alerts are
pinned exactly as (rule, level, subject, ts).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from case_streams import CaseScript, StepScript, Suspension, detect_stream, keys, wd

from engine.contract import events as ev

CLEAN = CaseScript()
END = wd(30, "10:00")  # far past every limit: a missed close would show up as deadline alerts


def _alerts(script: CaseScript, **kw: object) -> set[tuple[str, str, str, object]]:
    return keys(detect_stream(script, end=END, **kw).alerts)  # type: ignore[arg-type]


def test_clean_case_raises_nothing() -> None:
    result = detect_stream(CLEAN, end=END)
    assert result.alerts == []
    assert result.stats["applied"] == result.stats["events_in"]
    assert result.stats["open_cases"] == 0


def test_skipped_step_flagged_at_the_decision() -> None:
    script = replace(CLEAN, steps=CLEAN.steps[:1])
    result = detect_stream(script, end=END)
    assert keys(result.alerts) == {("logic.skipped_step", "warning", "case:C1", wd(2, "10:00"))}
    (alert,) = result.alerts
    assert alert.evidence["missing_steps"] == ["check"]
    assert alert.staff_id == "A1"
    assert alert.department_id == "D1"


def test_steps_out_of_order_flagged_at_the_late_earlier_step() -> None:
    script = replace(
        CLEAN,
        steps=(
            StepScript("review", "R1", wd(0, "09:30"), wd(1, "14:00")),
            StepScript("check", "K1", wd(1, "09:30"), wd(1, "11:00")),
        ),
    )
    result = detect_stream(script, end=END)
    assert keys(result.alerts) == {("logic.steps_out_of_order", "warning", "case:C1", wd(1, "14:00"))}
    assert result.alerts[0].evidence["completed_before"] == ["check"]


def test_decision_before_acceptance() -> None:
    script = replace(CLEAN, accepted=wd(2, "10:05"), fee_at=wd(2, "10:06"))
    assert _alerts(script) == {("logic.decision_before_acceptance", "warning", "case:C1", wd(2, "10:00"))}


def test_certificate_without_approval() -> None:
    script = replace(CLEAN, decision="reject")
    assert _alerts(script) == {("logic.certificate_without_approval", "warning", "case:C1", wd(2, "10:30"))}


def test_certificate_with_no_decision_at_all() -> None:
    script = replace(CLEAN, decided=None)
    expected = {
        ("logic.certificate_without_approval", "warning", "case:C1", wd(2, "10:30")),
    }
    assert _alerts(script) == expected


def test_excess_fee() -> None:
    result = detect_stream(replace(CLEAN, fee=80.0), end=END)
    assert keys(result.alerts) == {("logic.excess_fee", "warning", "case:C1", wd(0, "09:10"))}
    assert result.alerts[0].evidence["score"] == 30.0
    assert result.alerts[0].staff_id == "W1"


def test_any_fee_on_a_free_item_is_excess() -> None:
    script = replace(
        CLEAN,
        item_id="I2",
        steps=(),
        fee=5.0,
        decided=wd(0, "11:00"),
        certificate=None,
        closed=wd(0, "11:30"),
    )
    assert _alerts(script) == {("logic.excess_fee", "warning", "case:C1", wd(0, "09:10"))}


def test_split_charges_are_summed() -> None:
    second = ev.FeeCharged(
        event_id="C1-fee2", ts=wd(1, "09:00"), hall_id="H1", case_id="C1", department_id="D1",
        amount=30.0, staff_id="W1",
    )  # fmt: skip
    script = replace(CLEAN, fee=30.0, extra=(second,))
    assert _alerts(script) == {("logic.excess_fee", "warning", "case:C1", wd(1, "09:00"))}


def test_unauthorised_approval() -> None:
    result = detect_stream(replace(CLEAN, approver="X9"), end=END)
    assert keys(result.alerts) == {("logic.unauthorised_approval", "warning", "case:C1", wd(2, "10:00"))}
    assert result.alerts[0].staff_id == "X9"
    assert result.alerts[0].evidence["approver_known"] is True


def test_same_person_accept_approve() -> None:
    script = replace(CLEAN, acceptor="A1", approver="A1")
    assert _alerts(script) == {("logic.same_person_accept_approve", "warning", "case:C1", wd(2, "10:00"))}


@pytest.mark.parametrize(
    "field",
    ["decided_stated", "accepted_stated", "step"],
)
def test_backdated_records(field: str) -> None:
    if field == "decided_stated":
        script, ts = replace(CLEAN, decided_stated=wd(2, "08:00")), wd(2, "10:00")
    elif field == "accepted_stated":
        script, ts = replace(CLEAN, accepted_stated=wd(0, "08:30")), wd(0, "09:05")
    else:
        review = replace(CLEAN.steps[0], completed_stated=wd(0, "17:00"))
        script, ts = replace(CLEAN, steps=(review, CLEAN.steps[1])), wd(1, "10:00")
    result = detect_stream(script, end=END)
    assert keys(result.alerts) == {("logic.backdated", "warning", "case:C1", ts)}


def test_illegal_suspension_flagged_when_it_starts() -> None:
    script = replace(
        CLEAN, suspensions=(Suspension(wd(1, "09:00"), wd(1, "09:20"), "awaiting_leader", None),)
    )
    result = detect_stream(script, end=END)
    assert keys(result.alerts) == {("logic.illegal_suspension", "warning", "case:C1", wd(1, "09:00"))}
    assert result.alerts[0].evidence["reason"] == "awaiting_leader"


# --- look-alikes: resemble a violation, must not raise it -------------------------------


@pytest.mark.parametrize("reason", ["supplement", "expert_review", "hearing", "superior_authority"])
def test_legal_suspension_is_not_flagged(reason: str) -> None:
    script = replace(CLEAN, suspensions=(Suspension(wd(1, "09:00"), wd(1, "16:00"), reason, "N-7"),))
    assert _alerts(script) == set()


@pytest.mark.parametrize(("fee", "flagged"), [(50.0, False), (50.004, False), (20.0, False), (50.01, True)])
def test_fee_on_fee_item_within_standard(fee: float, flagged: bool) -> None:
    rules = {a[0] for a in _alerts(replace(CLEAN, fee=fee))}
    assert rules == ({"logic.excess_fee"} if flagged else set())


def test_authorised_reassignment_is_not_flagged() -> None:
    assert _alerts(replace(CLEAN, approver="A2")) == set()


@pytest.mark.parametrize(
    ("before", "flagged"),
    [(timedelta(minutes=5), False), (timedelta(minutes=30), False), (timedelta(minutes=30, seconds=1), True)],
)
def test_stated_time_within_tolerance(before: timedelta, flagged: bool) -> None:
    script = replace(CLEAN, decided_stated=wd(2, "10:00") - before)
    rules = {a[0] for a in _alerts(script)}
    assert rules == ({"logic.backdated"} if flagged else set())


def test_backdating_tolerance_is_a_rulebook_parameter() -> None:
    from engine.rules.rulebook import Rulebook, decode_rulebook

    strict = decode_rulebook("rules: {backdating: {tolerance_minutes: 2}}")
    script = replace(CLEAN, decided_stated=wd(2, "09:55"))
    assert _alerts(script, rulebook=Rulebook.default()) == set()
    assert {a[0] for a in _alerts(script, rulebook=strict)} == {"logic.backdated"}


def test_instant_case_decided_by_its_acceptor_is_not_same_person() -> None:
    script = replace(
        CLEAN, item_id="I0", case_type="instant", steps=(), fee=None, approver="W1",
        decided=wd(0, "09:20"), certificate=wd(0, "09:25"), closed=wd(0, "09:30"),
    )  # fmt: skip
    assert _alerts(script) == set()


def test_same_person_on_instant_cases_when_configured() -> None:
    from engine.rules.rulebook import decode_rulebook

    everywhere = decode_rulebook("rules: {same_person: {promised_only: false}}")
    script = replace(
        CLEAN, item_id="I0", case_type="instant", steps=(), fee=None, approver="W1",
        decided=wd(0, "09:20"), certificate=wd(0, "09:25"), closed=wd(0, "09:30"),
    )  # fmt: skip
    assert _alerts(script, rulebook=everywhere) == {
        ("logic.same_person_accept_approve", "warning", "case:C1", wd(0, "09:20"))
    }


def test_disabled_rule_stays_silent() -> None:
    from engine.rules.rulebook import Rulebook

    names = tuple(n for n in Rulebook.default().rules.enabled if n != "logic.excess_fee")
    rb = Rulebook.default().with_enabled(*names)
    assert _alerts(replace(CLEAN, fee=80.0), rulebook=rb) == set()


def test_each_logic_alert_only_once_per_case() -> None:
    second_fee = ev.FeeCharged(
        event_id="C1-fee2", ts=wd(1, "09:00"), hall_id="H1", case_id="C1", department_id="D1",
        amount=10.0, staff_id="W1",
    )  # fmt: skip
    result = detect_stream(replace(CLEAN, fee=80.0, extra=(second_fee,)), end=END)
    assert [a.alert_id for a in result.alerts] == ["logic.excess_fee:warning:case:C1"]
