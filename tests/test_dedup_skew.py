"""Engine settings for impaired delivery: the dedup window and the skew tolerance."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import msgspec
import pytest
from case_streams import CaseScript, detect_stream, keys, replay, stream, wd

from engine.contract import events as ev
from engine.rules.rulebook import RulebookError, decode_rulebook

END = wd(40, "10:00")
DEDUP = decode_rulebook("sources: {dedup_window: 3600}", where="dedup")
SKEW = decode_rulebook("sources: {skew_tolerance: {'dept:H1/D*': 300}}", where="skew")


def _reexported(after: timedelta) -> list[ev.Event]:
    """The clean case, with its review step's completion re-exported under a new id ``after`` later."""
    events = stream(CaseScript(), end=END)
    done = next(e for e in events if isinstance(e, ev.StepCompleted) and e.step == "review")
    copy = msgspec.structs.replace(done, event_id=done.event_id + "~dup")
    # The copy arrives once the stream has moved ``after`` past the original (an arrival order).
    i = next(i for i, e in enumerate(events) if e.ts > done.ts + after)
    return [*events[:i], copy, *events[i:]]


def test_a_copy_under_a_new_id_is_dropped_within_the_window_only() -> None:
    soon = _reexported(timedelta(minutes=20))
    assert replay(soon).stats["duplicates"] == 0  # off by default: the copy is applied
    res = replay(soon, DEDUP)
    assert res.stats["duplicates"] == 1
    assert [(r.event_id, r.reason) for r in res.side_output] == [("C1-04~dup", "duplicate")]
    # Same alerts as the clean stream (none): nothing else is touched.
    assert keys(res.alerts) == keys(replay(stream(CaseScript(), end=END), DEDUP).alerts)
    # A repeat long after the window is a record of its own, as without the setting.
    assert replay(_reexported(timedelta(days=1)), DEDUP).stats["duplicates"] == 0


def test_records_of_other_steps_or_cases_at_one_instant_are_not_copies() -> None:
    other = replace(CaseScript(), case_id="C2")
    events = stream(CaseScript(), other, end=END)  # two cases, every record at the same instants
    assert replay(events, DEDUP).stats["duplicates"] == 0


@pytest.mark.parametrize(
    ("late_by", "with_tolerance"),
    [
        (timedelta(minutes=2), set()),  # closed within the tolerance after the limit: not judged
        (timedelta(minutes=10), {("deadline.overdue", "yellow", "case:C1", wd(7, "09:05"))}),
    ],
)
def test_skew_tolerance_judges_the_deadline_later_and_keeps_the_limit_instant(
    late_by: timedelta, with_tolerance: set[tuple[str, str, str, object]]
) -> None:
    # Accepted Monday 09:05, 5 working days: the limit is next Monday 09:05.
    script = replace(CaseScript(), decided=wd(7, "08:00"), certificate=None, closed=wd(7, "09:05") + late_by)
    overdue = {("deadline.overdue", "yellow", "case:C1", wd(7, "09:05"))}
    without = {k for k in keys(detect_stream(script, end=END).alerts) if k[0] == "deadline.overdue"}
    assert without == overdue
    got = {
        k for k in keys(detect_stream(script, end=END, rulebook=SKEW).alerts) if k[0] == "deadline.overdue"
    }
    assert got == with_tolerance


def test_skew_tolerance_applies_to_the_matching_sources_only() -> None:
    script = replace(CaseScript(), decided=wd(7, "08:00"), certificate=None, closed=wd(7, "09:07"))
    other = decode_rulebook("sources: {skew_tolerance: {'dept:H1/D9': 300}}", where="skew")
    got = {k[0] for k in keys(detect_stream(script, end=END, rulebook=other).alerts)}
    assert "deadline.overdue" in got


def test_step_limit_is_judged_after_the_tolerance_too() -> None:
    steps = CaseScript().steps
    # The review step (2 working days from Monday 09:30) completed 3 minutes after its limit.
    started = steps[0].started
    assert started is not None
    late = replace(steps[0], completed=started + timedelta(days=2, minutes=3))
    script = replace(CaseScript(), steps=(late, *steps[1:]))
    without = {k[0] for k in keys(detect_stream(script, end=END).alerts)}
    assert "step.overdue" in without
    assert "step.overdue" not in {k[0] for k in keys(detect_stream(script, end=END, rulebook=SKEW).alerts)}


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("sources: {dedup_window: -1}", r"`\$.sources.dedup_window`"),
        ("sources: {skew_tolerance: {'dept:*': -5}}", r"`\$.sources.skew_tolerance\[...\]`"),
        ("sources: {skew_tolerance: {'': 5}}", r"`\$` - .* at `key` in `\$.sources.skew_tolerance`"),
    ],
)
def test_bad_settings_are_named(text: str, path: str) -> None:
    with pytest.raises(RulebookError, match=r"rb.yaml: " + path):
        decode_rulebook(text, where="rb.yaml")
