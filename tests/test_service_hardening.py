"""Hostile or careless requests get a 4xx, a failed commit heals, a log that lost events is not trusted."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import re
import sqlite3
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from starlette.testclient import TestClient

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.service.app import create_app
from engine.service.auth import TokenSpec
from engine.service.config import ServiceConfig
from engine.service.halls import reference_alerts
from sim.common.scenario import load_scenario
from sim.hall.world import simulate
from tests.waiting import wait_ready, wait_until, wait_until_async

ROOT = Path(__file__).resolve().parent.parent
TOKENS = [
    TokenSpec(token="hard-admin-token-000", role="admin"),
    TokenSpec(token="hard-window-token-00", role="window", hall="H1"),
    TokenSpec(token="hard-super-token-000", role="supervisor"),
]
JSON = {"Content-Type": "application/json"}
ADMIN = {"Authorization": "Bearer hard-admin-token-000", **JSON}
WINDOW = {"Authorization": "Bearer hard-window-token-00", **JSON}
SUPER = {"Authorization": "Bearer hard-super-token-000", **JSON}


@pytest.fixture(scope="module")
def stream() -> list[ev.Event]:
    return simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events[:900]


def body(events: list[ev.Event]) -> bytes:
    return b"[" + b",".join(ev.encode_event(e) for e in events) + b"]"


def config(tmp_path: Path, **kw: Any) -> ServiceConfig:
    return ServiceConfig(db=str(tmp_path / "log.db"), tokens=TOKENS, retry_after_s=1, **kw)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(config(tmp_path, max_body_bytes=200_000))) as c:
        wait_ready(c)
        yield c


def alert_ids(client: TestClient) -> dict[str, bytes]:
    page = client.get("/v1/alerts?limit=5000", headers=ADMIN).json()
    return {a["alert_id"]: msgspec.json.encode(msgspec.convert(a, Alert)) for a in page["alerts"]}


def expected(events: list[ev.Event]) -> dict[str, bytes]:
    return {a.alert_id: msgspec.json.encode(a) for a in reference_alerts(events)}


# --- strict requests -----------------------------------------------------------------------


def test_only_json_and_ndjson_bodies_are_taken(client: TestClient, stream: list[ev.Event]) -> None:
    auth = {"Authorization": ADMIN["Authorization"]}
    for media in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = auth if media is None else {**auth, "Content-Type": media}
        r = client.post("/v1/events", content=body(stream[:2]), headers=headers)
        assert r.status_code == 415, (media, r.text)
    assert client.post("/v1/events", content=body(stream[:2]), headers=ADMIN).status_code == 202
    ids = msgspec.json.encode([e.event_id for e in stream[:2]])
    assert (
        client.post(
            "/v1/events/known", content=ids, headers={**auth, "Content-Type": "text/plain"}
        ).status_code
        == 415
    )
    assert client.get("/v1/stats", headers=ADMIN).json()["events_stored"] == 2
    # before: a gzip body was "malformed JSON" (byte 0), and a `br` label on a plain body was ignored
    for coding, content in (("gzip", gzip.compress(body(stream[2:4]))), ("br", body(stream[2:4]))):
        r = client.post("/v1/events", content=content, headers={**ADMIN, "Content-Encoding": coding})
        assert r.status_code == 415 and f"Content-Encoding `{coding}` is not taken" in r.json()["error"]
    assert client.get("/v1/stats", headers=ADMIN).json()["events_stored"] == 2


def test_duplicate_keys_are_refused_naming_the_key(client: TestClient, stream: list[ev.Event]) -> None:
    good = ev.encode_event(stream[5])
    twice = good[:-1] + b',"event_id":"other"}'
    r = client.post("/v1/events", content=b"[" + good + b"," + twice + b"]", headers=ADMIN)
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"index": 1, "field": "$.event_id", "message": "duplicate key `event_id`"}]
    nd = {**ADMIN, "Content-Type": "application/x-ndjson"}
    assert client.post("/v1/events", content=good + b"\n" + twice, headers=nd).status_code == 422
    assert client.get("/v1/stats", headers=ADMIN).json()["events_stored"] == 0


def test_deep_nesting_and_huge_integers_get_4xx(client: TestClient) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    assert client.post("/v1/events", content=deep, headers=ADMIN).status_code == 400
    obj = b"[" + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"]"
    assert client.post("/v1/events", content=obj, headers=ADMIN).status_code == 400
    assert client.post("/v1/events/known", content=deep, headers=ADMIN).status_code in (400, 422)
    for query in (
        f"cursor={2**63}",
        "cursor=-1",
        "cursor=1e3",
        "limit=0",
        "limit=5001",
        f"limit={2**64}",
        "since=2025-03-03",  # a date, not a date-time
        "since=2025-03-03T10:00:00",  # no offset
        "since=yesterday",
    ):
        r = client.get(f"/v1/alerts?{query}", headers=SUPER)
        assert r.status_code == 422, (query, r.text)
    assert client.get(f"/v1/alerts?cursor={2**63 - 1}", headers=SUPER).status_code == 200
    assert client.get("/v1/alerts?since=2025-03-03T10:00:00%2B08:00", headers=SUPER).status_code == 200


def test_every_body_is_bounded(client: TestClient) -> None:
    ids = msgspec.json.encode(["x" * 100] * 3000)  # 300 kB > max_body_bytes
    assert client.post("/v1/events/known", content=ids, headers=SUPER).status_code == 413
    assert client.post("/v1/quarantine/1/drop", content=b"x" * 5000, headers=ADMIN).status_code == 413


def test_the_page_has_security_headers_and_no_token_in_its_address(client: TestClient) -> None:
    r = client.get("/?token=hard-super-token-000")
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "'unsafe-inline'" not in csp
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    for tag in ("script", "style"):  # the page's own inline blocks are exactly what the policy admits
        (block,) = re.findall(rf"<{tag}>(.*?)</{tag}>", r.text, flags=re.S)
        digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert (
        "URLSearchParams" not in r.text and "hard-super-token-000" not in r.text
    )  # no token from the address
    assert "sessionStorage" in r.text and "localStorage" not in r.text
    assert client.get("/v1/stats", headers=SUPER).headers["x-content-type-options"] == "nosniff"


def test_starlettes_own_answers_carry_the_headers_and_never_redirect(client: TestClient) -> None:
    """Before: 404 and 405 were plain text without nosniff/X-Frame-Options/Cache-Control, and
    ``/v1/alerts/`` redirected to a Location built from the request's Host header."""
    for method, path, status in (
        ("PUT", "/v1/events", 405),
        ("GET", "/nope", 404),
        ("GET", "/v1/alerts/", 404),
    ):
        r = client.request(method, path, headers={"Host": "evil.example"}, follow_redirects=False)
        assert r.status_code == status, path
        assert r.headers["content-type"] == "application/json" and "error" in r.json()
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
        assert r.headers["cache-control"] == "no-store" and "location" not in r.headers
    assert client.request("PUT", "/v1/events").headers["allow"] == "POST"


def test_the_acknowledgement_mark_is_private(
    client: TestClient, tmp_path: Path, stream: list[ev.Event]
) -> None:
    assert client.post("/v1/events", content=body(stream[:5]), headers=ADMIN).status_code == 202
    mark = tmp_path / "log.db.ack"
    assert stat.S_IMODE(mark.stat().st_mode) == 0o600
    assert mark.read_text().startswith("supsim-ack 1 seq=5 events=5 ")


# --- the per-token cap -----------------------------------------------------------------------


def test_one_token_cannot_hold_more_than_its_share(tmp_path: Path, stream: list[ev.Event]) -> None:
    app = create_app(config(tmp_path, max_requests_per_token=3))
    writer = app.state.service.writer
    commit = writer._commit_group
    gate = threading.Event()

    def held(group):  # type: ignore[no-untyped-def]
        if not gate.wait(timeout=30):
            raise TimeoutError("the test never released the writer")
        return commit(group)

    writer._commit_group = held

    async def scenario() -> tuple[list[int], int]:
        async with app.router.lifespan_context(app):
            await wait_until_async(lambda: writer.ready, timeout=20, what="the writer to replay the log")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                posts = [
                    asyncio.ensure_future(
                        c.post("/v1/events", content=body(stream[i : i + 10]), headers=WINDOW)
                    )
                    for i in range(0, 100, 10)
                ]
                await wait_until_async(
                    lambda: sum(p.done() for p in posts) >= 7, timeout=20, what="the requests over the cap"
                )
                other = await c.get("/v1/stats", headers=SUPER)  # another token is not held up
                gate.set()
                rs = await asyncio.wait_for(asyncio.gather(*posts), timeout=30)
                return [r.status_code for r in rs], other.status_code

    try:
        codes, other = asyncio.run(scenario())
    finally:
        gate.set()
    assert sorted(codes) == [202] * 3 + [429] * 7 and other == 200


# --- a failed commit heals without a restart ------------------------------------------------


def test_a_failed_commit_recovers_once_the_cause_is_gone(tmp_path: Path, stream: list[ev.Event]) -> None:
    app = create_app(config(tmp_path))
    store = app.state.service.writer.store
    commit = store.commit
    failures = {"left": 0}

    def flaky() -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise sqlite3.OperationalError("disk I/O error")
        commit()

    store.commit = flaky
    with TestClient(app) as client:
        wait_ready(client)
        assert client.post("/v1/events", content=body(stream[:300]), headers=WINDOW).status_code == 202
        failures["left"] = 1  # the disk fails once
        failed = client.post("/v1/events", content=body(stream[300:600]), headers=WINDOW)
        assert failed.status_code == 503 and "disk I/O error" in failed.text
        wait_until(
            lambda: client.get("/readyz").status_code == 200, timeout=20, what="recovery without restart"
        )
        for i in range(300, 900, 300):  # the failed batch is resent, then the rest
            assert (
                client.post("/v1/events", content=body(stream[i : i + 300]), headers=WINDOW).status_code
                == 202
            )
        live = alert_ids(client)
        stored = client.get("/v1/stats", headers=ADMIN).json()["events_stored"]
    assert stored == 900 and live == expected(stream)


# --- the log against the acknowledgement mark --------------------------------------------------


def _fill(tmp_path: Path, stream: list[ev.Event]) -> None:
    with TestClient(create_app(config(tmp_path))) as client:
        wait_ready(client)
        for i in range(0, len(stream), 100):
            assert (
                client.post("/v1/events", content=body(stream[i : i + 100]), headers=ADMIN).status_code == 202
            )


def _start(tmp_path: Path, *, accept: bool = False) -> tuple[int, dict[str, Any], int]:
    app = create_app(config(tmp_path), accept_log_loss=accept)
    with TestClient(app) as client:
        wait_until(
            lambda: app.state.service.writer.ready or app.state.service.writer.broken is not None,
            timeout=20,
            what="the start-up check and replay",
        )
        ready = client.get("/readyz")
        post = client.post("/v1/events", content=b"[]", headers=ADMIN).status_code
        return ready.status_code, ready.json(), post


@pytest.mark.parametrize("damage", ["deleted rows", "zero-byte database"])
def test_a_log_that_lost_acknowledged_events_keeps_the_service_unready(
    tmp_path: Path, stream: list[ev.Event], damage: str
) -> None:
    _fill(tmp_path, stream)
    db = tmp_path / "log.db"
    if damage == "deleted rows":
        con = sqlite3.connect(db)
        con.execute("DELETE FROM events WHERE seq > 400")
        con.commit()
        con.close()
    else:
        db.write_bytes(b"")
        for side in ("log.db-wal", "log.db-shm"):
            (tmp_path / side).unlink(missing_ok=True)
    code, answer, post = _start(tmp_path)
    assert code == 503 and post == 503
    assert "lost acknowledged events" in answer["reason"] and "900 were acknowledged" in answer["reason"]
    assert _start(tmp_path)[0] == 503  # still, until an operator decides
    assert _start(tmp_path, accept=True)[0] == 200
    assert _start(tmp_path)[0] == 200  # the decision is recorded in the mark


def test_a_torn_mark_is_reported(tmp_path: Path, stream: list[ev.Event]) -> None:
    _fill(tmp_path, stream[:100])
    mark = tmp_path / "log.db.ack"
    mark.write_bytes(mark.read_bytes()[:-7])
    code, answer, _ = _start(tmp_path)
    assert code == 503 and "mark is unreadable" in answer["reason"]
