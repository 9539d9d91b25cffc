"""Bounds in the event contract: values at and beyond each bound, and nothing decodable breaks the engine.

The bounds are the documented table (docs/engine.md, "Bounds"), written out here by hand
rather than read back from the Structs, so a bound that drifts from its documentation fails.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.contract import events as ev
from engine.core import Engine
from engine.replay import fixed_clock

TS = "2025-03-03T09:00:00+08:00"


def valid(kind: str) -> dict[str, Any]:
    """A minimal valid event of ``kind``: one hall H1, department D1, case C1, tender T1, complaint K1,
    inspection visit V1."""
    case = {"hall_id": "H1", "case_id": "C1", "department_id": "D1"}
    plaint = {"hall_id": "H1", "complaint_id": "K1"}
    visit = {"hall_id": "H1", "inspection_id": "V1", "department_id": "D1"}
    body: dict[str, Any] = {
        "item.published": {"hall_id": "H1", "item_id": "I1", "department_id": "D1", "name": "licence",
                           "promised_days": 5, "fee_standard": 50.0,
                           "steps": [{"name": "review", "post": "review", "limit_days": 2.0}]},
        "staff.authorised": {"hall_id": "H1", "staff_id": "S1", "department_id": "D1", "posts": ["window"],
                             "may_decide": ["I1"]},
        "source.heartbeat": {"source_id": "platform", "hall_id": "H1"},
        "case.submitted": {**case, "item_id": "I1", "channel": "window", "case_type": "promised"},
        "case.accepted": {**case, "item_id": "I1", "staff_id": "S1", "case_type": "promised",
                          "stated_at": TS},
        "step.started": {**case, "step": "review", "post": "review", "staff_id": "S1"},
        "step.completed": {**case, "step": "review", "post": "review", "staff_id": "S1", "stated_at": TS},
        "case.suspended": {**case, "reason": "supplement", "staff_id": "S1"},
        "case.resumed": {**case, "staff_id": "S1"},
        "fee.charged": {**case, "amount": 50.0, "staff_id": "S1"},
        "case.decided": {**case, "approver_id": "S1", "decision": "approve", "stated_at": TS},
        "certificate.issued": {**case, "certificate_no": "Z1", "staff_id": "S1"},
        "case.closed": {**case, "staff_id": "S1", "outcome": "approved"},
        "tender.published": {"tender_id": "T1", "category": "procurement", "control_price": 1e6,
                             "tenderer_id": "O1", "bid_deadline": TS},
        "bid.submitted": {"tender_id": "T1", "bidder_id": "B1", "price": 9e5},
        "bids.opened": {"tender_id": "T1", "n_bids": 3},
        "expert.scored": {"tender_id": "T1", "expert_id": "E1", "bidder_id": "B1", "score": 80.0},
        "tender.awarded": {"tender_id": "T1", "winner_id": "B1", "price": 9e5},
        "camera.presence": {"hall_id": "H1", "camera_id": "K1", "zone": "W1", "present": True,
                            "confidence": 0.9, "window_id": "W1"},
        "camera.queue": {"hall_id": "H1", "camera_id": "K1", "zone": "lobby", "count": 4},
        "camera.heartbeat": {"hall_id": "H1", "camera_id": "K1"},
        "camera.audio": {"hall_id": "H1", "camera_id": "K1", "sound": "quarrel", "confidence": 0.8},
        "staff.clock_in": {"hall_id": "H1", "staff_id": "S1", "window_id": "W1"},
        "staff.clock_out": {"hall_id": "H1", "staff_id": "S1", "window_id": "W1"},
        "staff.roster": {"hall_id": "H1", "staff_id": "S1", "window_id": "W1", "department_id": "D1",
                         "shift_start": TS, "shift_end": "2025-03-03T17:00:00+08:00",
                         "breaks": [{"start": "2025-03-03T12:00:00+08:00",
                                     "end": "2025-03-03T13:00:00+08:00"}]},
        "staff.break": {"hall_id": "H1", "staff_id": "S1", "window_id": "W1", "reason": "rest",
                        "until": "2025-03-03T09:30:00+08:00"},
        "queue.ticket": {"hall_id": "H1", "department_id": "D1", "ticket": "A001", "case_id": "C1"},
        "queue.called": {"hall_id": "H1", "department_id": "D1", "ticket": "A001", "window_id": "W1"},
        "complaint.received": {**plaint, "channel": "phone", "complainant": "x", "summary": "slow"},
        "complaint.classified": {**plaint, "category": "delay", "department_id": "D1", "staff_id": "S1"},
        "complaint.assigned": {**plaint, "department_id": "D1"},
        "complaint.extended": {**plaint, "extra_days": 5.0, "reason": "site_visit", "approved_by": "SUP1"},
        "complaint.answered": {**plaint, "department_id": "D1", "staff_id": "S1",
                               "finding": "substantiated"},
        "complaint.feedback_given": {**plaint, "via": "sms", "satisfied": True},
        "complaint.closed": {**plaint, "outcome": "resolved"},
        "complaint.reopened": {**plaint, "reason": "not satisfied"},
        "inspection.performed": {**visit, "inspectors": ["A1", "A2"], "announced": False},
        "inspection.finding": {**visit, "finding_id": "F1", "problem": "delay", "named": True,
                               "staff_id": "S1", "note": "kept waiting"},
        "inspection.rectification_issued": {**visit, "rectification_id": "R1", "finding_id": "F1",
                                            "deadline_days": 10.0},
        "inspection.rectification_verified": {**visit, "rectification_id": "R1", "rectified": True,
                                              "verified_by": "A1"},
        "inspection.suggestion_issued": {**visit, "suggestion_id": "S1", "finding_ids": ["F1"]},
        "joint_review.convened": {**case, "review_id": "R1", "invited": ["D2", "D3"]},
        "joint_review.opinion": {**case, "review_id": "R1", "invitee": "D2", "opinion": "consent",
                                 "written": True},
        "joint_review.absent": {**case, "review_id": "R1", "invitee": "D3"},
    }[kind]  # fmt: skip
    return {"kind": kind, "event_id": f"{kind}-1", "ts": TS, **body}


KINDS = [t.__struct_config__.tag for t in ev.EVENT_TYPES]

#: (kind, path, lowest allowed, highest allowed, lowest is exclusive, integer)
NUMBERS: list[tuple[str, tuple[str | int, ...], float, float, bool, bool]] = [
    ("item.published", ("promised_days",), 0, 3650, False, True),
    ("item.published", ("fee_standard",), 0, 1e12, False, False),
    ("item.published", ("steps", 0, "limit_days"), 0, 3650, True, False),
    ("fee.charged", ("amount",), 0, 1e12, False, False),
    ("tender.published", ("control_price",), 0, 1e12, False, False),
    ("bid.submitted", ("price",), 0, 1e12, False, False),
    ("tender.awarded", ("price",), 0, 1e12, False, False),
    ("bids.opened", ("n_bids",), 0, 1_000_000, False, True),
    ("camera.queue", ("count",), 0, 1_000_000, False, True),
    ("camera.presence", ("confidence",), 0, 1, False, False),
    ("camera.audio", ("confidence",), 0, 1, False, False),
    ("expert.scored", ("score",), 0, 100, False, False),
    ("complaint.extended", ("extra_days",), 0, 3650, True, False),
    ("inspection.rectification_issued", ("deadline_days",), 0, 3650, True, False),
]

#: (kind, path) of every instant besides ``ts`` (which every kind has).
INSTANTS: list[tuple[str, tuple[str | int, ...]]] = [
    ("case.accepted", ("stated_at",)),
    ("step.completed", ("stated_at",)),
    ("case.decided", ("stated_at",)),
    ("tender.published", ("bid_deadline",)),
    ("staff.roster", ("shift_start",)),
    ("staff.roster", ("shift_end",)),
    ("staff.roster", ("breaks", 0, "start")),
    ("staff.roster", ("breaks", 0, "end")),
    ("staff.break", ("until",)),
    *((kind, ("ts",)) for kind in KINDS),
]


def _set(doc: dict[str, Any], path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    out = msgspec.json.decode(msgspec.json.encode(doc))  # a deep copy
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out  # type: ignore[no-any-return]


def _json_path(path: tuple[str | int, ...]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _decodes(doc: dict[str, Any]) -> tuple[bool, str]:
    try:
        ev.decode_event(msgspec.json.encode(doc))
    except ev.EventDecodeError as exc:
        return False, str(exc)
    return True, ""


def test_every_kind_has_a_valid_example() -> None:
    assert sorted(KINDS) == sorted({k for k, *_ in NUMBERS} | set(KINDS))
    for kind in KINDS:
        assert _decodes(valid(kind)) == (True, ""), kind


# --- numbers ---------------------------------------------------------------------------


def _near(lo: float, hi: float, integer: bool) -> st.SearchStrategy[float]:
    step = 1 if integer else 1e-9 * max(1.0, hi)
    edges = [lo, hi, lo - step, hi + step, lo + step, hi - step, -1, 2 * hi, 1e304, -1e304]
    inside = st.integers(int(lo), int(hi)) if integer else st.floats(lo, hi)
    return st.one_of(st.sampled_from(edges), inside)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(NUMBERS), data=st.data())
def test_numbers_at_and_beyond_their_bounds(case: tuple[Any, ...], data: st.DataObject) -> None:
    kind, path, lo, hi, exclusive, integer = case
    value = data.draw(_near(lo, hi, integer))
    if integer:
        value = int(value)
    ok, message = _decodes(_set(valid(kind), path, value))
    expected = (lo < value if exclusive else lo <= value) and value <= hi
    assert ok == expected, (kind, path, value, message)
    if not ok:
        assert f"`{_json_path(path)}`" in message


def test_a_non_finite_number_does_not_decode() -> None:
    # JSON has no NaN or inf, but 1e400 parses as inf; every bounded float rejects it.
    doc = msgspec.json.encode(valid("fee.charged")).replace(b'"amount":50.0', b'"amount":1e400')
    with pytest.raises(ev.EventDecodeError, match=r"\$\.amount"):
        ev.decode_event(doc)


# --- instants --------------------------------------------------------------------------

#: (ISO text, decodes?) at and beyond the window (local date 2000-01-01..2100-12-31) and
#: the offsets (±14:00).
INSTANT_CASES: list[tuple[str, bool]] = [
    ("2000-01-01T00:00:00+14:00", True),
    ("2000-01-01T00:00:00-12:00", True),
    ("1999-12-31T23:59:59+00:00", False),
    ("1999-12-31T23:59:59-14:00", False),
    ("2100-12-31T23:59:59-14:00", True),
    ("2100-12-31T23:59:59Z", True),
    ("2101-01-01T00:00:00+14:00", False),
    ("9999-12-31T23:59:59-23:59", False),
    ("0001-01-01T00:00:00+00:00", False),
    ("2025-03-03T09:00:00+14:00", True),
    ("2025-03-03T09:00:00-14:00", True),
    ("2025-03-03T09:00:00+14:01", False),
    ("2025-03-03T09:00:00-14:01", False),
    ("2025-03-03T09:00:00-23:59", False),
    ("2025-03-03T09:00:00", False),  # no offset
]


@pytest.mark.parametrize(("kind", "path"), INSTANTS)
def test_instants_at_and_beyond_the_window_and_offsets(kind: str, path: tuple[str | int, ...]) -> None:
    for text, expected in INSTANT_CASES:
        ok, message = _decodes(_set(valid(kind), path, text))
        assert ok == expected, (kind, path, text, message)
        if not ok:
            assert f"`{_json_path(path)}`" in message, message


def test_a_batch_names_the_index_and_the_field() -> None:
    bad = _set(valid("staff.roster"), ("breaks", 0, "end"), "2101-01-01T00:00:00+08:00")
    body = msgspec.json.encode([valid("camera.heartbeat"), bad])
    with pytest.raises(ev.EventDecodeError, match=r"^body\[1\]: .*`\$\.breaks\[0\]\.end`"):
        ev.decode_events(body)


def test_the_json_schema_carries_the_bounds() -> None:
    defs = ev.event_json_schema()["$defs"]
    assert isinstance(defs, dict)
    step = defs["StepSpec"]["properties"]["limit_days"]
    assert step == {"type": "number", "exclusiveMinimum": 0, "maximum": 3650}
    assert defs["FeeCharged"]["properties"]["amount"] == {"type": "number", "minimum": 0, "maximum": 1e12}
    extension = defs["ComplaintExtended"]["properties"]["extra_days"]
    assert extension == {"type": "number", "exclusiveMinimum": 0, "maximum": 3650}
    assert defs["ComplaintReceived"]["properties"]["channel"]["enum"] == sorted(
        ("phone", "sms", "email", "web", "in_person")
    )
    deadline = defs["RectificationIssued"]["properties"]["deadline_days"]
    assert deadline == {"type": "number", "exclusiveMinimum": 0, "maximum": 3650}
    assert len(defs["InspectionFinding"]["properties"]["problem"]["enum"]) == 9  # the nine problem kinds
    inspectors = defs["InspectionPerformed"]["properties"]["inspectors"]
    assert inspectors["minItems"] == 1 and inspectors["maxItems"] == 20
    roster = defs["StaffRoster"]["properties"]["shift_start"]
    assert roster["format"] == "date-time" and "pattern" in roster
    import re

    pattern = re.compile(roster["pattern"])
    for text, expected in INSTANT_CASES:
        if expected:  # the pattern never rejects what decodes (it cannot see every bound)
            assert pattern.search(text), text
    assert not pattern.search("9999-12-31T23:59:59-23:59")
    assert not pattern.search("2025-03-03T09:00:00-14:01")


# --- whatever decodes, the engine survives ---------------------------------------------

_EDGE_INSTANTS = [text for text, ok in INSTANT_CASES if ok] + [
    "2004-01-01T00:00:00+08:00",  # the calendar's first day
    "2026-12-31T23:59:59+08:00",  # its last
    "2027-01-04T09:00:00+08:00",  # just beyond it
    "2025-03-04T10:00:00+08:00",
    "2025-03-10T16:00:00+08:00",
]


@st.composite
def _event_docs(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(KINDS))
    doc = valid(kind)
    doc["event_id"] = draw(st.text("abcdef", min_size=1, max_size=4))
    for k, path, lo, hi, exclusive, integer in NUMBERS:
        if k == kind and draw(st.booleans()):
            value = draw(st.sampled_from([hi, hi / 2, lo + (1 if integer else 1e-9) if exclusive else lo]))
            doc = _set(doc, path, int(value) if integer else float(value))
    for k, path in INSTANTS:
        if k == kind and draw(st.booleans()):
            doc = _set(doc, path, draw(st.sampled_from(_EDGE_INSTANTS)))
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=st.lists(_event_docs(), min_size=1, max_size=25), clocked=st.booleans())
def test_no_decodable_value_breaks_the_engine(docs: list[dict[str, Any]], clocked: bool) -> None:
    events = [ev.decode_event(msgspec.json.encode(d)) for d in docs]
    clock = fixed_clock(max(e.ts for e in events)) if clocked else None
    engine = Engine(clock=clock)
    engine.process_many(events)
    alerts = engine.finish()
    stats = engine.stats
    assert stats["events_in"] == len(events)
    assert stats["buffered"] == 0
    assert all(math.isfinite(a.ts.timestamp()) for a in alerts)
    set_aside = sum(engine.side_counts[r] for r in ("late", "future", "duplicate"))
    assert stats["applied"] + set_aside == len(events)


def test_the_issues_absurd_values_are_rejected_naming_the_field() -> None:
    roster = _set(valid("staff.roster"), ("shift_start",), "9999-12-31T23:59:59-23:59")
    with pytest.raises(ev.EventDecodeError, match=r"`\$\.shift_start`"):
        ev.decode_event(msgspec.json.encode(roster))
    item = _set(valid("item.published"), ("steps", 0, "limit_days"), 1e304)
    with pytest.raises(ev.EventDecodeError, match=r"`\$\.steps\[0\]\.limit_days`"):
        ev.decode_event(msgspec.json.encode(item))


def test_an_instant_in_a_far_offset_is_the_same_instant() -> None:
    # +14:00 and -12:00 are real offsets (Kiribati, Baker Island); they decode to aware instants.
    a = ev.decode_event(
        msgspec.json.encode(_set(valid("camera.heartbeat"), ("ts",), "2025-03-04T03:00:00+14:00"))
    )
    b = datetime(2025, 3, 3, 13, 0, tzinfo=UTC)
    assert a.ts == b and a.ts.utcoffset() == timedelta(hours=14)


def test_a_number_too_large_for_a_float_is_named_by_the_service_decoder() -> None:
    """Before: the service rewrote integral floats through ``json``, which turned ``1e400`` into
    ``Infinity``; the client got "malformed JSON (… byte 116)" about text it never sent."""
    from engine.service.ingest import IngestError, decode_body

    body = msgspec.json.encode([valid("item.published")]).replace(
        b'"fee_standard":50.0', b'"fee_standard":1e400'
    )
    with pytest.raises(IngestError) as err:
        decode_body(body, ndjson=False, max_events=10)
    assert err.value.status == 422
    assert err.value.payload["errors"] == [
        {"index": 0, "field": "$.fee_standard", "message": "Number out of range - at `$.fee_standard`"}
    ]


def test_a_batch_over_the_count_is_refused_before_the_slow_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: the whole body went through ``json.loads``/``dumps`` first (0.41 s for 4 MB of bad
    elements on the event loop), then the count refused it anyway."""
    from engine.service import ingest

    def never(data: bytes) -> bytes | None:
        raise AssertionError("the integral-float rewrite ran on a body refused by its count")

    monkeypatch.setattr(ingest, "_integral", never)
    body = b"[" + b",".join([b'{"a":1.0}'] * 2_000) + b"]"
    with pytest.raises(ingest.IngestError) as err:
        ingest.decode_body(body, ndjson=False, max_events=1000)
    assert err.value.status == 422 and "exceeds the limit of 1000" in str(err.value)
