"""The centre's board shows open warnings and cards, while the alert log keeps every alert."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.service.app import create_app
from engine.service.auth import TokenSpec
from engine.service.board import CellCounts
from engine.service.config import ServiceConfig
from engine.service.halls import PartitionedEngine
from sim.common.scenario import load_scenario
from sim.hall.world import simulate
from tests.waiting import wait_ready

ROOT = Path(__file__).resolve().parent.parent
ADMIN = {"Authorization": "Bearer board-admin-token-00", "Content-Type": "application/json"}
CHUNK = 200


def _total(board: dict[str, dict[str, dict[str, int]]]) -> int:
    return sum(n for depts in board.values() for levels in depts.values() for n in levels.values())


def _case_alert_closed_later(stream: list[ev.Event]) -> tuple[Alert, int, int]:
    """A case alert raised in chunk c whose case is still open after c and closed after chunk d > c."""
    engine = PartitionedEngine()
    raised: dict[str, tuple[Alert, int]] = {}
    for c in range(0, len(stream), CHUNK):
        for a in engine.process_many(stream[c : c + CHUNK]):
            if a.subject.startswith("case:") and a.hall_id:
                raised.setdefault(a.subject, (a, c))
        for subject, (a, at) in raised.items():
            still_open = subject[5:] in engine.engine(str(a.hall_id)).cases
            if at < c and not still_open:
                return a, at, c
        raised = {s: v for s, v in raised.items() if s[5:] in engine.engine(str(v[0].hall_id)).cases}
    pytest.fail("the smoke stream has no case alert raised while its case was open")


def test_open_board_drops_alerts_of_closed_cases_but_the_log_keeps_them(tmp_path: Path) -> None:
    stream = simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events[:6000]
    alert, raised_at, closed_at = _case_alert_closed_later(stream)
    cfg = ServiceConfig(
        db=str(tmp_path / "log.db"), tokens=[TokenSpec(token="board-admin-token-00", role="admin")]
    )
    app = create_app(cfg)
    with TestClient(app) as client:
        wait_ready(client)
        board = app.state.service.writer.open_board
        hall = str(alert.hall_id)
        for c in range(0, closed_at + CHUNK, CHUNK):
            payload = b"[" + b",".join(ev.encode_event(e) for e in stream[c : c + CHUNK]) + b"]"
            assert client.post("/v1/events", content=payload, headers=ADMIN).status_code == 202
            if c == raised_at:
                assert alert.subject in board.open_subjects(hall)
                stats = client.get("/v1/stats", headers=ADMIN).json()
                assert stats["open_by_hall"][hall][alert.department_id or ""][alert.level] >= 1
        assert alert.subject not in board.open_subjects(hall)  # its case closed: off the board
        log = client.get(f"/v1/alerts?hall={hall}&rule={alert.rule}&limit=5000", headers=ADMIN).json()
        assert alert.alert_id in {a["alert_id"] for a in log["alerts"]}  # ...but still in the log
        stats = client.get("/v1/stats", headers=ADMIN).json()
    # the board is what is open now: fewer than all alerts so far, and exactly the open ones
    engine = PartitionedEngine()
    alerts = [
        a for c in range(0, closed_at + CHUNK, CHUNK) for a in engine.process_many(stream[c : c + CHUNK])
    ]
    open_cases = {(p, cid) for p, eng in engine.engines.items() for cid in eng.cases}
    on_case = sum(
        1 for a in alerts if a.subject.startswith("case:") and (a.hall_id, a.subject[5:]) in open_cases
    )
    cards = {a.subject for a in alerts if not a.subject.startswith("case:")}
    assert _total(stats["open_by_hall"]) == on_case + len(cards)
    assert _total(stats["open_by_hall"]) < _total(stats["alerts_by_hall"]) == len(alerts)


def test_restart_rebuilds_the_same_open_board(tmp_path: Path) -> None:
    stream = simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events[:3000]
    cfg = ServiceConfig(
        db=str(tmp_path / "log.db"), tokens=[TokenSpec(token="board-admin-token-00", role="admin")]
    )
    with TestClient(create_app(cfg)) as client:
        wait_ready(client)
        for c in range(0, len(stream), 250):
            payload = b"[" + b",".join(ev.encode_event(e) for e in stream[c : c + 250]) + b"]"
            assert client.post("/v1/events", content=payload, headers=ADMIN).status_code == 202
        before = client.get("/v1/stats", headers=ADMIN).json()["open_by_hall"]
    with TestClient(create_app(cfg)) as client:
        wait_ready(client)
        after = client.get("/v1/stats", headers=ADMIN).json()["open_by_hall"]
    assert before == after and _total(after) > 0


def _naive(cells: Counter[tuple[str, str, str]]) -> dict[str, dict[str, dict[str, int]]]:
    """The view as every commit used to build it: all cells sorted into nested dicts."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for (hall, dept, level), n in sorted(cells.items()):
        if n:
            out.setdefault(hall, {}).setdefault(dept, {})[level] = n
    return out


def test_cell_counts_view_equals_the_full_rebuild_and_old_views_stay_whole() -> None:
    rng = random.Random(7)
    counts, truth = CellCounts(), Counter[tuple[str, str, str]]()
    views: list[tuple[dict[str, dict[str, dict[str, int]]], str]] = []
    for step in range(400):
        for _ in range(rng.randint(0, 6)):
            cell = (
                f"H{rng.randint(0, 30):02d}",
                f"D{rng.randint(0, 4)}",
                rng.choice(["red", "warning", "yellow"]),
            )
            n = rng.choice([1, 1, 2, -1])  # the open board moves counts down as cases close
            if truth[cell] + n < 0:
                n = 1
            counts.add(cell, n)
            truth[cell] += n
        if step % 3 == 0:
            view = counts.view()
            expected = _naive(truth)
            assert view == expected
            assert list(view) == list(expected)  # halls in order, as the JSON shows them
            assert all(list(view[h]) == list(expected[h]) for h in view)
            views.append((view, json.dumps(view)))
    # A reader holding an older view never sees it change under later commits.
    assert all(json.dumps(view) == frozen for view, frozen in views)
