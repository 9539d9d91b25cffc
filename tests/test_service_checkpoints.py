"""WAL checkpoints run beside the writer, never inside one of its commits."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from engine.contract import events as ev
from engine.service.app import create_app
from engine.service.auth import TokenSpec
from engine.service.config import ServiceConfig
from engine.service.store import EventStore
from engine.service.upkeep.checkpoints import Checkpointer
from sim.common.scenario import load_scenario
from sim.hall.world import simulate
from tests.waiting import wait_ready

ROOT = Path(__file__).resolve().parent.parent
ADMIN = {"Authorization": "Bearer ckpt-admin-token-000", "Content-Type": "application/json"}


def _wal_pages(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return (wal.stat().st_size - 32) // (4096 + 24) if wal.exists() else 0


def test_commits_no_longer_checkpoint_and_the_thread_copies_the_log(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    store = EventStore(path)
    store.hand_off_checkpoints()
    con = sqlite3.connect(path, isolation_level=None)
    assert store._con.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    con.execute("CREATE TABLE blobs (b BLOB)")
    store._con.execute("PRAGMA cache_size = 10")
    for _ in range(30):  # about 1,500 pages: past SQLite's automatic threshold of 1,000
        store.begin()
        store._con.executemany("INSERT INTO blobs VALUES (?)", [(b"x" * 4000,)] * 50)
        store.commit()
    assert _wal_pages(path) > 1_000  # no commit copied the log back
    ckpt = Checkpointer(path, every_s=3600)
    ckpt.start()
    try:
        ckpt.run_once()
        assert ckpt.frames_copied > 1_000 and ckpt.wal_frames > 1_000
        store.begin()  # the first commit after a complete checkpoint starts the log over
        store._con.execute("INSERT INTO blobs VALUES (?)", (b"y",))
        store.commit()
        ckpt.run_once()
        assert ckpt.wal_frames < 10
    finally:
        ckpt.stop()
        con.close()
        store.close()
    assert "supsim_wal_checkpoint_seconds_count 3" in ckpt.render()  # two here, one at stop


def test_a_failed_checkpoint_is_logged_counted_and_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "log.db"
    EventStore(path).close()
    ckpt = Checkpointer(path, every_s=3600)
    ckpt.start()
    assert ckpt._con is not None
    ckpt._con.execute("BEGIN")  # a checkpoint inside a transaction is refused by SQLite
    ckpt._con.execute("SELECT count(*) FROM events").fetchall()
    with caplog.at_level(logging.ERROR, logger="engine.service.upkeep.checkpoints"):
        ckpt.run_once()
    assert ckpt.failures == 1
    assert any(r.exc_info for r in caplog.records)  # with its traceback
    ckpt._con.execute("COMMIT")
    ckpt.run_once()
    assert ckpt.failures == 1
    ckpt.stop()


def test_the_service_checkpoints_in_the_background(tmp_path: Path) -> None:
    config = ServiceConfig(
        db=str(tmp_path / "log.db"), tokens=[TokenSpec(token="ckpt-admin-token-000", role="admin")]
    )
    events = simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events[:3000]
    with TestClient(create_app(config)) as client:
        wait_ready(client)
        for i in range(0, len(events), 500):
            batch = b"[" + b",".join(map(ev.encode_event, events[i : i + 500])) + b"]"
            assert client.post("/v1/events", content=batch, headers=ADMIN).status_code == 202
        deadline = time.monotonic() + 10
        copied = 0
        while time.monotonic() < deadline and not copied:
            for line in client.get("/metrics", headers=ADMIN).text.splitlines():
                if line.startswith("supsim_wal_frames_copied_total "):
                    copied = int(line.split()[1])
            time.sleep(0.2)
        assert copied > 0
