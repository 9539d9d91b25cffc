"""A record typed in late (补录) is not a back-dated one: the rest of the case tells them apart.

A back-dated record is entered when the act happens, so the case's later acts are recorded after
it. A record typed in late arrives after later acts of its case, recorded at times after the
one it states. ``logic.backdated`` gives the latter no verdict (``backfill_evidence``, on).
"""

from __future__ import annotations

from dataclasses import replace

from case_streams import CaseScript, StepScript, detect_stream, wd

from engine.rules.rulebook import decode_rulebook

END = wd(30, "10:00")
CLEAN = CaseScript()
REVIEW, CHECK = CLEAN.steps
OFF = decode_rulebook("rules: {backdating: {backfill_evidence: false}}")


def _backdated(script: CaseScript, **kw: object) -> list[object]:
    result = detect_stream(script, end=END, **kw)  # type: ignore[arg-type]
    return [a.ts for a in result.alerts if a.rule == "logic.backdated"]


def test_a_step_typed_in_after_the_next_step_is_no_backdating() -> None:
    # review done Tuesday 10:00 but typed in at 16:00, after check was started and completed
    review = StepScript("review", "R1", REVIEW.started, wd(1, "16:00"), completed_stated=wd(1, "10:00"))
    script = replace(CLEAN, steps=(review, CHECK))
    assert _backdated(script) == []
    assert _backdated(script, rulebook=OFF) == [wd(1, "16:00")]


def test_an_acceptance_typed_in_after_the_first_step_started_is_no_backdating() -> None:
    script = replace(CLEAN, accepted=wd(0, "11:00"), accepted_stated=wd(0, "09:05"))
    assert _backdated(script) == []
    assert _backdated(script, rulebook=OFF) == [wd(0, "11:00")]


def test_later_acts_recorded_before_the_stated_time_excuse_nothing() -> None:
    # the record states a time after the check was started and completed: the case did not go on
    # as if the review had been done when stated
    review = StepScript("review", "R1", REVIEW.started, wd(1, "17:00"), completed_stated=wd(1, "15:30"))
    script = replace(CLEAN, steps=(review, CHECK))
    assert _backdated(script) == [wd(1, "17:00")]


def test_a_back_dated_record_entered_when_the_act_happens_is_still_caught() -> None:
    review = replace(REVIEW, completed_stated=wd(0, "17:00"))  # entered Tuesday 10:00, before check
    assert _backdated(replace(CLEAN, steps=(review, CHECK))) == [wd(1, "10:00")]
    assert _backdated(replace(CLEAN, decided_stated=wd(2, "08:00"))) == [wd(2, "10:00")]
