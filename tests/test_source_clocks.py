"""Event time per source: per-source watermarks, idle sources, per-source lateness, source.silent."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from case_streams import keys, replay, wd
from test_runtime import MIXED

from engine.contract import events as ev
from engine.replay import detect
from engine.rules.rulebook import Rulebook, RulebookError, decode_rulebook

#: The scripted cases are sparse (a department silent for days), so it stays active for three
#: working days; it is expected from the first record (its first batch comes after 08:00's heartbeat).
PER_SOURCE = decode_rulebook(
    "sources: {watermark: per_source, idle_after: 75600, expected: ['dept:H1/D1']}", where="per_source"
)
END = max(e.ts for e in MIXED)


def _heartbeats(days: int, every_min: int = 5) -> list[ev.SourceHeartbeat]:
    """The platform's heartbeats (another source) every few minutes, 08:00-18:00 each day."""
    out = []
    for d in range(days):
        t = wd(d, "08:00")
        while t <= wd(d, "18:00"):
            out.append(
                ev.SourceHeartbeat(event_id=f"hb-{t:%m%d%H%M}", ts=t, source_id="platform", hall_id="H1")
            )
            t += timedelta(minutes=every_min)
    return out


def _hourly(events: list[ev.Event], *, reverse: bool = False) -> list[ev.Event]:
    """Department records held to the next full hour (a batch sync), heartbeats on time.

    ``reverse``: each batch is sent newest first (out of order within the source).
    """

    def arrival(e: ev.Event) -> tuple[datetime, int, float]:
        if isinstance(e, ev.SourceHeartbeat):
            return e.ts, 0, 0.0
        due = e.ts.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return due, 1, -e.ts.timestamp() if reverse else e.ts.timestamp()

    return sorted(events, key=arrival)


def _in_order() -> list[ev.Event]:
    hb = [h for h in _heartbeats(31) if h.ts < END]
    return sorted([*MIXED, *hb], key=lambda e: (e.ts, e.event_id))


def _run(events: list[ev.Event], rulebook: Rulebook | None = None):  # type: ignore[no-untyped-def]
    return detect(events, rulebook, reference=END)


def test_a_batched_source_is_late_with_one_watermark_and_on_time_with_its_own() -> None:
    clean = _in_order()
    want = replay(clean)
    assert want.stats["late"] == 0 and len(want.alerts) > 10
    batched = _hourly(clean)
    shared = _run(batched)
    assert shared.stats["late"] > 50  # the heartbeats move the one watermark past the held records
    assert keys(shared.alerts) != keys(want.alerts)
    own = _run(batched, PER_SOURCE)
    assert own.stats["late"] == 0
    assert keys(own.alerts) == keys(want.alerts)


def test_an_idle_source_stops_holding_the_watermark_back() -> None:
    batched = _hourly(_in_order())
    quick = msgspec.structs.replace(
        PER_SOURCE, sources=msgspec.structs.replace(PER_SOURCE.sources, idle_after=1200)
    )
    assert _run(batched, quick).stats["late"] > 0  # idle within its hour: its next batch is late
    assert _run(batched, PER_SOURCE).stats["late"] == 0
    unexpected = msgspec.structs.replace(
        PER_SOURCE, sources=msgspec.structs.replace(PER_SOURCE.sources, expected=())
    )
    assert _run(batched, unexpected).stats["late"] > 0  # its first batch found the release past it


def test_lateness_per_source_covers_disorder_within_a_batch() -> None:
    clean = _in_order()
    reversed_batches = _hourly(clean, reverse=True)
    assert _run(reversed_batches, PER_SOURCE).stats["late"] > 0
    book = msgspec.structs.replace(
        PER_SOURCE, sources=msgspec.structs.replace(PER_SOURCE.sources, lateness={"dept:H1/*": 3600})
    )
    res = _run(reversed_batches, book)
    assert res.stats["late"] == 0
    assert keys(res.alerts) == keys(replay(clean).alerts)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (
            "sources: {lateness: {'dept:*': 60}}",
            r"`\$.sources.lateness` - needs `sources.watermark: per_source`",
        ),
        ("sources: {idle_after: 60}", r"`\$.sources.idle_after` - needs `sources.watermark: per_source`"),
        ("sources: {watermark: per_source, lateness: {'dept:*': -1}}", r"`\$.sources.lateness\[...\]`"),
        ("sources: {watermark: each}", r"`\$.sources.watermark`"),
        ("sources: {expected: [dept:H1/D1]}", r"`\$.sources.expected` - needs"),
        ("sources: {watermark: per_source, expected: ['dept:*']}", r"`\$.sources.expected\[0\]` - 'dept:\*'"),
    ],
)
def test_bad_source_settings_are_named(text: str, path: str) -> None:
    with pytest.raises(RulebookError, match=r"messy.yaml: " + path):
        decode_rulebook(text, where="messy.yaml")


def _submitted(i: int, t: datetime) -> ev.CaseSubmitted:
    return ev.CaseSubmitted(
        event_id=f"s{i}", ts=t, hall_id="H1", case_id=f"C{i}", department_id="D1", item_id="I1",
        channel="window", case_type="promised",
    )  # fmt: skip


def _silences(events: list[ev.Event], hours: float = 4.0) -> list[tuple[str, datetime, str | None]]:
    text = f"rules: {{enabled: [source.silent], source: {{silent_hours: {hours}}}}}"
    res = detect(
        sorted(events, key=lambda e: (e.ts, e.event_id)), decode_rulebook(text), reference=wd(3, "18:00")
    )
    return [(a.subject, a.ts, a.evidence["silent_since"]) for a in res.alerts]  # type: ignore[misc]


def test_a_silent_source_raises_one_alert_per_episode_at_the_working_hour_it_reached() -> None:
    dept = [_submitted(1, wd(0, "09:30")), _submitted(2, wd(0, "10:00")), _submitted(3, wd(2, "09:00"))]
    got = _silences([*dept, *_heartbeats(3)])
    # 10:00-12:00 and 13:30-15:30 are four working hours; the second episode starts day 2 09:00.
    assert got == [
        ("source:dept:H1/D1", wd(0, "15:30"), wd(0, "10:00").isoformat()),
        ("source:dept:H1/D1", wd(2, "14:30"), wd(2, "09:00").isoformat()),
    ]
    # the other sources' batching does not move the instant (heartbeats every two hours)
    assert _silences([*dept, *_heartbeats(3, every_min=120)]) == got


def test_a_night_is_not_silence_and_nothing_is_raised_when_everyone_is_quiet() -> None:
    dept = [_submitted(1, wd(0, "17:00")), _submitted(2, wd(1, "09:20"))]
    assert _silences([*dept, *_heartbeats(1)], hours=1.0) == []  # 30 + 20 working minutes
    assert _silences([_submitted(1, wd(0, "10:00"))], hours=1.0) == []  # no other source speaks


def test_the_opt_in_rule_raises_nothing_unless_enabled() -> None:
    events = sorted([_submitted(1, wd(0, "10:00")), *_heartbeats(2)], key=lambda e: (e.ts, e.event_id))
    res = detect(events, reference=wd(1, "18:00"))
    assert "alerts.source.silent" not in res.stats
    assert not res.alerts


def _judged_to(sources: str) -> Rulebook:
    """Per-source watermarks that never give up on a source, ending the stream as ``sources``."""
    return msgspec.structs.replace(
        PER_SOURCE,
        sources=msgspec.structs.replace(PER_SOURCE.sources, end_of_stream=sources, idle_after=10**7),
    )


def _export() -> list[ev.Event]:
    """The mixed stream with D1's last two days still in the exchange."""
    cut = END - timedelta(days=2)
    return [e for e in _in_order() if not (getattr(e, "department_id", None) == "D1" and e.ts > cut)]


def test_the_end_judges_a_case_only_up_to_what_its_source_delivered() -> None:
    """D1's last two days are still in the exchange when the export is taken: its timers due
    after its newest record are not fired at the end (counted instead); everything else is.
    (D1 never goes idle here, so no timer of it fired before the end: a live engine would not
    have fired them either.)"""
    export = _export()
    d1_newest = max(e.ts for e in export if getattr(e, "department_id", None) == "D1")
    stream_end = _run(export, _judged_to("stream"))
    source_end = _run(export, _judged_to("source"))

    def on_d1_after(alerts: list[Any]) -> set[tuple[str, str, str, datetime]]:
        d1 = {
            e.case_id for e in export if getattr(e, "department_id", None) == "D1" and hasattr(e, "case_id")
        }
        return {k for k in keys(alerts) if k[2].removeprefix("case:") in d1 and k[3] > d1_newest}

    judged_blind = on_d1_after(stream_end.alerts)
    assert judged_blind  # the stream's end fires D1's timers past anything D1 sent
    assert on_d1_after(source_end.alerts) == set()
    assert keys(source_end.alerts) <= keys(stream_end.alerts)
    # what else went: only the department-level repeat cards those alerts would have counted towards
    others = keys(stream_end.alerts) - keys(source_end.alerts) - judged_blind
    assert {(rule, subject) for rule, _, subject, _ in others} <= {
        ("deadline.department_repeat", "department:D1")
    }
    assert source_end.stats["unjudged_at_end"] >= len(judged_blind)
    assert "unjudged_at_end" not in stream_end.stats  # the default's stats are as before


def test_judging_to_the_source_needs_per_source_watermarks() -> None:
    with pytest.raises(
        RulebookError, match=r"`\$.sources.end_of_stream` - needs `sources.watermark: per_source`"
    ):
        decode_rulebook("sources: {end_of_stream: source}", where="x.yaml")


def test_detect_says_how_many_timers_the_end_left_unjudged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from supsim.cli.main import main

    events = tmp_path / "export.jsonl"
    ev.write_jsonl(_export(), events)
    book = tmp_path / "rulebook.yaml"
    book.write_text(
        "sources: {watermark: per_source, idle_after: 10000000, end_of_stream: source}\n", encoding="utf-8"
    )
    assert main(["detect", str(events), "--rulebook", str(book), "--out", str(tmp_path / "a.jsonl")]) == 0
    unjudged = detect(_export(), _judged_to("source"), reference=END).stats["unjudged_at_end"]
    assert unjudged > 0
    assert f"not judged at the end: {unjudged:,} timer(s)" in capsys.readouterr().out
