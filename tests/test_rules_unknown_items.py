"""Item codes the catalogue does not know: a catalogue mismatch, not a 越权 decision.

A department system still on an older catalogue version exports its cases under codes the
platform never published. ``logic.unauthorised_approval`` gives no verdict on such a case by
default (nobody can hold authority for an unpublished code), and ``source.unknown_item`` says
once per (hall, department, code) what is wrong instead.
"""

from __future__ import annotations

from case_streams import CaseScript, detect_stream, keys, replay, stream, wd

from engine.contract import events as ev
from engine.rules.rulebook import Rulebook, decode_rulebook

END = wd(30, "10:00")
OLD = "I1-v2019"  # the catalogue publishes I0, I1 and I2 only


def test_a_decision_on_an_unknown_code_is_no_unauthorised_approval_by_default() -> None:
    result = detect_stream(CaseScript(item_id=OLD), end=END)
    assert [a.rule for a in result.alerts if a.rule.startswith("logic.")] == []
    (alert,) = [a for a in result.alerts if a.rule == "source.unknown_item"]
    assert (alert.subject, alert.ts, alert.department_id) == (f"item:D1/{OLD}", wd(0, "09:00"), "D1")
    assert alert.evidence == {
        "item_id": OLD,
        "first_case_id": "C1",
        "first_event_id": alert.evidence["first_event_id"],
    }


def test_judging_unknown_codes_is_the_old_verdict() -> None:
    book = decode_rulebook("rules: {authority: {judge_unknown_items: true}}")
    result = detect_stream(CaseScript(item_id=OLD), end=END, rulebook=book)
    assert ("logic.unauthorised_approval", "warning", "case:C1", wd(2, "10:00")) in keys(result.alerts)


def test_a_known_code_decided_without_authority_is_still_unauthorised() -> None:
    result = detect_stream(CaseScript(approver="X9"), end=END)
    assert keys(result.alerts) == {("logic.unauthorised_approval", "warning", "case:C1", wd(2, "10:00"))}


def test_one_unknown_item_alert_per_department_and_code() -> None:
    cases = (
        CaseScript(case_id="C1", item_id=OLD),
        CaseScript(case_id="C2", item_id=OLD),
        CaseScript(case_id="C3", item_id="I9-v2019"),
    )
    result = detect_stream(*cases, end=END)
    unknown = sorted(a.subject for a in result.alerts if a.rule == "source.unknown_item")
    assert unknown == [f"item:D1/{OLD}", "item:D1/I9-v2019"]


def test_known_codes_raise_no_unknown_item_alert() -> None:
    assert detect_stream(CaseScript(), end=END).alerts == []
    assert "source.unknown_item" in Rulebook.default().rules.enabled


def test_a_stream_without_a_catalogue_is_not_judged() -> None:
    events = [e for e in stream(CaseScript(item_id=OLD), end=END) if not isinstance(e, ev.ItemPublished)]
    assert [
        a for a in replay(sorted(events, key=lambda e: e.ts)).alerts if a.rule == "source.unknown_item"
    ] == []
