"""The event contract: round trips, errors that name the field, JSON Lines, schema."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import msgspec
import pytest

from engine.contract import events as ev

TZ = timezone(timedelta(hours=8))
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)


def _samples() -> list[ev.Event]:
    case = {"hall_id": "H1", "case_id": "C1", "department_id": "D1"}
    return [
        ev.ItemPublished(
            event_id="i1",
            ts=T0,
            hall_id="H1",
            item_id="I1",
            department_id="D1",
            name="营业执照",
            promised_days=5,
            fee_standard=0.0,
            steps=(ev.StepSpec("review", "review", 2.0),),
        ),
        ev.StaffAuthorised(
            event_id="a1",
            ts=T0,
            hall_id="H1",
            staff_id="S1",
            department_id="D1",
            posts=("decide",),
            may_decide=("I1",),
        ),
        ev.SourceHeartbeat(event_id="hb", ts=T0, source_id="H1-approvals", hall_id="H1"),
        ev.CaseSubmitted(event_id="e1", ts=T0, item_id="I1", channel="online", case_type="promised", **case),
        ev.CaseAccepted(
            event_id="e2",
            ts=T0,
            item_id="I1",
            staff_id="S2",
            case_type="promised",
            stated_at=T0 - timedelta(hours=3),
            **case,
        ),
        ev.StepStarted(event_id="e3", ts=T0, step="review", post="review", staff_id="S3", **case),
        ev.StepCompleted(event_id="e4", ts=T0, step="review", post="review", staff_id="S3", **case),
        ev.CaseSuspended(event_id="e5", ts=T0, reason="supplement", staff_id="S3", notice_id="N1", **case),
        ev.CaseResumed(event_id="e6", ts=T0, staff_id="S3", **case),
        ev.FeeCharged(event_id="e7", ts=T0, amount=12.5, staff_id="S2", **case),
        ev.CaseDecided(event_id="e8", ts=T0, approver_id="S1", decision="approve", **case),
        ev.CertificateIssued(event_id="e9", ts=T0, certificate_no="Z-1", staff_id="S2", **case),
        ev.CaseClosed(event_id="e10", ts=T0, staff_id="S2", outcome="approved", **case),
        ev.TenderPublished(
            event_id="t1",
            ts=T0,
            tender_id="T1",
            category="construction",
            control_price=1e6,
            tenderer_id="O1",
            agent_id="A1",
        ),
        ev.BidSubmitted(
            event_id="t2",
            ts=T0,
            tender_id="T1",
            bidder_id="B1",
            price=8.5e5,
            traces=ev.BidTraces(ip="10.0.0.1", mac="aa:bb", dongle_serial="D-9"),
        ),
        ev.BidsOpened(event_id="t3", ts=T0, tender_id="T1", n_bids=1),
        ev.ExpertScored(event_id="t4", ts=T0, tender_id="T1", expert_id="X1", bidder_id="B1", score=88),
        ev.TenderAwarded(event_id="t5", ts=T0, tender_id="T1", winner_id="B1", price=8.5e5),
        ev.PresenceDetected(
            event_id="c1",
            ts=T0,
            hall_id="H1",
            camera_id="K1",
            zone="seat",
            present=False,
            confidence=0.93,
            window_id="W1",
        ),
        ev.QueueCount(event_id="c2", ts=T0, hall_id="H1", camera_id="K2", zone="queue", count=7),
        ev.CameraHeartbeat(event_id="c3", ts=T0, hall_id="H1", camera_id="K1"),
        ev.AudioAlert(
            event_id="c4", ts=T0, hall_id="H1", camera_id="K1", sound="raised_voice", confidence=0.7
        ),
        ev.StaffClockIn(event_id="s1", ts=T0, hall_id="H1", staff_id="S2", window_id="W1"),
        ev.StaffClockOut(event_id="s2", ts=T0, hall_id="H1", staff_id="S2"),
        ev.StaffRoster(
            event_id="s3",
            ts=T0,
            hall_id="H1",
            staff_id="S2",
            window_id="W1",
            department_id="D1",
            shift_start=T0,
            shift_end=T0 + timedelta(hours=8),
            breaks=(ev.TimeSpan(start=T0 + timedelta(hours=2), end=T0 + timedelta(hours=2, minutes=10)),),
        ),
        ev.StaffBreak(
            event_id="s4",
            ts=T0,
            hall_id="H1",
            staff_id="S2",
            reason="escort",
            until=T0 + timedelta(minutes=8),
        ),
        ev.QueueTicket(event_id="q1", ts=T0, hall_id="H1", department_id="D1", ticket="A012", case_id="C1"),
        ev.QueueCalled(
            event_id="q2",
            ts=T0 + timedelta(minutes=12),
            hall_id="H1",
            department_id="D1",
            ticket="A012",
            window_id="W1",
            staff_id="S1",
        ),
        *_complaint_samples(),
        *_inspection_samples(),
        *_joint_review_samples(),
    ]


def _inspection_samples() -> list[ev.Event]:
    visit = {"hall_id": "H1", "inspection_id": "V1", "department_id": "D1"}
    return [
        ev.InspectionPerformed(event_id="v1", ts=T0, inspectors=["A1", "A2", "A3"], **visit),
        ev.InspectionFinding(event_id="v2", ts=T0, finding_id="F1", problem="attitude", named=True, **visit),
        ev.RectificationIssued(
            event_id="v3", ts=T0, rectification_id="R1", finding_id="F1", deadline_days=10.0, **visit
        ),
        ev.RectificationVerified(
            event_id="v4", ts=T0, rectification_id="R1", rectified=True, verified_by="A1", **visit
        ),
        ev.SupervisionSuggested(event_id="v5", ts=T0, suggestion_id="S1", finding_ids=("F1",), **visit),
    ]


def _joint_review_samples() -> list[ev.Event]:
    review = {"hall_id": "H1", "case_id": "C1", "department_id": "D1", "review_id": "R1"}
    return [
        ev.JointReviewConvened(event_id="j1", ts=T0, invited=("D2", "D3"), **review),
        ev.JointReviewOpinion(event_id="j2", ts=T0, invitee="D2", opinion="object", written=True, **review),
        ev.JointReviewAbsent(event_id="j3", ts=T0, invitee="D3", **review),
    ]


def _complaint_samples() -> list[ev.Event]:
    plaint = {"hall_id": "H1", "complaint_id": "K1"}
    return [
        ev.ComplaintReceived(event_id="k1", ts=T0, channel="phone", complainant="张三", **plaint),
        ev.ComplaintClassified(
            event_id="k2", ts=T0, category="attitude", department_id="D1", staff_id="S2", **plaint
        ),
        ev.ComplaintAssigned(event_id="k3", ts=T0, department_id="D1", **plaint),
        ev.ComplaintExtended(
            event_id="k4", ts=T0, extra_days=5, reason="site_visit", approved_by="SUP1", **plaint
        ),
        ev.ComplaintAnswered(
            event_id="k5", ts=T0, department_id="D1", staff_id="S3", finding="unsubstantiated", **plaint
        ),
        ev.ComplaintFeedbackGiven(event_id="k6", ts=T0, via="sms", satisfied=False, **plaint),
        ev.ComplaintReopened(event_id="k7", ts=T0, reason="not satisfied", **plaint),
        ev.ComplaintClosed(event_id="k8", ts=T0, outcome="resolved", **plaint),
    ]


def test_every_event_type_has_a_sample_and_round_trips() -> None:
    samples = _samples()
    assert {type(e) for e in samples} == set(ev.EVENT_TYPES)
    for event in samples:
        assert ev.decode_event(ev.encode_event(event)) == event


def test_wire_format_is_tagged_with_kind_and_carries_the_offset() -> None:
    wire = json.loads(ev.encode_event(_samples()[4]))
    assert wire["kind"] == "case.accepted"
    assert wire["ts"] == "2025-03-03T09:00:00+08:00"
    assert "window_id" not in wire  # defaults are omitted on the wire


@pytest.mark.parametrize(
    ("index", "patch", "fragment"),
    [
        (4, {"case_id": None}, "$.case_id"),  # case.accepted with a null id
        (0, {"promised_days": -1}, "$.promised_days"),  # item.published with a negative limit
        (4, {"colour": "red"}, "colour"),  # unknown field
        (4, {"kind": "case.teleported"}, "case.teleported"),  # unknown kind
    ],
)
def test_bad_events_name_the_field(index: int, patch: dict[str, object], fragment: str) -> None:
    base = json.loads(ev.encode_event(_samples()[index]))
    base.update(patch)
    with pytest.raises(ev.EventDecodeError) as info:
        ev.decode_event(json.dumps(base), where="upload.jsonl:7")
    assert "upload.jsonl:7" in str(info.value)
    assert fragment in str(info.value)


def test_naive_timestamps_are_rejected() -> None:
    raw = (
        b'{"kind":"camera.heartbeat","event_id":"x","ts":"2025-01-01T09:00:00","hall_id":"H","camera_id":"K"}'
    )
    with pytest.raises(ev.EventDecodeError, match="timezone"):
        ev.decode_event(raw)


def test_jsonl_round_trip_and_line_numbers_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    assert ev.write_jsonl(_samples(), path) == len(_samples())
    assert list(ev.read_jsonl(path)) == _samples()
    path.write_bytes(path.read_bytes() + b'{"kind":"case.closed"}\n')
    with pytest.raises(ev.EventDecodeError, match=rf"events.jsonl:{len(_samples()) + 1}"):
        list(ev.read_jsonl(path))


def test_roster_and_break_events_are_checked() -> None:
    bad = (
        b'{"kind":"staff.break","event_id":"b","ts":"2025-03-03T09:00:00+08:00","hall_id":"H",'
        b'"staff_id":"S","reason":"nap","until":"2025-03-03T09:10:00+08:00"}'
    )
    with pytest.raises(ev.EventDecodeError, match="reason"):
        ev.decode_event(bad)
    roster = next(e for e in _samples() if isinstance(e, ev.StaffRoster))
    assert b'"breaks":[{"start":' in ev.encode_event(roster)


def test_decode_array_names_the_index() -> None:
    body = msgspec.json.encode([_samples()[3], {"kind": "case.closed", "event_id": "z"}])
    with pytest.raises(ev.EventDecodeError, match=r"\$\[1\]"):
        ev.decode_events(body)


def test_schema_is_generated_and_covers_every_kind() -> None:
    text = json.dumps(ev.event_json_schema())
    for cls in ev.EVENT_TYPES:
        tag = cls.__struct_config__.tag
        assert f'"{tag}"' in text


def test_alert_and_truth_files_round_trip_and_name_bad_lines(tmp_path: Path) -> None:
    from engine.contract.alerts import Alert, read_alerts, write_alerts
    from sim.common.truth import Episode, read_truth, write_truth

    alerts = [Alert(alert_id="a", rule="logic.excess_fee", level="warning", subject="case:C1", ts=T0)]
    episodes = [
        Episode(episode_id="e", kind="excess_fee", subject="case:C1", onset=T0, params={"amount": 5.0})
    ]
    assert write_alerts(alerts, tmp_path / "alerts.jsonl") == 1
    assert write_truth(episodes, tmp_path / "truth.jsonl") == 1
    assert list(read_alerts(tmp_path / "alerts.jsonl")) == alerts
    assert list(read_truth(tmp_path / "truth.jsonl")) == episodes
    (tmp_path / "truth.jsonl").write_bytes(b'\n{"episode_id": "x"}\n')
    with pytest.raises(ValueError, match=r"truth.jsonl:2: .*kind"):
        list(read_truth(tmp_path / "truth.jsonl"))


def test_the_inspection_event_table_holds_every_inspection_kind() -> None:
    kinds = {t for t in ev.EVENT_TYPES if t.__struct_config__.tag.startswith("inspection.")}
    assert set(ev.INSPECTION_EVENT_TYPES) == kinds and len(kinds) == len(ev.INSPECTION_EVENT_TYPES) == 5


def test_the_complaint_event_table_holds_every_complaint_kind() -> None:
    kinds = {t for t in ev.EVENT_TYPES if t.__struct_config__.tag.startswith("complaint.")}
    assert set(ev.COMPLAINT_EVENT_TYPES) == kinds and len(kinds) == len(ev.COMPLAINT_EVENT_TYPES) == 8
