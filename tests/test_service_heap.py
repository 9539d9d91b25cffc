"""The heap policy: full collections stay small while the state grows, and nothing is lost to it.

Why counts rather than pauses: a pause is a timing, noisy on a shared machine; how many
objects a full collection has to scan is what the pause is proportional to, and after
the policy's freeze it is what was promoted since the last one, not the whole state.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from engine.contract import events as ev
from engine.service.app import create_app
from engine.service.auth import TokenSpec
from engine.service.config import ServiceConfig
from engine.service.node.merge import merge_metrics
from engine.service.upkeep.heap import HeapPolicy
from sim.common.scenario import load_scenario
from sim.hall.world import simulate
from tests.waiting import wait_ready

ROOT = Path(__file__).resolve().parent.parent
ADMIN = {"Authorization": "Bearer heap-admin-token-000", "Content-Type": "application/json"}


class _Node:
    """A tracked object that can take part in a cycle."""

    def __init__(self) -> None:
        self.other: object = None


@pytest.fixture
def policy() -> Iterator[HeapPolicy]:
    p = HeapPolicy()
    p.install()
    yield p
    p.uninstall()


def test_a_growing_state_leaves_the_collector_only_what_is_new(policy: HeapPolicy) -> None:
    state = [[] for _ in range(200_000)]  # the engine's state, growing: lists are always tracked
    gc.collect()
    left = len(gc.get_objects(generation=2))
    # without the freeze every one of them would stay in generation 2, scanned by each full collection
    assert left < 1_000 < len(state) <= gc.get_freeze_count()
    assert policy.pauses[2].n >= 1


def test_automatic_full_collections_are_frozen_too(policy: HeapPolicy) -> None:
    before = policy.pauses[2].n
    state = []
    for _ in range(20):  # enough allocation for the collector to run generation 2 on its own
        state.extend([[] for _ in range(50_000)])
    assert policy.pauses[2].n > before
    assert len(gc.get_objects(generation=2)) < len(state) // 10


def test_tidy_reclaims_a_cycle_that_died_while_frozen(policy: HeapPolicy) -> None:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    gc.collect()  # survives: frozen
    del a, b  # now unreachable garbage, out of the collector's sight
    assert gc.collect() == 0
    assert policy.tidy() >= 2
    assert policy.tidied == 1 and policy.tidy_found >= 2


def test_the_last_uninstall_unfreezes_and_removes_the_callback() -> None:
    first, second = HeapPolicy(), HeapPolicy()
    callbacks = len(gc.callbacks)
    first.install()
    second.install()
    assert len(gc.callbacks) == callbacks + 1
    first.uninstall()
    assert gc.get_freeze_count() > 0 and len(gc.callbacks) == callbacks + 1
    second.uninstall()
    second.uninstall()  # twice is harmless
    assert gc.get_freeze_count() == 0 and len(gc.callbacks) == callbacks


def test_the_series_render_and_a_node_keeps_its_longest_pause(policy: HeapPolicy) -> None:
    gc.collect()
    text = policy.render()
    assert 'supsim_gc_pause_seconds_count{generation="2"}' in text
    assert "supsim_heap_freezes_total " in text
    one = 'supsim_gc_pause_longest_seconds{generation="2"} 0.25\nsupsim_heap_tidy_total 1\n'
    two = 'supsim_gc_pause_longest_seconds{generation="2"} 0.5\nsupsim_heap_tidy_total 2\n'
    head = "# HELP supsim_x x\n# TYPE supsim_x gauge\n"
    merged = merge_metrics([head + one, head + two])
    assert 'supsim_gc_pause_longest_seconds{generation="2"} 0.5' in merged
    assert "supsim_heap_tidy_total 3" in merged


def test_the_service_tidies_once_when_ingest_goes_quiet(tmp_path: Path) -> None:
    config = ServiceConfig(
        db=str(tmp_path / "log.db"),
        tokens=[TokenSpec(token="heap-admin-token-000", role="admin")],
        heap_tidy_idle_s=0.4,
    )
    events = simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events[:200]
    with TestClient(create_app(config)) as client:
        wait_ready(client)
        batch = b"[" + b",".join(map(ev.encode_event, events)) + b"]"
        r = client.post("/v1/events", content=batch, headers=ADMIN)
        assert r.status_code == 202
        deadline = time.monotonic() + 10
        while (
            time.monotonic() < deadline
            and "supsim_heap_tidy_total 1" not in client.get("/metrics", headers=ADMIN).text
        ):
            time.sleep(0.1)
        time.sleep(1.0)  # quiet for longer: still one tidy, not one per period
        text = client.get("/metrics", headers=ADMIN).text
        assert "supsim_heap_tidy_total 1\n" in text
        assert "supsim_heap_tidy_unreachable_total" in text
    assert gc.get_freeze_count() == 0  # the service stopped: the heap is the collector's again


def test_a_scrape_never_walks_the_frozen_heap(policy: HeapPolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    """``gc.get_freeze_count()`` walks every frozen object (115 ms with 768 halls' state)."""

    def walk() -> int:
        raise AssertionError("a scrape walked the frozen heap")

    monkeypatch.setattr(gc, "get_freeze_count", walk)
    assert "supsim_heap_freezes_total" in policy.render()
