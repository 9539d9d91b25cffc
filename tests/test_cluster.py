"""The distributed deployment's parts: partition map, message ids, the alerts view, snapshots, the API.

The pure parts are tested without a server; the ingest API is tested on a real local
cluster (3 NATS servers on 127.0.0.1, free ports, stopped afterwards whatever happens).
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import msgspec
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from engine.contract.alerts import Alert
from engine.service.cluster.chaos import ChaosError, parse_chaos
from engine.service.cluster.jetstream import server_config
from engine.service.cluster.layout import (
    ClusterConfig,
    event_subject,
    msg_id,
    partition_of_key,
    partitions_of_worker,
)
from engine.service.cluster.view import AlertFilter, AlertsView
from engine.service.cluster.worker import PartitionRunner
from engine.service.halls import reference_alerts
from sim.common.scenario import load_scenario
from sim.hall.world import simulate

ROOT = Path(__file__).resolve().parent.parent
_ENC = msgspec.json.Encoder()


@pytest.fixture(scope="module")
def smoke_events() -> list:
    scenario = load_scenario(ROOT / "scenarios" / "smoke.yaml")
    return list(simulate(scenario, seed=scenario.seed).events)


def test_the_partition_of_a_hall_is_stable_across_processes() -> None:
    # crc32, not the per-process salted hash(): these values must never change for a cluster.
    assert [partition_of_key(h, 8) for h in ("H1", "H1~r1", "H1~r2", "H1~r3")] == [0, 5, 7, 1]
    assert partitions_of_worker(1, 3, 8) == [1, 4, 7]


@given(st.integers(1, 6), st.integers(1, 40))
def test_workers_share_the_partitions_exactly_once(workers: int, partitions: int) -> None:
    dealt = [p for w in range(workers) for p in partitions_of_worker(w, workers, partitions)]
    assert sorted(dealt) == list(range(partitions))


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30))
def test_message_ids_are_header_safe_and_per_hall(hall: str, ident: str) -> None:
    a, b = msg_id("event", hall, ident), msg_id("event", hall + "x", ident)
    assert a == msg_id("event", hall, ident) and a != b
    assert a.isascii() and a.isalnum() and len(a) == 33
    assert msg_id("alert", hall, ident) != a
    subject = event_subject(partition_of_key(hall, 8), hall)
    tokens = subject.split(".")
    assert len(tokens) == 3 and all(t and "*" not in t and ">" not in t and " " not in t for t in tokens)


def test_chaos_specs_parse_and_bad_items_are_named() -> None:
    kills = parse_chaos("worker:1@9, nats@3,ingest:0@6")
    assert [(k.role, k.which, k.at_s) for k in kills] == [("nats", "", 3.0), ("ingest", "0", 6.0),
                                                          ("worker", "1", 9.0)]  # fmt: skip
    with pytest.raises(ChaosError, match="item 2 `disk@4`"):
        parse_chaos("nats@1,disk@4")
    with pytest.raises(ChaosError, match="only a NATS server"):
        parse_chaos("worker:leader@4")


def test_server_configs_bind_loopback_and_route_to_every_peer() -> None:
    config = ClusterConfig(
        dir="/x", port=9000, nats_ports=[1, 2, 3], route_ports=[4, 5, 6], monitor_ports=[7, 8, 9],
        ingest_ports=[10], tokens="t.yaml",
    )  # fmt: skip
    text = server_config(config, 1)
    assert (
        'listen: "127.0.0.1:2"' in text and 'http: "127.0.0.1:8"' in text and 'listen: "127.0.0.1:5"' in text
    )
    assert all(f"nats-route://127.0.0.1:{p}" in text for p in (4, 5, 6))
    assert config.replicas == 3


def _alert(i: int, hall: str, rule: str = "r") -> Alert:
    return Alert(alert_id=f"a{i}", rule=rule, level="yellow", subject=f"case:{i}",
                 ts=datetime(2024, 1, 1, tzinfo=UTC), hall_id=hall)  # fmt: skip


def test_the_alerts_view_pages_by_stream_sequence_and_keeps_one_copy_per_id() -> None:
    view = AlertsView(js=None)  # type: ignore[arg-type]
    for seq, (i, hall) in enumerate([(1, "H1"), (2, "H2"), (1, "H1"), (3, "H1")], start=10):
        view.add(seq, msg_id("alert", hall, f"a{i}"), _ENC.encode(_alert(i, hall, rule=f"r{i}")))
    assert len(view) == 3 and view.duplicates == 1 and view.last_seq == 13
    bodies, cursor, more = view.page(AlertFilter(limit=2))
    assert [msgspec.json.decode(b)["alert_id"] for b in bodies] == ["a1", "a2"] and cursor == 11 and more
    bodies, cursor, more = view.page(AlertFilter(cursor=cursor))
    assert [msgspec.json.decode(b)["alert_id"] for b in bodies] == ["a3"] and cursor == 13 and not more
    bodies, cursor, _ = view.page(AlertFilter(hall="H2"))
    assert len(bodies) == 1 and cursor == 13  # a filtered scan still advances the cursor
    assert view.page(AlertFilter(cursor=13)) == ([], 13, False)  # the last cursor is kept for tailing


def test_a_snapshot_restores_engines_that_raise_the_same_alerts(smoke_events: list) -> None:
    """Pickled mid-stream (closures and all), the engines continue exactly as the uninterrupted ones."""
    from engine.rules.rulebook import Rulebook

    config = ClusterConfig(dir="/x", port=1, nats_ports=[1], route_ports=[2], monitor_ports=[3],
                           ingest_ports=[4], tokens="t", nats=1)  # fmt: skip
    book = Rulebook.default()
    half = len(smoke_events) // 2
    first = PartitionRunner(None, None, config, 0, book, "f")  # type: ignore[arg-type]
    before = [a for _, a in first.engine.process_keyed(smoke_events[:half])]
    first.seq = half
    seq, blob = first.freeze()
    assert seq == half
    second = PartitionRunner(None, None, config, 0, book, "f")  # type: ignore[arg-type]
    second.engine.engines = pickle.loads(blob)["engines"]
    after = [a for _, a in second.engine.process_keyed(smoke_events[half:])]
    resumed = sorted(_ENC.encode(a) for a in before + after)
    assert resumed == sorted(_ENC.encode(a) for a in reference_alerts(smoke_events))
    assert after  # the second half raises alerts, so the check compares something


# --- a real cluster ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    from engine.service.cluster.supervisor import down, up

    d = tmp_path_factory.mktemp("cluster")
    tokens = d / "tokens.yaml"
    tokens.write_text(
        yaml.safe_dump(
            {
                "tokens": [
                    {"token": "admin-token-0123456789", "role": "admin"},
                    {"token": "super-token-0123456789", "role": "supervisor"},
                    {"token": "window-h1-0123456789", "role": "window", "hall": "H1"},
                ]
            }
        )
    )
    try:
        state = up(d / "c", tokens=tokens, workers=2, ingest=1, attached=True, timeout=60)
        yield state.ingest_url, {"admin": "admin-token-0123456789", "super": "super-token-0123456789",
                                 "window": "window-h1-0123456789"}, d / "c"  # fmt: skip
    finally:
        if (d / "c" / "cluster.json").exists():
            down(d / "c")


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.slow
def test_the_cluster_ingest_api_answers_as_the_single_node_service(cluster, smoke_events) -> None:
    url, tok, _ = cluster
    c = httpx.Client(base_url=url, timeout=30)
    body = _ENC.encode(smoke_events[:50])
    assert c.post("/v1/events", content=body).status_code == 401
    assert c.post("/v1/events", content=body, headers=_auth(tok["super"])).status_code == 403
    bad = b"[" + _ENC.encode(smoke_events[0]) + b',{"kind":"case.submitted"}]'
    r = c.post("/v1/events", content=bad, headers=_auth(tok["admin"]))
    assert r.status_code == 422 and r.json()["errors"][0]["index"] == 1
    assert c.post("/v1/events", content=b"[{", headers=_auth(tok["admin"])).status_code == 400
    r = c.post("/v1/events", content=body, headers=_auth(tok["window"]))
    assert r.status_code == 202 and r.json() == {"accepted": 50, "duplicates": 0}
    r = c.post("/v1/events", content=_ENC.encode(smoke_events[:60]), headers=_auth(tok["admin"]))
    assert r.json() == {"accepted": 10, "duplicates": 50}  # resends dropped by the stream (message id)
    for i in range(60, len(smoke_events), 500):
        chunk = _ENC.encode(smoke_events[i : i + 500])
        assert c.post("/v1/events", content=chunk, headers=_auth(tok["admin"])).status_code == 202
    reference = reference_alerts(smoke_events)
    deadline = time.monotonic() + 30
    while True:
        page = c.get("/v1/alerts?limit=5000", headers=_auth(tok["super"])).json()
        if len(page["alerts"]) >= len(reference) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    live = sorted(_ENC.encode(a) for a in msgspec.convert(page["alerts"], list[Alert]))
    assert live == sorted(_ENC.encode(a) for a in reference) and len(live) > 100
    assert c.get("/v1/alerts", headers=_auth(tok["window"])).status_code == 403
    ids = [e.event_id for e in smoke_events[:5]] + ["never-sent"]
    r = c.post("/v1/events/known", content=_ENC.encode(ids), headers=_auth(tok["super"]))
    assert r.json() == {"known": 5, "missing": ["never-sent"]}
    stats = c.get("/v1/stats", headers=_auth(tok["super"])).json()
    assert stats["events_stream"]["messages"] == len(smoke_events)  # no duplicate stored
