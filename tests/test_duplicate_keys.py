"""The cheap duplicate-key proof clears ordinary batches and never lets a repeated key through.

The proof (a quote count of the body against its events' encoding) may only say "no key is
repeated" when that is true; when it cannot tell, the exact scan decides. So the tests are of
two kinds: batches as the simulator and ordinary clients write them are cleared without the
exact scan, and a key repeated at any depth, written in any JSON style, is refused naming it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.contract import events as ev
from engine.service import ingest
from engine.service.edge import duplicate_keys
from engine.service.ingest import IngestError, decode_batch, decode_body
from sim.common.scenario import load_scenario
from sim.hall.world import simulate

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2025, 11, 3, 9, 0, tzinfo=timezone(timedelta(hours=8)))
EXTRA: list[ev.Event] = [
    ev.StaffRoster(
        event_id="r1", ts=T0, hall_id="H1", staff_id="S1", window_id="W1", department_id="D1",
        shift_start=T0, shift_end=T0 + timedelta(hours=8),
        breaks=(ev.TimeSpan(start=T0 + timedelta(hours=3), end=T0 + timedelta(hours=4)),),
    ),
    ev.ItemPublished(
        event_id="i1", ts=T0, hall_id="H1", item_id="I1", department_id="D1", name="营业执照 \"新办\"",
        promised_days=5, steps=(ev.StepSpec(name="review", post="review", limit_days=2.0),),
    ),
    ev.BidSubmitted(
        event_id="b1", ts=T0, tender_id="T1", bidder_id="B1", price=10.0,
        traces=ev.BidTraces(ip="10.0.0.1", marks=(ev.DocumentMark(kind="seal", party_id="B2"),)),
    ),
]  # fmt: skip


POOL: list[ev.Event] = [
    *EXTRA,
    ev.CaseSubmitted(
        event_id="c1", ts=T0, hall_id="H1", case_id="C1", department_id="D1", item_id="I1",
        channel="window", case_type="promised", applicant="张三",
    ),
    ev.SourceHeartbeat(event_id="h1", ts=T0, source_id="S"),
]  # fmt: skip


@pytest.fixture(scope="module")
def stream() -> list[ev.Event]:
    return simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events


def _array(events: list[ev.Event]) -> bytes:
    return b"[" + b",".join(ev.encode_event(e) for e in events) + b"]"


def _no_exact_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: bytes) -> str | None:
        raise AssertionError("the exact scan ran on a batch the count should have cleared")

    monkeypatch.setattr(ingest, "first_duplicate_key", refuse)


def test_simulated_batches_are_cleared_without_the_exact_scan(
    stream: list[ev.Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_exact_scan(monkeypatch)
    kinds = {type(e) for e in stream}
    assert {ev.CaseSubmitted, ev.StepStarted, ev.ItemPublished} <= kinds
    for i in range(0, len(stream), 100):
        batch = stream[i : i + 100]
        assert decode_body(_array(batch), ndjson=False, max_events=1000) == batch
    lines = b"\n".join(ev.encode_event(e) for e in stream[:100]) + b"\n"
    assert decode_body(lines, ndjson=True, max_events=1000) == stream[:100]


def test_json_dumps_style_bodies_are_cleared_too(
    stream: list[ev.Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Python's json.dumps spaces its separators; the count does not care about whitespace.
    _no_exact_scan(monkeypatch)
    events = stream[:50] + EXTRA[:1]
    text = json.dumps([json.loads(ev.encode_event(e)) for e in events], ensure_ascii=False, indent=2)
    assert decode_body(text.encode(), ndjson=False, max_events=1000) == events


def test_what_the_count_cannot_clear_goes_to_the_exact_scan(stream: list[ev.Event]) -> None:
    # An escape, an explicit default, a type whose encoding holds defaults: not proven, yet accepted.
    event = json.loads(ev.encode_event(stream[0]))
    escaped = json.dumps([event], ensure_ascii=True).replace('"kind"', '"\\u006bind"').encode()
    defaulted = json.loads(ev.encode_event(EXTRA[0]))
    defaulted["breaks"] = []
    bid = _array(EXTRA[2:])
    for body in (escaped, json.dumps([defaulted]).encode(), bid):
        events = ev.decode_events(body)
        assert not duplicate_keys.cannot_repeat_a_key(body, events, [ev.encode_event(e) for e in events])
        assert decode_body(body, ndjson=False, max_events=10) == events
    assert ev.BidSubmitted not in duplicate_keys.COUNTABLE
    assert {ev.StaffRoster, ev.ItemPublished, ev.CaseSubmitted} <= duplicate_keys.COUNTABLE


class Obj(list[list[object]]):
    """A JSON object as its list of [key, value] pairs, so that a key can be written twice."""


def _pairs(value: object) -> object:
    if isinstance(value, dict):
        return Obj([k, _pairs(v)] for k, v in value.items())
    if isinstance(value, list):
        return [_pairs(v) for v in value]
    return value


def _objects(node: object, out: list[Obj]) -> None:
    """Every object under ``node``, depth first."""
    if isinstance(node, Obj):
        out.append(node)
        for _, value in node:
            _objects(value, out)
    elif isinstance(node, list):
        for item in node:
            _objects(item, out)


def _dump(node: object, spaced: bool, ascii_only: bool) -> str:
    comma, colon = (", ", " : ") if spaced else (",", ":")
    if isinstance(node, Obj):
        return (
            "{"
            + comma.join(_dump(k, spaced, ascii_only) + colon + _dump(v, spaced, ascii_only) for k, v in node)
            + "}"
        )
    if isinstance(node, list):
        return "[" + comma.join(_dump(v, spaced, ascii_only) for v in node) + "]"
    return json.dumps(node, ensure_ascii=ascii_only)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), spaced=st.booleans(), ascii_only=st.booleans(), same=st.booleans())
def test_a_repeated_key_at_any_depth_is_refused_naming_it(
    data: st.DataObject, spaced: bool, ascii_only: bool, same: bool
) -> None:
    events = POOL
    tree = [_pairs(json.loads(ev.encode_event(e))) for e in events]
    index = data.draw(st.integers(0, len(tree) - 1), label="event")
    objects: list[Obj] = []
    _objects(tree[index], objects)
    target = data.draw(st.sampled_from(objects), label="object")
    key, value = data.draw(st.sampled_from(list(target)), label="pair")
    # The same pair again (the event stays valid), or the key with null (it may not).
    target.insert(data.draw(st.integers(0, len(target)), label="at"), [key, value if same else None])
    body = _dump(tree, spaced, ascii_only).encode()
    with pytest.raises(IngestError) as caught:
        decode_body(body, ndjson=False, max_events=100)
    assert caught.value.status == 422
    if same:  # the only thing wrong is the repeated key
        expected = [{"index": index, "field": f"$.{key}", "message": f"duplicate key `{key}`"}]
        assert caught.value.payload["errors"] == expected


def _refused(body: bytes, key: str) -> None:
    with pytest.raises(IngestError) as caught:
        decode_body(body, ndjson=False, max_events=10)
    assert caught.value.payload["errors"] == [
        {"index": 0, "field": f"$.{key}", "message": f"duplicate key `{key}`"}
    ]


def test_a_repeat_whose_quotes_are_made_up_by_escapes_is_refused() -> None:
    # `\u0022` is a quote in the string but no quote byte on the wire, while the encoding
    # writes it `\"`: four of them would balance the four quotes of a repeated pair.
    name = "\\u0022" * 4
    text = ev.encode_event(EXTRA[1]).decode().replace('"name":"营业执照 \\"新办\\""', f'"name":"{name}"')
    body = ("[" + text.replace('"hall_id":"H1"', '"hall_id":"H1","hall_id":"H1"') + "]").encode()
    assert b'"hall_id":"H1","hall_id":"H1"' in body and b"u0022" in body
    _refused(body, "hall_id")


def test_a_repeat_whose_quotes_are_made_up_by_encoded_defaults_is_refused() -> None:
    # Bid traces encode every field, null or not: two left out of the body add four quotes to
    # the encoding, as many as a repeated pair adds to the body.
    text = ev.encode_event(EXTRA[2]).decode()
    text = text.replace('"mac":null,', "").replace('"cpu_serial":null,', "")
    body = ("[" + text.replace('"ip":"10.0.0.1"', '"ip":"10.0.0.1","ip":"10.0.0.1"') + "]").encode()
    assert body.count(b'"ip"') == 2 and b"mac" not in body
    _refused(body, "ip")


def test_the_batch_carries_each_event_as_the_log_stores_it(stream: list[ev.Event]) -> None:
    # The writer stores these bytes instead of encoding the events again.
    batch = decode_batch(_array(stream[:100]), ndjson=False, max_events=1000)
    assert batch.events == stream[:100]
    assert batch.encoded == [ev.encode_event(e) for e in stream[:100]]
