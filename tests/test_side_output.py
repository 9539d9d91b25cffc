"""The side output for users: every reason, in ``detect``'s printout and file, in the service, in metrics."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from case_streams import CaseScript, replay, stream, wd
from starlette.testclient import TestClient
from test_contract_bounds import valid

from engine.core import SIDE_REASONS, Engine
from engine.replay import fixed_clock
from engine.service.app import create_app
from engine.service.auth import TokenSpec
from engine.service.config import ServiceConfig
from engine.service.metrics import SIDE_OUTPUT_STATS
from supsim.cli.main import main

H1 = {"hall_id": "H1", "department_id": "D1"}


def _line(kind: str, event_id: str, ts: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "event_id": event_id, "ts": ts, **fields}


def _hand_written() -> list[dict[str, Any]]:
    """A morning in hall H1: department D1's system and the hall platform's heartbeats.

    Set aside, in file order: a re-sent acceptance (duplicate), a certificate after the
    case closed (after close), a submission stamped long before the watermark (late) and,
    last, a fee stamped months ahead (future).
    """
    c1 = {**H1, "case_id": "C1"}
    return [
        _line("item.published", "i1", "2025-03-03T08:00:00+08:00", **H1, item_id="I1", name="filing",
              promised_days=1),
        _line("staff.authorised", "s1", "2025-03-03T08:00:00+08:00", **H1, staff_id="W1", posts=["window"],
              may_decide=["I1"]),
        _line("source.heartbeat", "hb1", "2025-03-03T08:30:00+08:00", source_id="platform", hall_id="H1"),
        _line("case.submitted", "c1-1", "2025-03-03T09:00:00+08:00", **c1, item_id="I1", channel="window",
              case_type="promised"),
        _line("case.accepted", "c1-2", "2025-03-03T09:05:00+08:00", **c1, item_id="I1", staff_id="W1",
              case_type="promised"),
        _line("case.accepted", "c1-2", "2025-03-03T09:05:00+08:00", **c1, item_id="I1", staff_id="W1",
              case_type="promised"),
        _line("case.decided", "c1-3", "2025-03-03T09:20:00+08:00", **c1, approver_id="W1",
              decision="approve"),
        _line("case.closed", "c1-4", "2025-03-03T09:30:00+08:00", **c1, staff_id="W1", outcome="approved"),
        _line("source.heartbeat", "hb2", "2025-03-03T09:50:00+08:00", source_id="platform", hall_id="H1"),
        _line("certificate.issued", "c1-5", "2025-03-03T09:55:00+08:00", **c1, certificate_no="Z1",
              staff_id="W1"),
        _line("case.submitted", "c2-1", "2025-03-03T08:40:00+08:00", **H1, case_id="C2", item_id="I1",
              channel="window", case_type="promised"),
        _line("source.heartbeat", "hb3", "2025-03-03T10:10:00+08:00", source_id="platform", hall_id="H1"),
        _line("fee.charged", "c1-6", "2025-09-01T10:00:00+08:00", **c1, amount=500.0, staff_id="W1"),
    ]  # fmt: skip


def _write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(msgspec.json.encode(line) + b"\n" for line in lines))
    return path


def test_detect_prints_every_count_and_writes_each_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _write(tmp_path / "export.jsonl", _hand_written())
    side = tmp_path / "side.jsonl"
    code = main(["detect", str(events), "--out", str(tmp_path / "alerts.jsonl"), "--side-output", str(side)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "side output: 1 late, 1 future, 1 duplicate, 1 after_close, 0 out_of_calendar" in printed
    assert f"4 side-output records written to {side}" in printed
    records = [json.loads(line) for line in side.read_bytes().splitlines()]
    assert records == [
        {"event_id": "c1-2", "kind": "case.accepted", "ts": "2025-03-03T09:05:00+08:00",
         "reason": "duplicate", "hall_id": "H1", "subject": "case:C1"},
        {"event_id": "c2-1", "kind": "case.submitted", "ts": "2025-03-03T08:40:00+08:00", "reason": "late",
         "hall_id": "H1", "subject": "case:C2"},
        {"event_id": "c1-5", "kind": "certificate.issued", "ts": "2025-03-03T09:55:00+08:00",
         "reason": "after_close", "hall_id": "H1", "subject": "case:C1"},
        {"event_id": "c1-6", "kind": "fee.charged", "ts": "2025-09-01T10:00:00+08:00",
         "reason": "future", "hall_id": "H1", "subject": "case:C1"},
    ]  # fmt: skip
    # The fee was not applied: 500 yuan on a free item would be an excess fee.
    rules = [json.loads(a)["rule"] for a in (tmp_path / "alerts.jsonl").read_bytes().splitlines()]
    assert rules and "logic.excess_fee" not in rules


def test_detect_with_a_reference_time_confirms_single_source_jumps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one_source = [line for line in _hand_written() if line["kind"] != "source.heartbeat"]
    events = _write(tmp_path / "export.jsonl", one_source)
    assert main(["detect", str(events), "--out", str(tmp_path / "a.jsonl")]) == 0
    assert "0 late, 9 future, 1 duplicate," in capsys.readouterr().out  # nothing confirms the only clock
    args = [
        "detect",
        str(events),
        "--out",
        str(tmp_path / "a.jsonl"),
        "--reference-time",
        "2025-03-03T12:00+08:00",
    ]
    assert main(args) == 0
    assert "1 late, 1 future, 1 duplicate, 1 after_close, 0 out_of_calendar" in capsys.readouterr().out
    assert main([*args[:-1], "2025-03-03T12:00"]) == 2
    assert "timezone offset" in capsys.readouterr().err


def test_out_of_calendar_writes_everything_and_exits_1_naming_the_year(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _hand_written()[:5]  # item, staff, heartbeat, C1 submitted and accepted (2025)
    c3 = {**H1, "case_id": "C3"}
    lines += [
        _line(
            "source.heartbeat",
            f"hb-27-{i}",
            f"2027-01-04T{h}:00:00+08:00",
            source_id="platform",
            hall_id="H1",
        )
        for i, h in enumerate(("09", "10"))
    ]
    lines.insert(5, _line("case.accepted", "c3", "2027-01-04T09:30:00+08:00", **c3, item_id="I1",
                          staff_id="W1", case_type="promised"))  # fmt: skip
    lines.insert(5, _line("case.submitted", "c3-0", "2027-01-04T09:20:00+08:00", **c3, item_id="I1",
                          channel="window", case_type="promised"))  # fmt: skip
    events = _write(tmp_path / "export.jsonl", lines)
    side, out = tmp_path / "side.jsonl", tmp_path / "alerts.jsonl"
    assert main(["detect", str(events), "--out", str(out), "--side-output", str(side)]) == 1
    captured = capsys.readouterr()
    assert "0 future" in captured.out and "out_of_calendar" in captured.out
    assert "2027" in captured.err and "outside" in captured.err
    records = [json.loads(line) for line in side.read_bytes().splitlines()]
    assert {r["event_id"]: r["reason"] for r in records if r["event_id"].startswith("c3")} == {
        "c3-0": "out_of_calendar",
        "c3": "out_of_calendar",
    }
    # C1, accepted in 2025 with a one-day limit, is judged; its alerts are written.
    assert out.exists() and b"case:C1" in out.read_bytes()


def test_a_deadline_beyond_the_calendar_is_reported_once_the_stream_leaves_it() -> None:
    # Accepted on the calendar's last working days; five working days end in 2027.
    script = CaseScript(
        submitted=None, accepted=wd(0, "09:05").replace(year=2026, month=12, day=28), fee=None, steps=(),
        decided=None, certificate=None, closed=None,
    )  # fmt: skip
    end = script.accepted + timedelta(days=10)  # type: ignore[operator]
    events = stream(script, end=end)
    engine = Engine(clock=fixed_clock(end))
    engine.process_many(events)
    engine.finish()
    timers = [r for r in engine.side_output if r.kind == "timer"]
    assert {r.rule for r in timers} >= {"deadline.overdue"}
    assert all(r.reason == "out_of_calendar" and r.subject == "case:C1" and r.event_id == "" for r in timers)
    assert all("2026-12-31" in r.detail for r in timers)
    # The 2027 heartbeat only moves event time; it has nothing to apply, so it is no record.
    assert engine.stats["out_of_calendar"] == engine.side_counts["out_of_calendar"] == len(timers)
    # Had the stream stopped inside the covered years, nothing would be missing yet.
    inside = replay(stream(script, end=script.accepted + timedelta(days=2)))  # type: ignore[operator]
    assert inside.stats["out_of_calendar"] == 0


# --- metrics.json and the service ------------------------------------------------------


def test_run_records_every_reason_in_metrics(tmp_path: Path) -> None:
    from supsim.experiments.run import run_scenario

    root = Path(__file__).resolve().parent.parent
    run_scenario(root / "scenarios" / "smoke.yaml", out_dir=tmp_path, progress=False)
    metrics = json.loads((tmp_path / "metrics.json").read_bytes())
    assert metrics["side_output"] == dict.fromkeys(SIDE_REASONS, 0)
    assert metrics["engine_stats"]["out_of_calendar"] == 0


TOKENS = [TokenSpec(token="admin-token-000000", role="admin")]
AUTH = {"Authorization": "Bearer admin-token-000000", "Content-Type": "application/json"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    config = ServiceConfig(db=str(tmp_path / "log.db"), tokens=TOKENS)
    with TestClient(create_app(config)) as c:
        deadline = time.monotonic() + 5
        while c.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        yield c


def test_the_service_counts_every_reason(client: TestClient) -> None:
    assert set(SIDE_OUTPUT_STATS) == set(SIDE_REASONS)
    lines = _hand_written()
    lines.insert(
        3, _line("camera.heartbeat", "cam-27", "2027-01-04T09:00:00+08:00", hall_id="H1", camera_id="K1")
    )
    body = msgspec.json.encode([line for i, line in enumerate(lines) if i != 6])  # the store drops re-sends
    assert client.post("/v1/events", content=body, headers=AUTH).status_code == 202
    stats = client.get("/v1/stats", headers=AUTH).json()
    # Live, nothing ends the stream: the far-future fee and the 2027 heartbeat wait for a second clock.
    assert stats["side_output"] == {
        "late": 1,
        "future": 0,
        "duplicate": 0,
        "after_close": 1,
        "out_of_calendar": 0,
    }
    assert stats["engine"]["buffered"] >= 2
    text = client.get("/metrics", headers=AUTH).text
    for reason in SIDE_REASONS:
        assert f'supsim_engine_side_output_total{{reason="{reason}"}}' in text


@pytest.mark.parametrize(
    ("kind", "path", "value", "field"),
    [
        ("staff.roster", ("shift_start",), "9999-12-31T23:59:59-23:59", "$.shift_start"),
        ("item.published", ("steps", 0, "limit_days"), 1e304, "$.steps[0].limit_days"),
        ("staff.roster", ("breaks", 0, "end"), "2025-03-03T13:00:00+14:30", "$.breaks[0].end"),
        ("fee.charged", ("amount",), -0.01, "$.amount"),
    ],
)
def test_the_service_answers_422_naming_the_field(
    client: TestClient, kind: str, path: tuple[str | int, ...], value: object, field: str
) -> None:
    doc = valid(kind)
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    r = client.post("/v1/events", content=msgspec.json.encode([valid("camera.heartbeat"), doc]), headers=AUTH)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(1, field)]
    assert client.get("/v1/stats", headers=AUTH).json()["events_stored"] == 0
