"""The SQLite log: arrival order, uniqueness of event ids and alert ids, paging."""

from __future__ import annotations

from pathlib import Path

from engine.contract import events as ev
from engine.service.halls import reference_alerts
from engine.service.store import AlertQuery, EventStore
from sim.common.scenario import load_scenario
from sim.hall.world import simulate

ROOT = Path(__file__).resolve().parent.parent


def test_log_keeps_arrival_order_and_ignores_duplicates(tmp_path: Path) -> None:
    stream = simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events[:400]
    store = EventStore(tmp_path / "log.db")
    store.begin()
    new = store.insert_events(stream[:300], [ev.encode_event(e) for e in stream[:300]])
    store.commit()
    store.begin()
    again = store.insert_events(stream[200:], [ev.encode_event(e) for e in stream[200:]])
    store.commit()
    assert len(new) == 300 and [e.event_id for e in again] == [e.event_id for e in stream[300:]]
    replay = [ev.decode_event(b) for chunk in store.iter_event_bodies(chunk=64) for b in chunk]
    assert [e.event_id for e in replay] == [e.event_id for e in stream]

    alerts = reference_alerts(stream)
    import msgspec

    bodies = [msgspec.json.encode(a) for a in alerts]
    store.begin()
    assert store.insert_alerts(alerts, bodies) == len(alerts) > 3
    assert store.insert_alerts(alerts, bodies) == 0  # a replay re-raises the same ids
    store.commit()
    reader = store.reader()
    first, cursor, more = reader.alerts(AlertQuery(limit=2))
    rest, _, done = reader.alerts(AlertQuery(cursor=cursor, limit=10_000))
    assert len(first) == 2 and more and not done and len(first) + len(rest) == len(alerts)
    assert reader.has_events([stream[0].event_id, "nope"]) == {stream[0].event_id}
    reader.close()
    store.close()


def test_rollback_leaves_nothing(tmp_path: Path) -> None:
    stream = simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events[:10]
    store = EventStore(tmp_path / "log.db")
    store.begin()
    store.insert_events(stream, [ev.encode_event(e) for e in stream])
    store.rollback()
    assert store.count_events() == 0
    store.close()
