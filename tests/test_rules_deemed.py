"""The deemed rules (超时默认, 缺席默认) on hand-made streams: instants on the working calendar,
the look-alikes that must stay silent, and the derived record each alert carries."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.rules.rulebook import Rulebook, decode_rulebook
from tests.case_streams import CaseScript, Suspension, detect_stream, wd

DEFAULT = Rulebook.default()
BOOK = DEFAULT.with_enabled(*DEFAULT.rules.enabled, "deemed.approval", "deemed.consent")
#: Case C1 (item I1, 5 working days) accepted Monday 09:05 and never decided or closed.
UNDECIDED = CaseScript(decided=None, certificate=None, closed=None)
#: Five working days after Monday 09:05 (March 2025 has no holidays).
DEADLINE = wd(7, "09:05")
END = wd(14, "18:00")


def _deemed(alerts: list[Alert], rule: str) -> list[tuple[str, datetime, str | None]]:
    return [(a.subject, a.ts, a.department_id) for a in alerts if a.rule == rule]


def test_an_undecided_case_is_deemed_approved_at_its_deadline_with_a_derived_decision() -> None:
    alerts = detect_stream(UNDECIDED, end=END, rulebook=BOOK).alerts
    (a,) = [a for a in alerts if a.rule == "deemed.approval"]
    assert (a.subject, a.ts, a.level, a.department_id) == ("case:C1", DEADLINE, "warning", "D1")
    assert a.evidence["limit_days"] == 5.0 and a.evidence["deemed_decision"] == "approve"
    record = ev.decode_event(str(a.evidence["record"]))
    assert isinstance(record, ev.CaseDecided)
    assert (record.case_id, record.decision, record.approver_id, record.ts) == (
        "C1",
        "approve",
        "deemed",
        DEADLINE,
    )
    # The same instant as the yellow card: both read the one case clock.
    assert ("case:C1", DEADLINE) in [(x.subject, x.ts) for x in alerts if x.rule == "deadline.overdue"]


def test_the_deemed_rules_are_opt_in() -> None:
    assert "deemed.approval" not in DEFAULT.rules.enabled and "deemed.consent" not in DEFAULT.rules.enabled
    alerts = detect_stream(UNDECIDED, end=END, extra=_review(absent=("D3",))).alerts
    assert not [a for a in alerts if a.rule.startswith("deemed.")]


def test_a_decision_on_the_last_day_is_not_deemed_and_one_after_the_deadline_is() -> None:
    last_day = replace(UNDECIDED, decided=wd(7, "09:04"), closed=wd(8, "10:00"))
    alerts = detect_stream(last_day, end=END, rulebook=BOOK).alerts
    assert _deemed(alerts, "deemed.approval") == []
    assert [a.rule for a in alerts if a.rule == "deadline.overdue"] == ["deadline.overdue"]  # closed late
    late = replace(UNDECIDED, decided=wd(7, "09:06"), decision="reject", closed=wd(8, "10:00"))
    assert _deemed(detect_stream(late, end=END, rulebook=BOOK).alerts, "deemed.approval") == [
        ("case:C1", DEADLINE, "D1")
    ]


def test_a_legal_suspension_moves_the_instant_and_closing_first_stops_it() -> None:
    paused = replace(UNDECIDED, suspensions=(Suspension(wd(1, "09:00"), wd(2, "09:00")),))
    assert _deemed(detect_stream(paused, end=END, rulebook=BOOK).alerts, "deemed.approval") == [
        ("case:C1", wd(8, "09:05"), "D1")
    ]
    withdrawn = replace(UNDECIDED, closed=wd(4, "10:00"))
    assert _deemed(detect_stream(withdrawn, end=END, rulebook=BOOK).alerts, "deemed.approval") == []


def test_instant_cases_are_never_deemed_and_the_threshold_moves_the_instant() -> None:
    instant = replace(UNDECIDED, item_id="I0", case_type="instant", steps=(), fee=None)
    assert _deemed(detect_stream(instant, end=END, rulebook=BOOK).alerts, "deemed.approval") == []
    later = decode_rulebook("rules: {deemed: {approval_after_days: 2}}")
    later = later.with_enabled(*later.rules.enabled, "deemed.approval")
    assert _deemed(detect_stream(UNDECIDED, end=END, rulebook=later).alerts, "deemed.approval") == [
        ("case:C1", wd(9, "09:05"), "D1")
    ]


MEETING = wd(1, "10:00")


def _review(
    *,
    absent: tuple[str, ...] = (),
    opinions: tuple[tuple[str, datetime, bool], ...] = (),
    review_id: str = "R1",
) -> tuple[ev.Event, ...]:
    base = {"hall_id": "H1", "case_id": "C1", "department_id": "D1", "review_id": review_id}
    out: list[ev.Event] = [
        ev.JointReviewConvened(event_id=f"{review_id}-c", ts=MEETING, invited=("D2", "D3", "D4"), **base)
    ]
    out += [
        ev.JointReviewAbsent(event_id=f"{review_id}-a-{d}", ts=MEETING, invitee=d, **base) for d in absent
    ]
    out += [
        ev.JointReviewOpinion(
            event_id=f"{review_id}-o-{d}", ts=t, invitee=d, opinion="consent", written=w, **base
        )
        for d, t, w in opinions
    ]
    return tuple(out)


def test_an_absent_department_without_an_opinion_is_deemed_to_consent() -> None:
    extra = _review(absent=("D3", "D4"), opinions=(("D2", MEETING, False), ("D4", wd(0, "16:00"), True)))
    alerts = detect_stream(CaseScript(), end=END, rulebook=BOOK, extra=extra).alerts
    (a,) = [a for a in alerts if a.rule == "deemed.consent"]
    assert (a.subject, a.ts, a.department_id, a.level) == ("case:C1", MEETING, "D3", "warning")
    assert a.evidence["review_id"] == "R1" and a.evidence["lead_department_id"] == "D1"
    record = ev.decode_event(str(a.evidence["record"]))
    assert isinstance(record, ev.JointReviewOpinion)
    assert (record.invitee, record.opinion, record.review_id, record.ts) == ("D3", "consent", "R1", MEETING)


def test_the_grace_lets_a_late_written_opinion_count_and_the_case_closing_does_not_stop_it() -> None:
    late = _review(absent=("D3",), opinions=(("D3", wd(1, "15:00"), True),))
    # The case closes on Wednesday; the review's state outlives it.
    assert _deemed(
        detect_stream(CaseScript(), end=END, rulebook=BOOK, extra=late).alerts, "deemed.consent"
    ) == [("case:C1", MEETING, "D3")]
    graced = decode_rulebook("rules: {deemed: {opinion_grace_days: 1}}")
    graced = graced.with_enabled("deemed.consent")
    assert (
        _deemed(detect_stream(CaseScript(), end=END, rulebook=graced, extra=late).alerts, "deemed.consent")
        == []
    )
    silent = _review(absent=("D3",))
    assert _deemed(
        detect_stream(CaseScript(), end=END, rulebook=graced, extra=silent).alerts, "deemed.consent"
    ) == [("case:C1", wd(2, "10:00"), "D3")]


def test_one_alert_per_review_and_department() -> None:
    extra = (*_review(absent=("D3",)), *_review(absent=("D3",), review_id="R2"))
    extra = (*extra, ev.JointReviewAbsent(event_id="R1-a-again", ts=MEETING, invitee="D3", hall_id="H1",
                                          case_id="C1", department_id="D1", review_id="R1"))  # fmt: skip
    alerts = detect_stream(CaseScript(), end=END, rulebook=BOOK, extra=extra).alerts
    assert sorted(str(a.evidence["review_id"]) for a in alerts if a.rule == "deemed.consent") == ["R1", "R2"]
