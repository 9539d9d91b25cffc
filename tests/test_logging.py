"""Service errors reach the log with their traceback; ``-v`` sets the level; one version everywhere."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from engine.contract import events as ev
from engine.service.app import create_app
from engine.service.auth import TokenSpec
from engine.service.config import ServiceConfig
from sim.common.scenario import load_scenario
from sim.hall.world import simulate
from supsim import __version__
from supsim.cli.main import main
from tests.waiting import wait_ready, wait_until

ROOT = Path(__file__).resolve().parent.parent
ADMIN = {"Authorization": "Bearer log-admin-token-0000", "Content-Type": "application/json"}


@pytest.fixture
def root_level() -> Iterator[None]:
    """``main`` sets the root logger's level; put it back so other tests see the default."""
    root = logging.getLogger()
    level = root.level
    try:
        yield
    finally:
        root.setLevel(level)


@pytest.fixture(scope="module")
def payload() -> bytes:
    events = simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events[:200]
    return b"[" + b",".join(ev.encode_event(e) for e in events) + b"]"


def _app(tmp_path: Path):  # type: ignore[no-untyped-def]
    cfg = ServiceConfig(
        db=str(tmp_path / "log.db"), tokens=[TokenSpec(token=ADMIN["Authorization"][7:], role="admin")]
    )
    return create_app(cfg)


def _errors(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger and r.levelno >= logging.ERROR]


def test_a_failed_commit_is_logged_once_with_its_traceback(
    tmp_path: Path, payload: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    app = _app(tmp_path)
    store = app.state.service.writer.store

    def disk_full(*args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    store.insert_alerts = disk_full
    caplog.set_level(logging.DEBUG, logger="engine.service")
    with TestClient(app) as client:
        wait_ready(client)
        first = client.post("/v1/events", content=payload, headers=ADMIN)
        again = client.post("/v1/events", content=payload, headers=ADMIN)
        ready = client.get("/readyz")
    assert first.status_code == again.status_code == ready.status_code == 503
    assert "database or disk is full" in first.json()["error"]  # the client gets one line...
    (record,) = _errors(caplog, "engine.service.writer")  # ...the log the traceback, once
    assert record.exc_info is not None and record.exc_info[0] is sqlite3.OperationalError
    assert "Traceback (most recent call last)" in caplog.text and "in disk_full" in caplog.text
    assert "broken" in record.getMessage()


def test_an_exception_in_a_handler_is_logged_and_answered_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = _app(tmp_path)
    svc = app.state.service

    def reader_lost(*args: object) -> None:
        raise RuntimeError("reader connection lost")

    with TestClient(app) as client:
        wait_ready(client)
        svc.reader.alerts = reader_lost
        r = client.get("/v1/alerts", headers=ADMIN)
        metrics = client.get("/metrics", headers=ADMIN).text
    assert r.status_code == 500 and r.json() == {"error": "internal error; the service log has the details"}
    (record,) = _errors(caplog, "engine.service.app")
    assert record.getMessage() == "GET /v1/alerts failed"
    assert record.exc_info is not None and "reader connection lost" in str(record.exc_info[1])
    assert "in reader_lost" in caplog.text  # the traceback, not just the message
    assert 'supsim_ingest_requests_total{code="500"} 1' in metrics


def test_a_log_that_cannot_be_replayed_is_logged_and_the_service_stays_unready(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = _app(tmp_path)

    def unreadable(chunk: int = 0) -> Iterator[list[tuple[int, str, bytes]]]:
        raise sqlite3.DatabaseError("database disk image is malformed")
        yield []

    app.state.service.writer.store.iter_event_rows = unreadable
    with TestClient(app) as client:
        wait_until(lambda: app.state.service.writer.broken is not None, timeout=20, what="the replay to fail")
        ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["reason"].startswith("rebuild failed")
    (record,) = _errors(caplog, "engine.service.writer")
    assert record.exc_info is not None and isinstance(record.exc_info[1], sqlite3.DatabaseError)


def test_a_stored_event_that_no_longer_decodes_is_quarantined_not_fatal(
    tmp_path: Path, payload: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """A log written under a looser contract (the contract may tighten) still starts."""
    with TestClient(_app(tmp_path)) as client:
        wait_ready(client)
        assert client.post("/v1/events", content=payload, headers=ADMIN).status_code == 202
    con = sqlite3.connect(tmp_path / "log.db")
    con.execute("UPDATE events SET body = ? WHERE seq = 5", (b'{"kind": "no such event", "event_id": "x5"}',))
    con.commit()
    con.close()
    app = _app(tmp_path)
    with TestClient(app) as client:
        wait_ready(client)
        held = client.get("/v1/quarantine", headers=ADMIN).json()["entries"]
        stats = client.get("/v1/stats", headers=ADMIN).json()
    assert [(e["event_id"], e["kind"], e["state"]) for e in held] == [("x5", "no such event", "held")]
    assert "no longer decodes" in held[0]["error"]
    assert stats["replayed_on_start"] == 199
    assert sum(states["held"] for states in stats["quarantine"].values()) == 1


@pytest.mark.usefixtures("root_level")
@pytest.mark.parametrize(
    ("flags", "level"), [([], logging.WARNING), (["-v"], logging.INFO), (["-vv"], logging.DEBUG)]
)
def test_verbose_sets_the_log_level(flags: list[str], level: int, caplog: pytest.LogCaptureFixture) -> None:
    assert main([*flags, "validate", str(ROOT / "scenarios" / "smoke.yaml")]) == 0
    assert logging.getLogger().level == level
    info = [
        r.getMessage() for r in caplog.records if r.name == "supsim.cli.main" and r.levelno == logging.INFO
    ]
    if flags:
        assert info[0] == f"supsim {__version__}: validate" and info[-1].startswith(
            "supsim validate: exit 0 "
        )
    else:
        assert info == []


@pytest.mark.usefixtures("root_level")
def test_verbose_may_follow_the_command(caplog: pytest.LogCaptureFixture) -> None:
    assert main(["schema", "events", "-v"]) == 0
    assert logging.getLogger().level == logging.INFO


def test_one_version_for_the_command_line_the_package_and_the_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert (
        capsys.readouterr().out.strip() == f"supsim {metadata.version('supsim')}" == f"supsim {__version__}"
    )
    assert main(["run", str(ROOT / "scenarios" / "smoke.yaml"), "--out", str(tmp_path), "--quiet"]) == 0
    assert json.loads((tmp_path / "metrics.json").read_text())["supsim_version"] == __version__
