"""The ingest API in process: acknowledgement, duplicates, errors, scopes, overload, reads."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from engine.contract import events as ev
from engine.service.app import create_app
from engine.service.auth import ROLES, TokenSpec
from engine.service.config import ServiceConfig
from sim.common.scenario import load_scenario
from sim.hall.world import simulate
from tests.waiting import wait_ready, wait_until_async

ROOT = Path(__file__).resolve().parent.parent
TOKENS = {
    "admin": TokenSpec(token="admin-token-000000", role="admin"),
    "supervisor": TokenSpec(token="super-token-000000", role="supervisor"),
    "window": TokenSpec(token="window-H1-token-00", role="window", hall="H1"),
    "window2": TokenSpec(token="window-H2-token-00", role="window", hall="H2"),
    "camera": TokenSpec(token="camera-H1-token-00", role="camera", hall="H1"),
    "trading": TokenSpec(token="trading-token-0000", role="trading"),
    "complaints": TokenSpec(token="complaints-H1-tok0", role="complaints", hall="H1"),
    "metrics": TokenSpec(token="metrics-token-0000", role="metrics"),
}


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[name].token}", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def stream() -> list[ev.Event]:
    return simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events


def body(events: list[ev.Event]) -> bytes:
    return b"[" + b",".join(ev.encode_event(e) for e in events) + b"]"


def make_config(tmp_path: Path, **kw: object) -> ServiceConfig:
    return ServiceConfig(db=str(tmp_path / "log.db"), tokens=list(TOKENS.values()), **kw)  # type: ignore[arg-type]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_config(tmp_path, max_batch_events=500, max_body_bytes=400_000))) as c:
        wait_ready(c)
        yield c


def test_ack_counts_and_duplicates_are_ignored(client: TestClient, stream: list[ev.Event]) -> None:
    first = client.post("/v1/events", content=body(stream[:300]), headers=auth("window"))
    assert first.status_code == 202 and first.json() == {"accepted": 300, "duplicates": 0}
    again = client.post("/v1/events", content=body(stream[250:400]), headers=auth("window"))
    assert again.json() == {"accepted": 100, "duplicates": 50}
    stats = client.get("/v1/stats", headers=auth("supervisor")).json()
    assert stats["events_stored"] == 400 and stats["events_duplicate"] == 50
    assert stats["engine"]["duplicates"] == 0  # the store filtered them before the engine


def test_ndjson_is_accepted(client: TestClient, stream: list[ev.Event]) -> None:
    lines = b"\n".join(ev.encode_event(e) for e in stream[:20]) + b"\n"
    r = client.post(
        "/v1/events", content=lines, headers={**auth("admin"), "Content-Type": "application/x-ndjson"}
    )
    assert r.status_code == 202 and r.json()["accepted"] == 20


def test_bad_events_are_named_and_batch_not_applied(client: TestClient, stream: list[ev.Event]) -> None:
    good = msgspec.json.decode(ev.encode_event(stream[20]))
    bad = dict(good, event_id="bad-1")
    del bad["hall_id"]
    worse = dict(good, event_id="bad-2", ts="2025-03-03T10:00:00")  # no offset
    payload = msgspec.json.encode([good, bad, worse])
    r = client.post("/v1/events", content=payload, headers=auth("admin"))
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert [e["index"] for e in errors] == [1, 2]
    assert errors[0]["field"] == "$.hall_id" and errors[1]["field"] == "$.ts"
    stats = client.get("/v1/stats", headers=auth("supervisor")).json()
    assert stats["events_stored"] == 0  # all-or-nothing


def test_malformed_oversize_and_unauthenticated(client: TestClient, stream: list[ev.Event]) -> None:
    assert client.post("/v1/events", content=b"[{", headers=auth("admin")).status_code == 400
    assert client.post("/v1/events", content=b"{}", headers=auth("admin")).status_code == 422
    assert client.post("/v1/events", content=body(stream[:600]), headers=auth("admin")).status_code == 422
    big = b"[" + b" " * 500_000 + b"]"
    assert client.post("/v1/events", content=big, headers=auth("admin")).status_code == 413
    assert client.post("/v1/events", content=b"[]").status_code == 401
    assert (
        client.post("/v1/events", content=b"[]", headers={"Authorization": "Bearer nope"}).status_code == 401
    )
    assert client.get("/v1/alerts").status_code == 401


def _sample(stream: list[ev.Event]) -> dict[str, ev.Event]:
    """One event of each family and hall: approvals, cameras, tendering, complaints, inspections."""
    case = next(e for e in stream if isinstance(e, ev.CaseSubmitted))
    ts = case.ts
    return {
        "approval_H1": case,
        "approval_H2": msgspec.structs.replace(case, event_id="h2-case", hall_id="H2"),
        "camera_H1": ev.QueueCount(event_id="cam-1", ts=ts, hall_id="H1", camera_id="C1", zone="z", count=3),
        "camera_H2": ev.QueueCount(event_id="cam-2", ts=ts, hall_id="H2", camera_id="C1", zone="z", count=3),
        "tendering": ev.TenderPublished(
            event_id="t-1", ts=ts, tender_id="T1", category="procurement", control_price=1.0, tenderer_id="X"
        ),
        "complaint_H1": ev.ComplaintReceived(
            event_id="k-1", ts=ts, hall_id="H1", complaint_id="K1", channel="phone"
        ),
        "complaint_H2": ev.ComplaintReceived(
            event_id="k-2", ts=ts, hall_id="H2", complaint_id="K2", channel="web"
        ),
        "inspection_H1": ev.InspectionPerformed(
            event_id="i-1", ts=ts, hall_id="H1", inspection_id="I1", department_id="D1", inspectors=["A", "B"]
        ),
        "inspection_H2": ev.RectificationIssued(
            event_id="i-2",
            ts=ts,
            hall_id="H2",
            inspection_id="I2",
            department_id="D1",
            rectification_id="R1",
            finding_id="F1",
            deadline_days=10.0,
        ),
        "break_H1": ev.StaffBreak(  # declared at the window terminal, so the hall's terminals may post it
            event_id="brk-1", ts=ts, hall_id="H1", staff_id="S1", reason="escort", until=ts
        ),
    }


ALLOWED = {
    "admin": {
        "approval_H1",
        "approval_H2",
        "camera_H1",
        "camera_H2",
        "tendering",
        "break_H1",
        "complaint_H1",
        "complaint_H2",
        "inspection_H1",
        "inspection_H2",
    },
    "window": {"approval_H1", "break_H1"},
    "window2": {"approval_H2"},
    "camera": {"camera_H1"},
    "trading": {"tendering"},
    "complaints": {"complaint_H1", "inspection_H1"},
    "supervisor": set(),
    "metrics": set(),
}


#: Which role's family each sample belongs to (before: every refusal named ``$.kind``, even another hall's).
FAMILY_ROLE = {"approval": "window", "break": "window", "camera": "camera", "tendering": "trading",
               "complaint": "complaints", "inspection": "complaints"}  # fmt: skip


def test_scopes_for_every_role_and_family(client: TestClient, stream: list[ev.Event]) -> None:
    sample = _sample(stream)
    for who, what in itertools.product(ALLOWED, sample):
        r = client.post("/v1/events", content=body([sample[what]]), headers=auth(who))
        expected = 202 if what in ALLOWED[who] else 403
        assert r.status_code == expected, (who, what, r.text)
        if expected == 403 and TOKENS[who].role not in ("supervisor", "metrics"):  # they post nothing
            own = FAMILY_ROLE[what.split("_")[0]] == TOKENS[who].role
            assert r.json()["errors"][0]["field"] == ("$.hall_id" if own else "$.kind"), (who, what)
    for who in ALLOWED:
        reads = client.get("/v1/alerts", headers=auth(who)).status_code
        assert reads == (200 if who in ("admin", "supervisor") else 403), who
        scrape = client.get("/metrics", headers=auth(who)).status_code
        assert scrape == (200 if who in ("admin", "supervisor", "metrics") else 403), who
    assert set(ROLES) == {TOKENS[k].role for k in ALLOWED}


def test_alerts_filters_and_cursor(client: TestClient, stream: list[ev.Event]) -> None:
    for i in range(0, len(stream), 500):
        assert (
            client.post("/v1/events", content=body(stream[i : i + 500]), headers=auth("window")).status_code
            == 202
        )
    page = client.get("/v1/alerts?limit=7", headers=auth("supervisor")).json()
    assert len(page["alerts"]) == 7 and page["more"]
    seen = [a["alert_id"] for a in page["alerts"]]
    cursor = page["next_cursor"]
    for _ in range(len(stream)):  # a cursor that never ends would need more pages than events
        page = client.get(f"/v1/alerts?limit=50&cursor={cursor}", headers=auth("supervisor")).json()
        seen += [a["alert_id"] for a in page["alerts"]]
        cursor = page["next_cursor"]
        if not page["more"]:
            break
    else:
        pytest.fail(f"the alert cursor still says more after {len(stream)} pages")
    assert len(seen) == len(set(seen)) > 50
    red = client.get("/v1/alerts?level=red&limit=5000", headers=auth("supervisor")).json()["alerts"]
    assert red and all(a["level"] == "red" for a in red)
    assert client.get("/v1/alerts?since=yesterday", headers=auth("supervisor")).status_code == 422
    assert client.get("/metrics").status_code == 401  # behind a token
    metrics = client.get("/metrics", headers=auth("supervisor")).text
    assert (
        'supsim_ingest_events_total{result="accepted"}' in metrics
        and "supsim_commit_seconds_bucket" in metrics
    )
    assert client.get("/openapi.json").json()["paths"]["/v1/events"]["post"]
    assert "Supervision centre" in client.get("/").text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payload=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
            lambda c: (
                st.lists(c, max_size=4)
                | st.dictionaries(
                    st.sampled_from(["kind", "event_id", "ts", "hall_id", "case_id", "x"]), c, max_size=5
                )
            ),
            max_leaves=12,
        ).map(lambda v: msgspec.json.encode(v if isinstance(v, list) else [v])),
    )
)
def test_fuzzed_bodies_never_give_5xx(client: TestClient, payload: bytes) -> None:
    r = client.post("/v1/events", content=payload, headers=auth("admin"))
    assert r.status_code < 500, r.text


def test_overload_gives_429_then_recovers(tmp_path: Path, stream: list[ev.Event]) -> None:
    """The writer is held on a gate, not slowed by a sleep: the queue fills deterministically.

    With a bound of 250 queued events and batches of 100, two batches are queued (100, then
    200) and every later one would exceed the bound: 429 with ``Retry-After`` at once. Once
    those answers are in, the gate opens, the two queued batches commit, and a resend is
    accepted.
    """
    app = create_app(make_config(tmp_path, queue_bound_events=250, retry_after_s=2))
    writer = app.state.service.writer
    commit = writer._commit_group
    gate = threading.Event()

    def commit_when_released(group):  # type: ignore[no-untyped-def]
        if not gate.wait(timeout=30):
            raise TimeoutError("the test never released the writer")
        return commit(group)

    writer._commit_group = commit_when_released

    async def scenario() -> tuple[list[int], str | None, int]:
        async with app.router.lifespan_context(app):
            await wait_until_async(lambda: writer.ready, timeout=20, what="the writer to replay the log")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                batches = [body(stream[i : i + 100]) for i in range(0, 2000, 100)]
                posts = [
                    asyncio.ensure_future(c.post("/v1/events", content=b, headers=auth("window")))
                    for b in batches
                ]
                await wait_until_async(
                    lambda: sum(p.done() for p in posts) >= len(posts) - 2,
                    timeout=20,
                    what="every batch beyond the queue bound to be answered",
                )
                gate.set()
                rs = await asyncio.wait_for(asyncio.gather(*posts), timeout=30)
                retry = next((r.headers.get("retry-after") for r in rs if r.status_code == 429), None)
                again = await c.post("/v1/events", content=batches[-1], headers=auth("window"))
                return [r.status_code for r in rs], retry, again.status_code

    try:
        codes, retry, later = asyncio.run(scenario())
    finally:
        gate.set()  # never leave the writer thread parked if the scenario failed
    assert sorted(codes) == [202] * 2 + [429] * 18 and retry == "2"
    assert later == 202  # recovered once the queue drained


def test_a_heartbeat_refusal_says_it_is_the_hall() -> None:
    """Before: "may not post events of hall None"; a trading heartbeat with a hall was refused as a kind."""
    from engine.service.auth import Principal, scope_error

    ts = datetime(2025, 3, 3, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    bare = ev.SourceHeartbeat(event_id="hb-1", ts=ts, source_id="terminals")
    assert scope_error(Principal(role="window", hall="H1"), bare) == (
        "$.hall_id",
        "a window terminal of hall H1 must name its hall (`hall_id`)",
    )
    with_hall = ev.SourceHeartbeat(event_id="hb-2", ts=ts, source_id="platform", hall_id="H1")
    assert scope_error(Principal(role="trading", hall=None), with_hall) == (
        "$.hall_id",
        "a trading platform's heartbeats name no hall (it serves none)",
    )
