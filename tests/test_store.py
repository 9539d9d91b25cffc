"""The SQLite log: arrival order, identities scoped by hall, paging, migration, file modes."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import msgspec

from engine.contract import events as ev
from engine.service.halls import partition_of, reference_alerts
from engine.service.store import AlertQuery, EventStore
from sim.common.scenario import load_scenario
from sim.hall.world import simulate

ROOT = Path(__file__).resolve().parent.parent


def _stream(n: int) -> list[ev.Event]:
    return simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events[:n]


def _insert(store: EventStore, events: list[ev.Event]) -> list[tuple[int, ev.Event]]:
    bodies = [ev.encode_event(e) for e in events]
    return store.insert_events(events, bodies, [partition_of(e) for e in events])


def _in_hall(events: list[ev.Event], hall: str) -> list[ev.Event]:
    """The same events (same ids, same case ids) as told by another hall."""
    return [msgspec.structs.replace(e, hall_id=hall) if getattr(e, "hall_id", None) else e for e in events]


def test_log_keeps_arrival_order_and_ignores_duplicates(tmp_path: Path) -> None:
    stream = _stream(400)
    store = EventStore(tmp_path / "log.db")
    store.begin()
    new = _insert(store, stream[:300])
    store.commit()
    store.begin()
    again = _insert(store, stream[200:])
    store.commit()
    assert len(new) == 300 and [e.event_id for _, e in again] == [e.event_id for e in stream[300:]]
    assert [s for s, _ in again] == list(range(301, 401))  # seqs continue in arrival order
    replay = [ev.decode_event(b) for chunk in store.iter_event_rows(chunk=64) for _, _, b in chunk]
    assert [e.event_id for e in replay] == [e.event_id for e in stream]

    alerts = reference_alerts(stream)
    keyed = [(a.hall_id or "~trading", a) for a in alerts]
    bodies = [msgspec.json.encode(a) for a in alerts]
    store.begin()
    assert store.insert_alerts(keyed, bodies) == [True] * len(alerts) and len(alerts) > 3
    assert not any(store.insert_alerts(keyed, bodies))  # a replay re-raises the same ids
    store.commit()
    reader = store.reader()
    first, cursor, more = reader.alerts(AlertQuery(limit=2))
    rest, _, done = reader.alerts(AlertQuery(cursor=cursor, limit=10_000))
    assert len(first) == 2 and more and not done and len(first) + len(rest) == len(alerts)
    hall = getattr(stream[0], "hall_id", None)
    assert reader.has_events([(hall, stream[0].event_id), (hall, "nope"), ("H9", stream[0].event_id)]) == {
        (hall, stream[0].event_id)
    }
    reader.close()
    store.close()


def test_two_halls_with_the_same_ids_keep_both(tmp_path: Path) -> None:
    """Halls number their events and cases independently: H2's event X is not H1's event X."""
    h1 = [e for e in _stream(300) if getattr(e, "hall_id", None) == "H1"]
    h2 = _in_hall(h1, "H2")
    store = EventStore(tmp_path / "log.db")
    store.begin()
    assert len(_insert(store, h1)) == len(h1)
    assert len(_insert(store, h2)) == len(h2)  # nothing of H2 is a "duplicate" of H1
    assert _insert(store, h2[:10]) == []  # a real resend of H2 still is
    a1 = reference_alerts(h1)
    a2 = reference_alerts(h2)
    assert {a.alert_id for a in a1} == {a.alert_id for a in a2}  # the engine's ids carry no hall
    keyed = [("H1", a) for a in a1] + [("H2", a) for a in a2]
    assert all(store.insert_alerts(keyed, [msgspec.json.encode(a) for _, a in keyed]))
    store.commit()
    reader = store.reader()
    assert store.count_events() == 2 * len(h1)
    bodies, _, _ = reader.alerts(AlertQuery(hall="H2", limit=5000))
    assert len(bodies) == len(a2)
    ids = [e.event_id for e in h1]
    assert reader.has_events([("H2", i) for i in ids]) == {("H2", i) for i in ids}
    reader.close()
    store.close()


def test_rollback_leaves_nothing(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "log.db")
    store.begin()
    _insert(store, _stream(10))
    store.rollback()
    assert store.count_events() == 0
    store.close()


def test_database_files_are_private(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "log.db")
    store.begin()
    _insert(store, _stream(5))
    store.commit()
    for name in ("log.db", "log.db-wal", "log.db-shm"):
        mode = stat.S_IMODE((tmp_path / name).stat().st_mode)
        assert mode == 0o600, f"{name} is {oct(mode)}"
    store.close()


def test_a_log_of_the_old_schema_is_migrated(tmp_path: Path) -> None:
    """A log written with globally unique event ids opens with its events in their halls."""
    stream = _stream(50)
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
        " hall_id TEXT, body BLOB NOT NULL);"
        "CREATE TABLE alerts (seq INTEGER PRIMARY KEY, alert_id TEXT NOT NULL UNIQUE, rule TEXT NOT NULL,"
        " level TEXT NOT NULL, hall_id TEXT, department_id TEXT, ts REAL NOT NULL, body BLOB NOT NULL);"
    )
    con.executemany(
        "INSERT INTO events (event_id, kind, hall_id, body) VALUES (?, ?, ?, ?)",
        [(e.event_id, type(e).__struct_config__.tag, getattr(e, "hall_id", None), ev.encode_event(e))
         for e in stream],
    )  # fmt: skip
    con.commit()
    con.close()
    store = EventStore(path)
    rows = [r for chunk in store.iter_event_rows() for r in chunk]
    assert [(s, p) for s, p, _ in rows] == [(i + 1, partition_of(e)) for i, e in enumerate(stream)]
    store.begin()
    assert _insert(store, _in_hall(stream, "H2")) != []  # the new uniqueness is in force
    store.commit()
    store.close()
