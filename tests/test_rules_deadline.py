"""Time-limit rules on the working calendar: warnings, yellow and red cards, step limits.

Limits count working time only (09:00-12:00, 13:30-17:30 on working days), so the expected
instants below are worked out by hand across lunch breaks, weekends, a public holiday and a
make-up working day. The alert ``ts`` is the threshold instant itself.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from case_streams import CaseScript, StepScript, Suspension, at, detect_stream, keys, wd

from engine.contract import events as ev
from engine.rules.rulebook import decode_rulebook

OPEN = replace(CaseScript(), decided=None, certificate=None, closed=None)
END = wd(40, "10:00")


def _rules(result_alerts: set[tuple[str, str, str, object]]) -> set[str]:
    return {a[0] for a in result_alerts}


def test_open_promised_case_warning_yellow_red() -> None:
    # Accepted Mon 09:05, 5 working days: 09:05 next Monday; warning one day before.
    result = detect_stream(OPEN, end=END)
    assert keys(result.alerts) == {
        ("deadline.warning", "warning", "case:C1", wd(4, "09:05")),
        ("deadline.overdue", "yellow", "case:C1", wd(7, "09:05")),
        ("deadline.severe", "red", "case:C1", wd(14, "09:05")),
    }
    overdue = next(a for a in result.alerts if a.rule == "deadline.overdue")
    assert overdue.staff_id == "K1"  # the last holder of the case
    assert overdue.evidence["limit_days"] == 5.0
    assert result.card_levels == {"case:C1": "red"}


@pytest.mark.parametrize(
    ("closed", "expected"),
    [
        (wd(7, "09:04"), {"deadline.warning"}),
        (wd(7, "09:05"), {"deadline.warning"}),  # at the deadline is on time
        (wd(7, "09:06"), {"deadline.warning", "deadline.overdue"}),
    ],
)
def test_closed_just_before_deadline_is_not_overdue(closed: object, expected: set[str]) -> None:
    script = replace(CaseScript(), decided=wd(7, "08:00"), certificate=None, closed=closed)  # type: ignore[arg-type]
    assert _rules(keys(detect_stream(script, end=END).alerts)) == expected


def test_run_ending_at_the_deadline_instant_does_not_fire() -> None:
    # A timer fires only once the watermark is strictly past it.
    assert _rules(keys(detect_stream(OPEN, end=wd(7, "09:05")).alerts)) == {"deadline.warning"}
    assert _rules(keys(detect_stream(OPEN, end=wd(7, "09:05:01")).alerts)) == {
        "deadline.warning",
        "deadline.overdue",
    }


def _one_day_case(accepted: object, **kw: object) -> CaseScript:
    return replace(
        CaseScript(),
        item_id="I2",
        submitted=accepted,
        accepted=accepted,
        fee=None,
        steps=(),
        decided=None,
        certificate=None,
        closed=None,
        **kw,
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("accepted", "deadline"),
    [
        (wd(4, "15:00"), wd(7, "15:00")),  # Friday afternoon → Monday, across the weekend
        (at("2025-04-03", "14:30"), at("2025-04-07", "14:30")),  # Qingming: Friday 4 April is a holiday
        (at("2025-04-25", "14:30"), at("2025-04-27", "14:30")),  # Sunday 27 April is a make-up working day
        (wd(0, "11:00"), wd(1, "11:00")),  # a whole day spans one lunch break
        (wd(0, "09:00"), wd(1, "09:00")),  # limit ends at 17:30: the deadline is the next opening
    ],
)
def test_deadline_instants_on_the_calendar(accepted: object, deadline: object) -> None:
    result = detect_stream(_one_day_case(accepted), end=at("2025-06-30", "10:00"))
    overdue = {a.ts for a in result.alerts if a.rule == "deadline.overdue"}
    assert overdue == {deadline}
    # Lead (1 day) equals the limit: a warning at acceptance would tell nobody anything.
    assert not [a for a in result.alerts if a.rule == "deadline.warning"]


def test_finished_after_closing_time_on_the_last_day_is_on_time() -> None:
    script = replace(_one_day_case(wd(0, "09:00")), decided=wd(0, "17:40"), closed=wd(0, "17:45"))
    assert detect_stream(script, end=END).alerts == []


def test_legal_suspension_pauses_the_clock() -> None:
    # One working day suspended (Tue 09:00 → Wed 09:00): every threshold moves one day.
    script = replace(OPEN, suspensions=(Suspension(wd(1, "09:00"), wd(2, "09:00"), "supplement", "N-1"),))
    assert keys(detect_stream(script, end=END).alerts) == {
        ("deadline.warning", "warning", "case:C1", wd(7, "09:05")),
        ("deadline.overdue", "yellow", "case:C1", wd(8, "09:05")),
        ("deadline.severe", "red", "case:C1", wd(15, "09:05")),
    }


def test_timer_due_during_legal_suspension_waits_for_resume() -> None:
    # Suspended Fri 09:00 (the warning was due 09:05) until Mon 09:00: one working day.
    script = replace(OPEN, suspensions=(Suspension(wd(4, "09:00"), wd(7, "09:00")),))
    assert keys(detect_stream(script, end=END).alerts) == {
        ("deadline.warning", "warning", "case:C1", wd(7, "09:05")),
        ("deadline.overdue", "yellow", "case:C1", wd(8, "09:05")),
        ("deadline.severe", "red", "case:C1", wd(15, "09:05")),
    }


def test_case_still_legally_suspended_at_the_end_gets_no_deadline_alert() -> None:
    script = replace(OPEN, suspensions=(Suspension(wd(1, "09:00"), None),))
    assert detect_stream(script, end=END).alerts == []


def test_illegal_suspension_does_not_pause_the_clock() -> None:
    script = replace(
        OPEN, suspensions=(Suspension(wd(1, "09:00"), wd(2, "09:00"), "leader_travelling", None),)
    )
    assert keys(detect_stream(script, end=END).alerts) == {
        ("logic.illegal_suspension", "warning", "case:C1", wd(1, "09:00")),
        ("deadline.warning", "warning", "case:C1", wd(4, "09:05")),
        ("deadline.overdue", "yellow", "case:C1", wd(7, "09:05")),
        ("deadline.severe", "red", "case:C1", wd(14, "09:05")),
    }


def test_instant_case_limit() -> None:
    script = replace(
        CaseScript(), item_id="I0", case_type="instant", accepted=wd(0, "10:00"), fee=None, steps=(),
        decided=None, certificate=None, closed=None,
    )  # fmt: skip
    assert keys(detect_stream(script, end=END).alerts) == {
        ("deadline.overdue", "yellow", "case:C1", wd(1, "10:00")),
        ("deadline.severe", "red", "case:C1", wd(8, "10:00")),
    }
    lenient = decode_rulebook("rules: {deadline: {instant_limit_days: 2}}")
    overdue = [
        a for a in detect_stream(script, end=END, rulebook=lenient).alerts if a.rule == "deadline.overdue"
    ]
    assert [a.ts for a in overdue] == [wd(2, "10:00")]


def test_instant_case_closed_same_day_is_quiet() -> None:
    script = replace(
        CaseScript(), item_id="I0", case_type="instant", accepted=wd(0, "10:00"), fee=None, steps=(),
        approver="W1", decided=wd(0, "16:00"), certificate=wd(0, "16:10"), closed=wd(0, "17:20"),
    )  # fmt: skip
    assert detect_stream(script, end=END).alerts == []


def test_warning_lead_is_a_parameter() -> None:
    early = decode_rulebook("rules: {deadline: {warning_lead_days: 2.5}}")
    warnings = [
        a.ts for a in detect_stream(OPEN, end=END, rulebook=early).alerts if a.rule == "deadline.warning"
    ]
    # 2.5 working days = 17.5 h after Mon 09:05: 6 h 55 on Monday, 7 h on Tuesday, then
    # 3 h 35 on Wednesday: 09:00-12:00 and, after lunch, 13:30-14:05.
    assert warnings == [wd(2, "14:05")]


def test_step_overdue() -> None:
    # Review limit 2 days from Mon 09:30: Wed 09:30; completed Wed 10:00.
    steps = (
        StepScript("review", "R1", wd(0, "09:30"), wd(2, "10:00")),
        StepScript("check", "K1", wd(2, "10:30"), wd(2, "15:00")),
    )
    script = replace(
        CaseScript(), steps=steps, decided=wd(3, "10:00"), certificate=None, closed=wd(3, "11:00")
    )
    result = detect_stream(script, end=END)
    assert keys(result.alerts) == {("step.overdue", "warning", "case:C1", wd(2, "09:30"))}
    (alert,) = result.alerts
    assert alert.alert_id == "step.overdue:warning:case:C1:review"
    assert alert.staff_id == "R1"
    assert alert.evidence["step"] == "review"


def test_step_completed_at_its_deadline_is_on_time() -> None:
    steps = (
        StepScript("review", "R1", wd(0, "09:30"), wd(2, "09:30")),
        StepScript("check", "K1", wd(2, "10:30"), wd(2, "15:00")),
    )
    script = replace(
        CaseScript(), steps=steps, decided=wd(3, "10:00"), certificate=None, closed=wd(3, "11:00")
    )
    assert detect_stream(script, end=END).alerts == []


def test_step_clock_across_lunch_and_weekend() -> None:
    half_day = ev.ItemPublished(
        event_id="ref-I5", ts=wd(0, "08:00"), hall_id="H1", item_id="I5", department_id="D1", name="quick",
        promised_days=10, steps=(ev.StepSpec("review", "review", 0.5),),
    )  # fmt: skip
    # 3.5 h from Mon 11:00: one hour before lunch, 2.5 h after → 16:00.
    mon = replace(
        CaseScript(case_id="C5", item_id="I5"), fee=None,
        steps=(StepScript("review", "R1", wd(0, "11:00"), None),),
        decided=None, certificate=None, closed=wd(0, "17:00"),
    )  # fmt: skip
    # 3.5 h from Fri 16:00: 1.5 h on Friday, 2 h on Monday → Mon 11:00.
    fri = replace(
        CaseScript(case_id="C6", item_id="I5", submitted=wd(4, "15:00"), accepted=wd(4, "15:05")),
        fee=None, steps=(StepScript("review", "R1", wd(4, "16:00"), None),),
        decided=None, certificate=None, closed=wd(7, "17:00"),
    )  # fmt: skip
    result = detect_stream(mon, fri, end=END, extra=(half_day,))
    assert keys(result.alerts) == {
        ("step.overdue", "warning", "case:C5", wd(0, "16:00")),
        ("step.overdue", "warning", "case:C6", wd(7, "11:00")),
    }


def test_legal_suspension_during_a_step_extends_it() -> None:
    steps = (
        StepScript("review", "R1", wd(0, "09:30"), wd(3, "09:00")),
        StepScript("check", "K1", wd(3, "09:30"), wd(3, "15:00")),
    )
    sus = (Suspension(wd(1, "09:00"), wd(2, "09:00"), "expert_review", "N-2"),)
    base = replace(CaseScript(), steps=steps, decided=wd(3, "16:00"), certificate=None, closed=wd(3, "17:00"))
    # Without the pause the review (due Wed 09:30) is late; with one day paused it is due Thu 09:30.
    assert _rules(keys(detect_stream(base, end=END).alerts)) == {"step.overdue"}
    assert detect_stream(replace(base, suspensions=sus), end=END).alerts == []


def test_department_repeat_red_card_at_k_yellows() -> None:
    cases = [
        replace(OPEN, case_id=f"C{i}", submitted=wd(i, "09:00"), accepted=wd(i, "09:05"), steps=())
        for i in range(3)
    ]
    result = detect_stream(*cases, end=END)
    reds = [a for a in result.alerts if a.rule == "deadline.department_repeat"]
    assert [(a.subject, a.level, a.ts) for a in reds] == [("department:D1", "red", wd(9, "09:05"))]
    assert reds[0].evidence["yellow_cards"] == ["case:C0", "case:C1", "case:C2"]
    assert result.card_levels["department:D1"] == "red"
    two = detect_stream(*cases[:2], end=END)
    assert not [a for a in two.alerts if a.rule == "deadline.department_repeat"]


def test_department_repeat_window_and_episodes() -> None:
    rb = decode_rulebook("rules: {department_repeat: {k: 2, window_days: 1}}")
    # Yellows at Mon 09:05 and Tue 09:00 (less than a working day apart) → red; the
    # third, Thu 09:05, starts a new episode that never completes.
    cases = [
        replace(OPEN, case_id="C0", submitted=wd(0, "09:00"), accepted=wd(0, "09:05"), steps=()),
        replace(OPEN, case_id="C1", submitted=wd(1, "08:59"), accepted=wd(1, "09:00"), steps=()),
        replace(OPEN, case_id="C2", submitted=wd(3, "09:00"), accepted=wd(3, "09:05"), steps=()),
    ]
    only_yellow = rb.with_enabled("deadline.overdue", "deadline.department_repeat")
    reds = [a for a in detect_stream(*cases, end=END, rulebook=only_yellow).alerts if a.level == "red"]
    assert [(a.alert_id, a.ts) for a in reds] == [
        ("deadline.department_repeat:red:department:D1:1", wd(8, "09:00"))
    ]
    # Three yellows two working days apart: never two within one working day.
    spread = [
        replace(OPEN, case_id=f"S{i}", submitted=wd(2 * i, "09:00"), accepted=wd(2 * i, "09:05"), steps=())
        for i in range(3)
    ]
    assert not [a for a in detect_stream(*spread, end=END, rulebook=only_yellow).alerts if a.level == "red"]


def test_department_repeat_counts_episodes() -> None:
    rb = decode_rulebook("rules: {department_repeat: {k: 2}}").with_enabled(
        "deadline.overdue", "deadline.department_repeat"
    )
    cases = [
        replace(OPEN, case_id=f"C{i}", submitted=wd(i, "09:00"), accepted=wd(i, "09:05"), steps=())
        for i in range(5)
    ]
    reds = [a.alert_id for a in detect_stream(*cases, end=END, rulebook=rb).alerts if a.level == "red"]
    assert reds == [
        "deadline.department_repeat:red:department:D1:1",
        "deadline.department_repeat:red:department:D1:2",
    ]
