"""The cluster's network board, fed by the workers' hall facts: the same board as ``supsim serve``.

The same events go through ``supsim serve`` and through the cluster's parts (partition
runners, the facts they publish, the ingest process's board); the boards must be equal,
field for field. Without a server first (the runners driven directly), then on a real local
cluster (3 NATS servers on 127.0.0.1), where a stopped worker must show as lagging.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import msgspec
import pytest
import yaml
from starlette.testclient import TestClient

from engine.contract import events as ev
from engine.rules.rulebook import Rulebook
from engine.service.app import create_app
from engine.service.auth import TokenSpec
from engine.service.cluster.facts import lagging_workers
from engine.service.cluster.ingest_app import create_ingest_app
from engine.service.cluster.layout import ClusterConfig, msg_id, partition_of_key
from engine.service.cluster.view import AlertsView, EventIndex
from engine.service.cluster.worker import PartitionRunner
from engine.service.config import ServiceConfig
from engine.service.halls import partition_of
from sim.common.scenario import load_scenario
from sim.hall.world import simulate
from tests.network_streams import network_stream
from tests.waiting import wait_ready

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ADMIN = "board-admin-token-000"
SUPER = "board-super-token-000"
_ENC = msgspec.json.Encoder()


@pytest.fixture(scope="module")
def stream() -> list[ev.Event]:
    """The scripted county network (open, closed early and overdue cases) and the smoke hall (cards)."""
    smoke = load_scenario(ROOT / "scenarios" / "smoke.yaml")
    return network_stream() + list(simulate(smoke, seed=smoke.seed).events)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _serve_boards(tmp_path: Path, events: list[ev.Event], units: list[str]) -> dict[str, Any]:
    """``GET /v1/board/network`` of ``supsim serve`` for each unit after ``events``."""
    return _serve(tmp_path, events, units)[0]


def _serve(
    tmp_path: Path, events: list[ev.Event], units: list[str]
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """``supsim serve``'s boards of ``units``, its ``/v1/stats`` and its page, after ``events``."""
    tokens = [TokenSpec(token=ADMIN, role="admin"), TokenSpec(token=SUPER, role="supervisor")]
    with TestClient(create_app(ServiceConfig(db=str(tmp_path / "log.db"), tokens=tokens))) as c:
        wait_ready(c)
        for i in range(0, len(events), 500):
            body = b"[" + b",".join(ev.encode_event(e) for e in events[i : i + 500]) + b"]"
            headers = {**_auth(ADMIN), "Content-Type": "application/json"}
            assert c.post("/v1/events", content=body, headers=headers).status_code == 202
        boards = {u: c.get(f"/v1/board/network?unit={u}", headers=_auth(SUPER)).json() for u in units}
        return boards, c.get("/v1/stats", headers=_auth(SUPER)).json(), c.get("/").text


def _config(tmp_path: Path, **kw: Any) -> ClusterConfig:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(f"tokens:\n  - {{token: {SUPER}, role: supervisor}}\n")
    return ClusterConfig(dir=str(tmp_path), port=1, nats_ports=[1], route_ports=[2], monitor_ports=[3],
                         ingest_ports=[4], tokens=str(tokens), nats=1, **kw)  # fmt: skip


def _runners(config: ClusterConfig, events: list[ev.Event], batch: int) -> list[PartitionRunner]:
    """Each partition's runner fed its events in stream order, ``batch`` at a time, as a worker reads them."""
    book = Rulebook.default()
    runners = [PartitionRunner(None, None, config, p, book, "f") for p in range(config.partitions)]  # type: ignore[arg-type]
    by_part: dict[int, list[ev.Event]] = {}
    for e in events:
        by_part.setdefault(partition_of_key(partition_of(e), config.partitions), []).append(e)
    for p, part_events in by_part.items():
        for i in range(0, len(part_events), batch):
            runners[p].apply(part_events[i : i + batch])
            runners[p].seq = i + batch
    return runners


def _board_client(
    config: ClusterConfig,
    runners: list[PartitionRunner],
    events: list[ev.Event],
    unpublished: int | None = None,
) -> TestClient:
    """An ingest process's app (no NATS: its views are fed here) after the runners published."""
    app = create_ingest_app(config)
    svc = app.state.ingest
    view = AlertsView(js=None)  # type: ignore[arg-type]
    book = Rulebook.default()
    replay = PartitionRunner(None, None, config, 0, book, "f")  # type: ignore[arg-type]
    for seq, (key, a) in enumerate(replay.engine.process_keyed(events), start=1):  # the ALERTS stream
        view.add(seq, msg_id("alert", key, a.alert_id), _ENC.encode(a))
    svc.view, svc.index_ = view, EventIndex(js=None)  # type: ignore[arg-type]
    for r in runners:
        if r.partition != unpublished:
            svc.facts.add_facts(r.facts.encode(r.partition, r.partition % config.workers, r.seq))
    now = time.time()
    fresh = {"ts": now, "partitions": {str(p): {"caught_up_at": now, "pending": 0} for p in range(8)}}
    svc.facts.statuses = {i: fresh for i in range(config.workers)}
    return TestClient(app)  # no lifespan: no NATS


def test_the_workers_facts_give_the_board_of_supsim_serve(tmp_path: Path, stream: list[ev.Event]) -> None:
    units = ["", "HY", "HY_T02", "H1"]
    serve = _serve_boards(tmp_path, stream, units)
    config = _config(tmp_path)
    client = _board_client(config, _runners(config, stream, batch=37), stream)
    cluster = {u: client.get(f"/v1/board/network?unit={u}", headers=_auth(SUPER)).json() for u in units}
    assert cluster == serve  # every field: open counts, KPIs, worst halls, trend, sources
    root = serve[""]
    assert root["counts"] == "open" and root["total"]["closed"] > 0 and root["total"]["red"] > 0
    assert root["total"]["overdue_rate"] is not None and root["sources"]["silent_count"] >= 1
    assert root["sources"]["lagging"] == []


def test_until_every_partition_has_published_the_board_counts_raised_alerts(
    tmp_path: Path, stream: list[ev.Event]
) -> None:
    config = _config(tmp_path)
    client = _board_client(config, _runners(config, stream, batch=500), stream, unpublished=3)
    b = client.get("/v1/board/network", headers=_auth(SUPER)).json()
    assert b["counts"] == "raised" and b["sources"] is None and b["total"]["closed"] is None


def test_a_worker_restored_from_a_snapshot_publishes_the_same_facts(tmp_path: Path) -> None:
    """Open alerts and closed-case tallies come back with the engines: the facts continue exactly."""
    config = _config(tmp_path, partitions=1)
    events = network_stream()
    whole = _runners(config, events, batch=50)[0]
    half = len(events) // 2
    first = _runners(config, events[:half], batch=50)[0]
    assert any(row.open_cases for row in first.facts.halls.values())  # cases open at the snapshot
    _, blob = first.freeze()
    book = Rulebook.default()
    store = SimpleNamespace(get=lambda name: asyncio.sleep(0, SimpleNamespace(data=blob)))
    second = PartitionRunner(None, store, config, 0, book, "f")  # type: ignore[arg-type]
    asyncio.run(second.load())
    assert second.loaded_from == "snapshot" and "board" in pickle.loads(blob)
    assert second.facts.halls == first.facts.halls
    for i in range(half, len(events), 50):
        second.apply(events[i : min(i + 50, len(events))])
    assert second.facts.halls == whole.facts.halls
    assert sum(row.closed_overdue for row in whole.facts.halls.values()) == 2  # B closed late in HY, HY_T02


def test_lagging_workers_are_stale_behind_or_silent() -> None:
    now = 1000.0
    statuses: dict[int, dict[str, Any] | None] = {
        0: {"ts": 999.5, "partitions": {"0": {"caught_up_at": 999.0, "pending": 0}}},
        1: {"ts": 980.0, "partitions": {"1": {"caught_up_at": 980.0, "pending": 0}}},  # stopped reporting
        2: {"ts": 999.9, "partitions": {"2": {"caught_up_at": 949.9, "pending": 812}}},  # behind for 50 s
    }
    out = lagging_workers(statuses, workers=4, partitions=4, halls_of=lambda p: p * 10, now=now, lag_s=10)
    assert [(w["worker"], w["reason"], w["halls"]) for w in out] == [
        (1, "status stale", 10), (2, "behind the stream", 20), (3, "no status", 30),
    ]  # fmt: skip
    assert out[0]["status_age_s"] == 20.0 and out[1]["pending"] == 812 and out[1]["behind_s"] == 50.0
    assert out[2]["status_age_s"] is None
    assert lagging_workers(statuses, workers=1, partitions=1, halls_of=abs, now=now, lag_s=10) == []


# --- a real cluster ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    from engine.service.cluster.supervisor import down, up

    d = tmp_path_factory.mktemp("board-cluster")
    tokens = d / "tokens.yaml"
    tokens.write_text(yaml.safe_dump({"tokens": [{"token": ADMIN, "role": "admin"},
                                                 {"token": SUPER, "role": "supervisor"}]}))  # fmt: skip
    try:
        state = up(d / "c", tokens=tokens, workers=2, ingest=1, worker_lag_s=2.0, attached=True, timeout=60)
        yield state.ingest_url, d / "c"
    finally:
        if (d / "c" / "cluster.json").exists():
            down(d / "c")


@pytest.fixture(scope="module")
def fed(cluster: tuple[str, Path], stream: list[ev.Event]) -> tuple[str, Path]:
    """The cluster with the module's stream posted once (resent past the dedup window: stored twice)."""
    url, directory = cluster
    with httpx.Client(base_url=url, timeout=30) as c:
        for i in range(0, len(stream), 500):
            body = b"[" + b",".join(ev.encode_event(e) for e in stream[i : i + 500]) + b"]"
            assert c.post("/v1/events", content=body, headers=_auth(ADMIN)).status_code == 202
    return url, directory


def _chromium(url: str, shot: Path) -> str:
    """The page's DOM after its scripts ran, and a screenshot, from headless Chromium."""
    assert CHROMIUM is not None
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000"]
    subprocess.run([*common, f"--screenshot={shot}", "--window-size=1280,1100", url],
                   capture_output=True, timeout=60)  # fmt: skip
    return subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=60).stdout


def _wait(condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = condition()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.2)


@pytest.mark.slow
def test_the_cluster_board_equals_supsim_serve_and_shows_a_stopped_worker(
    fed: tuple[str, Path], stream: list[ev.Event], tmp_path: Path
) -> None:
    from engine.service.cluster.layout import load_state

    url, directory = fed
    units = ["", "HY", "H1"]
    serve = _serve_boards(tmp_path, stream, units)
    c = httpx.Client(base_url=url, timeout=30)

    def boards() -> dict[str, Any]:
        return {u: c.get(f"/v1/board/network?unit={u}", headers=_auth(SUPER)).json() for u in units}

    got = _wait(lambda: (b := boards()) == serve and b, 30, "the cluster's board to equal supsim serve's")
    assert got[""]["counts"] == "open" and got[""]["total"]["closed"] > 0

    worker = next(p for p in load_state(directory).processes if p.role == "worker" and p.index == 1)
    os.kill(worker.pid, signal.SIGSTOP)
    try:
        lag = _wait(lambda: boards()[""]["sources"]["lagging"], 10, "worker 1 to show as lagging")
    finally:
        os.kill(worker.pid, signal.SIGCONT)
    assert [(w["worker"], w["reason"]) for w in lag] == [(1, "status stale")]
    # older than the 2 s bound; the board rounds ages to 0.1 s, so 2.04 s shows as 2.0
    assert lag[0]["status_age_s"] >= 2.0 and lag[0]["partitions"] == [1, 3, 5, 7]
    _wait(lambda: boards()[""]["sources"]["lagging"] == [], 10, "worker 1 to catch up again")
    assert boards() == serve


@pytest.mark.slow
def test_the_cluster_serves_the_centre_page_with_its_own_figures(
    fed: tuple[str, Path], stream: list[ev.Event], tmp_path: Path
) -> None:
    url, _ = fed
    _, serve_stats, serve_page = _serve(tmp_path, stream, [])
    c = httpx.Client(base_url=url, timeout=30)
    page = c.get("/")
    assert page.status_code == 200 and page.text == serve_page
    assert "script-src 'sha256-" in page.headers["content-security-policy"]

    def caught_up() -> dict[str, Any] | None:
        s = c.get("/v1/stats", headers=_auth(SUPER)).json()
        return s if s["queue_events"] == 0 and s["engine"] == _page_engine(serve_stats) else None

    stats = _wait(caught_up, 30, "the cluster's open cases, late and future events to equal supsim serve's")
    assert stats["events_stored"] == len({(partition_of(e), e.event_id) for e in stream})
    assert "open_by_hall" not in stats and stats["alerts_by_hall"]  # raised alerts per hall and department
    if CHROMIUM is None:
        pytest.skip("headless Chromium is not installed (Debian package `chromium`): page not rendered")
    shot = tmp_path / "cluster-centre.png"
    dom = _chromium(f"{url}/#token={SUPER}", shot)
    assert "live ·" in dom  # a refresh went through every route the page reads
    assert "Warnings and cards raised, by hall and department" in dom
    assert ">HY<" in dom or ">HY</button>" in dom  # the network board's county unit
    assert shot.exists() and shot.stat().st_size > 10_000


def _page_engine(stats: dict[str, Any]) -> dict[str, int]:
    """The engine figures the page shows, from ``supsim serve``'s ``/v1/stats``."""
    return {k: stats["engine"][k] for k in ("open_cases", "late", "future")}


def test_a_lag_bound_that_is_not_positive_is_refused_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from supsim.cli.main import main

    assert main(["cluster", "up", "--dir", str(tmp_path / "c"), "--worker-lag", "0"]) == 2
    assert "--worker-lag must be a positive number of seconds, got 0" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()
