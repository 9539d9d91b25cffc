"""kill -9 during ingestion: every acknowledged event survives and the alerts equal an uninterrupted run."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest
import yaml

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.service.halls import reference_alerts
from sim.common.scenario import load_scenario
from sim.hall.world import simulate
from tests.service_process import Server
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # two service processes and a kill -9
ADMIN = "restart-admin-token-0000"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    cfg = tmp_path / "service.yaml"
    data = {"db": str(tmp_path / "log.db"), "tokens": [{"token": ADMIN, "role": "admin"}]}
    cfg.write_text(yaml.safe_dump(data))
    srv = Server(cfg)
    try:
        yield srv
    finally:
        srv.kill()


def _alerts(url: str, max_pages: int = 100) -> list[Alert]:
    out: list[Alert] = []
    cursor = 0
    for _ in range(max_pages):
        page = httpx.get(f"{url}/v1/alerts?limit=5000&cursor={cursor}", headers=_h(), timeout=10).json()
        out += msgspec.convert(page["alerts"], list[Alert])
        cursor = page["next_cursor"]
        if not page["more"]:
            return out
    pytest.fail(f"the alert cursor still says more after {max_pages} pages of 5000")


def _h() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"}


def _ids(alerts: list[Alert]) -> dict[str, bytes]:
    return {a.alert_id: msgspec.json.encode(a) for a in alerts}


def test_kill_9_loses_no_acknowledged_event_and_replays_alerts(server: Server) -> None:
    stream = simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events
    batches = [stream[i : i + 40] for i in range(0, len(stream), 40)]
    acked: list[str] = []
    server.start()

    def post_all() -> None:
        with httpx.Client(base_url=server.url, headers=_h(), timeout=5) as c:
            for batch in batches:
                payload = b"[" + b",".join(ev.encode_event(e) for e in batch) + b"]"
                try:
                    r = c.post("/v1/events", content=payload)
                except httpx.TransportError:
                    return
                if r.status_code != 202:
                    return
                acked.extend(e.event_id for e in batch)

    poster = threading.Thread(target=post_all, daemon=True)
    poster.start()
    wait_until(
        lambda: len(acked) >= len(stream) // 3 or not poster.is_alive(),
        timeout=60,
        what=f"a third of the stream ({len(stream) // 3} events) to be acknowledged",
        poll=0.005,
    )
    server.kill()
    poster.join(10)
    assert not poster.is_alive(), "the poster did not stop within 10 s of the kill"
    assert len(stream) // 3 <= len(acked) < len(stream), "the poster stopped before a third was acked"

    server.start()
    known = httpx.post(
        server.url + "/v1/events/known", content=msgspec.json.encode(acked), headers=_h()
    ).json()
    assert known["missing"] == [] and known["known"] == len(acked)
    stored = httpx.get(server.url + "/v1/stats", headers=_h()).json()["events_stored"]
    assert stored >= len(acked)
    assert _ids(_alerts(server.url)) == _ids(reference_alerts(stream[:stored]))

    # the sources resend everything; duplicates are ignored and the result is the uninterrupted run
    for batch in batches:
        payload = b"[" + b",".join(ev.encode_event(e) for e in batch) + b"]"
        assert httpx.post(server.url + "/v1/events", content=payload, headers=_h()).status_code == 202
    assert _ids(_alerts(server.url)) == _ids(reference_alerts(stream))


def test_a_wal_cut_after_kill_9_is_detected_and_waits_for_the_operator(server: Server) -> None:
    """The WAL loses its tail after a crash: the mark says more was acknowledged; not ready until told."""
    stream = simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events[:2000]
    server.start()
    with httpx.Client(base_url=server.url, headers=_h(), timeout=10) as c:
        for i in range(0, len(stream), 100):
            payload = b"[" + b",".join(ev.encode_event(e) for e in stream[i : i + 100]) + b"]"
            assert c.post("/v1/events", content=payload).status_code == 202
    server.kill()
    db = Path(yaml.safe_load(server.config.read_text())["db"])
    wal = db.with_name(db.name + "-wal")
    assert wal.stat().st_size > 100_000, "the commits were expected in the WAL (no checkpoint yet)"
    with wal.open("r+b") as f:
        f.truncate(wal.stat().st_size // 2)

    server.start(ready=False)
    wait_until(
        lambda: (
            "lost acknowledged events"
            in httpx.get(server.url + "/readyz", timeout=5).json().get("reason", "")
        ),
        timeout=30,
        what="the start-up check to report the lost tail on /readyz",
    )
    ready = httpx.get(server.url + "/readyz", timeout=5)
    assert ready.status_code == 503 and "2000 were acknowledged" in ready.json()["reason"]
    r = httpx.post(server.url + "/v1/events", content=b"[]", headers=_h(), timeout=5)
    assert r.status_code == 503
    server.kill()

    server.args = ["--accept-log-loss"]  # the operator's decision
    server.start()
    stored = httpx.get(server.url + "/v1/stats", headers=_h(), timeout=5).json()["events_stored"]
    assert 0 < stored < 2000
