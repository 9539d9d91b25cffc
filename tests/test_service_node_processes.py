"""``supsim serve --processes 2``: two processes, halls partitioned, the node answering for all of them.

Halls ``H1`` and ``H4`` hash to different processes (``crc32 mod 2``); both tell the same
events with the same case and event ids, as real halls do.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest
import yaml

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.service.halls import reference_alerts
from engine.service.node.layout import owner_of
from sim.common.scenario import load_scenario
from sim.hall.world import simulate
from tests.service_process import Server
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # a node of two service processes and a kill -9
ADMIN = "node-admin-token-00000"
H = {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"}
A, B = "H1", "H4"


def _peer_base() -> int:
    """A port p with p and p + 1 free on 127.0.0.1 (held open together while looking)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = int(s.getsockname()[1])
            with socket.socket() as t:
                try:
                    t.bind(("127.0.0.1", base + 1))
                except OSError:
                    continue
        return base
    raise RuntimeError("no two consecutive free ports")


@pytest.fixture(scope="module")
def stream() -> list[ev.Event]:
    return simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events[:1500]


def in_hall(events: list[ev.Event], hall: str) -> list[ev.Event]:
    return [msgspec.structs.replace(e, hall_id=hall) if getattr(e, "hall_id", None) else e for e in events]


def body(events: list[ev.Event]) -> bytes:
    return b"[" + b",".join(ev.encode_event(e) for e in events) + b"]"


def child_pid(parent: int, index: int) -> int:
    """The pid of process ``index`` of the node started by ``parent``."""
    for pid in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"--process-index" in argv and argv[argv.index(b"--process-index") + 1] == str(index).encode():
            return int(pid)
    raise LookupError(f"no process {index} under {parent}")


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Server]:
    cfg = tmp_path / "service.yaml"
    cfg.write_text(
        yaml.safe_dump({"db": str(tmp_path / "log.db"), "tokens": [{"token": ADMIN, "role": "admin"}]})
    )
    srv = Server(cfg, args=["--processes", "2", "--peer-port", str(_peer_base())])
    try:
        srv.start(timeout=60)
        yield srv
    finally:
        srv.kill()


def all_alerts(url: str) -> list[Alert]:
    out: list[Alert] = []
    cursor = 0
    for pages in range(1, 101):
        # 40 a page, 20 from each process: about 103 alerts a hall take several pages, each cursor
        # carrying both processes' positions
        page = httpx.get(f"{url}/v1/alerts?limit=40&cursor={cursor}", headers=H, timeout=30).json()
        assert len(page["alerts"]) <= 40
        out += msgspec.convert(page["alerts"], list[Alert])
        cursor = int(page["next_cursor"])
        if not page["more"]:
            assert pages > 3 and len({(a.hall_id, a.alert_id) for a in out}) == len(out)  # paged, none twice
            return out
    pytest.fail("the node's alert cursor still says more after 100 pages")


def by_hall(alerts: list[Alert], hall: str) -> dict[str, bytes]:
    return {a.alert_id: msgspec.json.encode(a) for a in alerts if a.hall_id == hall}


def test_two_halls_in_two_processes_are_stored_and_alert_as_in_process(
    node: Server, stream: list[ev.Event], tmp_path: Path
) -> None:
    assert owner_of(A, 2) != owner_of(B, 2)
    a, b = in_hall(stream, A), in_hall(stream, B)
    for i in range(0, len(stream), 250):  # every batch holds both halls: half of it is handed off
        r = httpx.post(
            node.url + "/v1/events", content=body(a[i : i + 250] + b[i : i + 250]), headers=H, timeout=30
        )
        assert r.status_code == 202, r.text
        assert r.json()["duplicates"] == 0
    again = httpx.post(node.url + "/v1/events", content=body(a[:10] + b[:10]), headers=H, timeout=30).json()
    assert again == {"accepted": 0, "duplicates": 20}

    stats = httpx.get(node.url + "/v1/stats", headers=H, timeout=30).json()
    assert stats["processes"] == 2 and stats["events_stored"] == len(a) + len(b) - sum(
        1 for e in stream if not getattr(e, "hall_id", None)
    )
    live = all_alerts(node.url)
    ref = {A: reference_alerts(a), B: reference_alerts(b)}
    for hall in (A, B):
        expected = {x.alert_id: msgspec.json.encode(x) for x in ref[hall] if x.hall_id == hall}
        assert expected and by_hall(live, hall) == expected, hall
        assert set(stats["alerts_by_hall"]) >= {A, B}
    assert {p.name for p in tmp_path.glob("log-*of2.db")} == {"log-0of2.db", "log-1of2.db"}

    keys = [
        {"event_id": e.event_id, "hall_id": h}
        for h in (A, B)
        for e in stream[:50]
        if getattr(e, "hall_id", None)
    ]
    known = httpx.post(
        node.url + "/v1/events/known", content=msgspec.json.encode(keys), headers=H, timeout=30
    )
    assert known.json() == {"known": len(keys), "missing": []}
    metrics = httpx.get(node.url + "/metrics", headers=H, timeout=30).text
    assert f'supsim_ingest_events_total{{result="accepted"}} {stats["events_stored"]}' in metrics

    board = httpx.get(node.url + "/v1/board/network", headers=H, timeout=30)
    assert board.status_code == 200
    assert {c["id"] for c in board.json()["children"]} >= {A, B} and board.json()["total"]["halls"] == 2
    assert httpx.get(node.url + "/v1/quarantine", headers=H, timeout=30).json() == {"entries": []}

    parts = httpx.get(node.url + "/v1/partitions", headers=H, timeout=30).json()
    foreign = parts["owners"][owner_of(B, 2)]["url"]
    r = httpx.post(
        foreign + "/v1/events", content=body(a[:5]), headers={**H, "x-supsim-node-local": "1"}, timeout=30
    )
    assert r.status_code == 421 and "GET /v1/partitions" in r.text


def test_a_killed_process_loses_no_other_process_event_and_the_node_is_unready_until_back(
    node: Server, stream: list[ev.Event]
) -> None:
    assert node.proc is not None
    a, b = in_hall(stream, A), in_hall(stream, B)
    for events in (a[:600], b[:600]):
        r = httpx.post(node.url + "/v1/events", content=body(events), headers=H, timeout=30)
        assert r.status_code == 202, r.text
    victim = child_pid(node.proc.pid, owner_of(B, 2))
    survivor_url = httpx.get(node.url + "/v1/partitions", headers=H, timeout=30).json()["owners"][
        owner_of(A, 2)
    ]["url"]
    os.kill(victim, signal.SIGKILL)

    # the survivor answers for the node: unready, naming the missing process (restarted after 1 s)
    wait_until(
        lambda: httpx.get(survivor_url + "/readyz", timeout=5).status_code == 503,
        timeout=5, what="the node unready after a kill", poll=0.02,
    )  # fmt: skip
    ready = httpx.get(survivor_url + "/readyz", timeout=5)
    assert ready.status_code == 503 and f"process {owner_of(B, 2)}" in ready.json()["reason"]
    # and serves its own halls meanwhile, with everything it acknowledged
    more = httpx.post(survivor_url + "/v1/events", content=body(a[600:900]), headers=H, timeout=30)
    assert more.status_code == 202, more.text
    keys = [{"event_id": e.event_id, "hall_id": A} for e in a[:900] if getattr(e, "hall_id", None)]
    known = httpx.post(
        survivor_url + "/v1/events/known", content=msgspec.json.encode(keys), headers=H, timeout=30
    )
    assert known.json() == {"known": len(keys), "missing": []}

    def back() -> bool:
        try:
            return httpx.get(node.url + "/readyz", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(back, timeout=60, what="the killed process restarted and the node ready again", poll=0.2)
    assert child_pid(node.proc.pid, owner_of(B, 2)) != victim
    keys_b = [{"event_id": e.event_id, "hall_id": B} for e in b[:600] if getattr(e, "hall_id", None)]
    known_b = httpx.post(
        node.url + "/v1/events/known", content=msgspec.json.encode(keys_b), headers=H, timeout=30
    )
    assert known_b.json() == {"known": len(keys_b), "missing": []}
