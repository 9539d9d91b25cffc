"""Records typed in late (补录) against the order and back-dating rules.

A record typed in by hand a day late is exported with its entry time in ``ts`` and its true
time in ``stated_at``. The engine orders a case's records by ``ts``, so such a record looks
back-dated, and its absence when its successors came looks like a skipped step, a decision
before acceptance, a certificate without approval. These tests pin down what tells the two
apart (the records that follow it in the process, already seen) and the grace during which
an order verdict waits for the missing record; and that real misconduct still alerts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import msgspec
from case_streams import CaseScript, detect_stream, heartbeat, keys, replay, stream, wd

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.core import Engine
from engine.replay import fixed_clock
from engine.rules.rulebook import Rulebook, decode_rulebook

CLEAN = CaseScript()
END = wd(30, "10:00")
#: One working day (7 working hours) of grace for the order rules.
GRACE = decode_rulebook("rules: {order: {confirm_after_hours: 7}}")
NO_EVIDENCE = decode_rulebook("rules: {backdating: {backfill_evidence: false}}")


def _alerts(script: CaseScript, rulebook: Rulebook | None = None) -> set[tuple[str, str, str, datetime]]:
    return keys(detect_stream(script, end=END, rulebook=rulebook).alerts)


# --- a decision typed in after the closing ------------------------------------------------

#: The approval happened at 10:00 on Wednesday, before the certificate (10:30) and the closing
#: (11:00), and was typed in on Thursday morning: the export stamps it Thursday 10:00.
DECISION_AFTER_CLOSE = replace(CLEAN, decided=wd(3, "10:00"), decided_stated=wd(2, "10:00"))


def test_a_decision_typed_in_after_the_closing_clears_the_certificate_verdict() -> None:
    assert _alerts(DECISION_AFTER_CLOSE, GRACE) == set()


def test_without_a_grace_the_certificate_is_judged_at_once_as_before() -> None:
    assert _alerts(DECISION_AFTER_CLOSE) == {
        ("logic.certificate_without_approval", "warning", "case:C1", wd(2, "10:30"))
    }


def test_the_late_decision_still_goes_to_the_side_output() -> None:
    result = detect_stream(DECISION_AFTER_CLOSE, end=END, rulebook=GRACE)
    assert [(s.kind, s.reason) for s in result.side_output] == [("case.decided", "after_close")]


# --- a decision typed in while the case is still open ---------------------------------------

#: Typed in at 15:00 for 10:00; the certificate (10:30) was already recorded; closed on Thursday.
DECISION_TYPED_LATE = replace(
    CLEAN, decided=wd(2, "15:00"), decided_stated=wd(2, "10:00"), closed=wd(3, "09:30")
)


def test_a_decision_typed_in_after_its_certificate_is_not_backdated() -> None:
    assert _alerts(DECISION_TYPED_LATE) == {
        ("logic.certificate_without_approval", "warning", "case:C1", wd(2, "10:30"))
    }
    assert _alerts(DECISION_TYPED_LATE, GRACE) == set()


def test_backfill_evidence_can_be_switched_off() -> None:
    assert _alerts(DECISION_TYPED_LATE, NO_EVIDENCE) == {
        ("logic.certificate_without_approval", "warning", "case:C1", wd(2, "10:30")),
        ("logic.backdated", "warning", "case:C1", wd(2, "15:00")),
    }


def test_an_acceptance_stated_at_the_instant_its_first_step_started_is_not_backdated() -> None:
    # The first step starts the moment a case is accepted: the same instant counts as after.
    script = replace(CLEAN, accepted=wd(0, "11:00"), accepted_stated=wd(0, "09:30"), fee_at=wd(0, "11:05"))
    assert "logic.backdated" not in {a[0] for a in _alerts(script)}


def test_an_acceptance_typed_in_after_the_first_step_started_is_not_backdated() -> None:
    script = replace(CLEAN, accepted=wd(0, "11:00"), accepted_stated=wd(0, "09:05"), fee_at=wd(0, "11:05"))
    assert "logic.backdated" not in {a[0] for a in _alerts(script)}
    assert "logic.backdated" in {a[0] for a in _alerts(script, NO_EVIDENCE)}


# --- real back-dating still alerts ----------------------------------------------------------


def test_a_backdated_step_whose_successors_come_after_it_still_alerts() -> None:
    # Review completed at 10:00 on Tuesday and dated Monday 17:00; the check starts at 10:30.
    review = replace(CLEAN.steps[0], completed_stated=wd(0, "17:00"))
    script = replace(CLEAN, steps=(review, CLEAN.steps[1]))
    expected = {("logic.backdated", "warning", "case:C1", wd(1, "10:00"))}
    assert _alerts(script) == expected
    assert _alerts(script, GRACE) == expected


def test_a_backdated_decision_before_its_certificate_still_alerts() -> None:
    script = replace(CLEAN, decided_stated=wd(1, "16:00"))
    assert _alerts(script, GRACE) == {("logic.backdated", "warning", "case:C1", wd(2, "10:00"))}


# --- the grace: confirmed at the original onset, cleared only by a record stated before -----


def _run_until(script: CaseScript, until: datetime, rulebook: Rulebook) -> list[Alert]:
    """Alerts out of an engine fed the case and a heartbeat at ``until`` (no finish)."""
    events = stream(script)
    events.append(heartbeat(until))
    engine = Engine(rulebook, clock=fixed_clock(until))
    return engine.process_many(sorted(events, key=lambda e: e.ts))


def test_a_certificate_that_never_gets_its_approval_alerts_after_the_grace_at_its_onset() -> None:
    script = replace(CLEAN, decided=None)
    onset = wd(2, "10:30")
    # Seven working hours after Wednesday 10:30 is Thursday 10:30 (09:00-12:00, 13:30-17:30).
    assert _run_until(script, wd(3, "10:00"), GRACE) == []
    (alert,) = _run_until(script, wd(3, "11:00"), GRACE)
    assert (alert.rule, alert.ts, alert.subject) == ("logic.certificate_without_approval", onset, "case:C1")
    assert alert.evidence["certificate_no"] == "Z-C1"
    # Without a grace it comes out with the certificate.
    (now,) = _run_until(script, wd(2, "11:00"), Rulebook.default())
    assert (now.rule, now.ts) == ("logic.certificate_without_approval", onset)


def test_an_approval_stated_after_the_certificate_does_not_clear_it() -> None:
    script = replace(CLEAN, decided=wd(3, "10:00"), decided_stated=wd(2, "10:45"))
    assert _alerts(script, GRACE) == {
        ("logic.certificate_without_approval", "warning", "case:C1", wd(2, "10:30"))
    }


def test_an_approval_recorded_in_the_same_second_after_the_certificate_does_not_clear_it() -> None:
    # No stated time: the engine's order (ts, then id) puts the approval after the certificate.
    script = replace(CLEAN, decided=wd(2, "10:30"))
    events = [e for e in stream(script, end=END) if not isinstance(e, ev.CaseDecided)]
    decided = next(e for e in stream(script) if isinstance(e, ev.CaseDecided))
    events.append(msgspec.structs.replace(decided, event_id="C1-99"))  # sorts after the certificate
    alerts = keys(replay(sorted(events, key=lambda e: e.ts), GRACE).alerts)
    assert alerts == {("logic.certificate_without_approval", "warning", "case:C1", wd(2, "10:30"))}


def test_a_rejection_typed_in_late_does_not_clear_it() -> None:
    script = replace(DECISION_AFTER_CLOSE, decision="reject")
    assert _alerts(script, GRACE) == {
        ("logic.certificate_without_approval", "warning", "case:C1", wd(2, "10:30"))
    }


def test_a_step_typed_in_after_the_closing_clears_the_skipped_step() -> None:
    # Its start is not recorded either, so no step clock runs (the step limit is another matter).
    check = replace(CLEAN.steps[1], started=None, completed=wd(3, "10:00"), completed_stated=wd(1, "15:00"))
    script = replace(CLEAN, steps=(CLEAN.steps[0], check))
    assert _alerts(script, GRACE) == set()
    assert _alerts(script) == {("logic.skipped_step", "warning", "case:C1", wd(2, "10:00"))}


def test_a_step_done_after_the_decision_is_still_a_skipped_step() -> None:
    # Honest late work: completed on Thursday and stated so; the alert lists it as missing.
    check = replace(CLEAN.steps[1], started=wd(3, "09:30"), completed=wd(3, "10:00"))
    script = replace(CLEAN, steps=(CLEAN.steps[0], check), closed=wd(3, "11:00"))
    result = detect_stream(script, end=END, rulebook=GRACE)
    assert keys(result.alerts) == {("logic.skipped_step", "warning", "case:C1", wd(2, "10:00"))}
    assert result.alerts[0].evidence["missing_steps"] == ["check"]


def test_a_confirmed_skipped_step_lists_only_the_steps_that_never_came() -> None:
    review = replace(CLEAN.steps[0], started=None, completed=wd(3, "10:00"), completed_stated=wd(1, "10:00"))
    script = replace(CLEAN, steps=(review,))
    (alert,) = detect_stream(script, end=END, rulebook=GRACE).alerts
    assert (alert.rule, alert.ts) == ("logic.skipped_step", wd(2, "10:00"))
    assert alert.evidence["missing_steps"] == ["check"]
    assert alert.evidence["score"] == 1


def test_an_acceptance_typed_in_after_the_closing_clears_the_decision_before_acceptance() -> None:
    script = replace(CLEAN, accepted=wd(3, "10:00"), accepted_stated=wd(0, "09:05"), steps=(), fee=None)
    enabled = "enabled: [logic.decision_before_acceptance, logic.backdated]"
    rules = decode_rulebook(f"rules: {{{enabled}, order: {{confirm_after_hours: 7}}}}")
    assert _alerts(script, rules) == set()
    default = decode_rulebook(f"rules: {{{enabled}}}")
    assert _alerts(script, default) == {
        ("logic.decision_before_acceptance", "warning", "case:C1", wd(2, "10:00"))
    }


def test_what_is_still_held_when_the_stream_ends_is_judged_as_it_stands() -> None:
    script = replace(CLEAN, decided=None)
    result = detect_stream(script, end=wd(2, "12:00"), rulebook=GRACE)
    assert keys(result.alerts) == {
        ("logic.certificate_without_approval", "warning", "case:C1", wd(2, "10:30"))
    }
