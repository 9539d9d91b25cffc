"""The service's durable log: events in arrival order and the alerts they raised, in SQLite.

Why SQLite in WAL mode: one file, no server to run, readers never block the writer, and a
commit is one fsync of the log. ``synchronous=FULL`` makes a commit durable before it
returns, so the service may acknowledge a batch as soon as :meth:`EventStore.commit`
returns. Many requests share one transaction (group commit, see :mod:`engine.service.writer`)
and therefore one fsync.

Why store arrival order (``seq``) rather than event time: the engine is event-time based
and deterministic given the arrival order, so replaying the log in ``seq`` order into fresh
engines rebuilds exactly the state of the uninterrupted run, including which events were
late. ``event_id`` is unique: a second copy is a duplicate, counted and not stored, for
as long as the log lives (longer than the engine's own bounded duplicate memory).

The store is used by one writer thread; readers open their own connection
(:meth:`EventStore.reader`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.contract import events as ev
from engine.contract.alerts import Alert

__all__ = ["AlertQuery", "EventStore", "StoreReader"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    hall_id TEXT,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    seq INTEGER PRIMARY KEY,
    alert_id TEXT NOT NULL UNIQUE,
    rule TEXT NOT NULL,
    level TEXT NOT NULL,
    hall_id TEXT,
    department_id TEXT,
    ts REAL NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_ts ON alerts (ts);
"""


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA busy_timeout = 5000")
    if not readonly:
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = FULL")
    return con


@dataclass(frozen=True, slots=True)
class AlertQuery:
    """Filters of ``GET /v1/alerts``; ``cursor`` is the last ``seq`` the client has seen."""

    cursor: int = 0
    since: float | None = None
    rule: str | None = None
    level: str | None = None
    hall: str | None = None
    department: str | None = None
    limit: int = 500


class EventStore:
    """The writer side: append events and alerts inside one transaction per group."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = _connect(self.path)
        self._con.executescript(_SCHEMA)

    def begin(self) -> None:
        self._con.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Make everything since :meth:`begin` durable (one fsync with ``synchronous=FULL``)."""
        self._con.execute("COMMIT")

    def rollback(self) -> None:
        if self._con.in_transaction:
            self._con.execute("ROLLBACK")

    def insert_events(self, events: Sequence[ev.Event], bodies: Sequence[bytes]) -> list[ev.Event]:
        """Append the events not seen before; returns them, in order. Call inside a transaction."""
        cur = self._con.cursor()
        new: list[ev.Event] = []
        sql = "INSERT OR IGNORE INTO events (event_id, kind, hall_id, body) VALUES (?, ?, ?, ?)"
        for event, body in zip(events, bodies, strict=True):
            kind = type(event).__struct_config__.tag
            cur.execute(sql, (event.event_id, kind, getattr(event, "hall_id", None), body))
            if cur.rowcount == 1:
                new.append(event)
        return new

    def insert_alerts(self, alerts: Sequence[Alert], bodies: Sequence[bytes]) -> int:
        """Store alerts not stored before (a replay re-raises the same ids); returns how many."""
        cur = self._con.cursor()
        sql = (
            "INSERT OR IGNORE INTO alerts (alert_id, rule, level, hall_id, department_id, ts, body)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        n = 0
        for alert, body in zip(alerts, bodies, strict=True):
            cur.execute(
                sql,
                (alert.alert_id, alert.rule, alert.level, alert.hall_id, alert.department_id,
                 alert.ts.timestamp(), body),
            )  # fmt: skip
            n += cur.rowcount
        return n

    def iter_event_bodies(self, chunk: int = 10_000) -> Iterator[list[bytes]]:
        """Stored events in arrival order, in chunks, for the replay on restart."""
        last = 0
        while True:
            rows = self._con.execute(
                "SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (last, chunk)
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [bytes(r[1]) for r in rows]

    def count_events(self) -> int:
        return int(self._con.execute("SELECT count(*) FROM events").fetchone()[0])

    def alert_levels(self) -> list[tuple[str | None, str | None, str, int]]:
        """(hall, department, level, count) over all stored alerts, for the centre's board."""
        rows = self._con.execute(
            "SELECT hall_id, department_id, level, count(*) FROM alerts GROUP BY 1, 2, 3"
        ).fetchall()
        return [(r[0], r[1], r[2], int(r[3])) for r in rows]

    def alert_rules(self) -> dict[str, int]:
        rows = self._con.execute("SELECT rule, count(*) FROM alerts GROUP BY rule").fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def reader(self) -> StoreReader:
        return StoreReader(self.path)

    def close(self) -> None:
        self._con.close()


class StoreReader:
    """A read connection (WAL readers see the last commit and never block the writer)."""

    def __init__(self, path: Path) -> None:
        self._con = _connect(path, readonly=True)

    def alerts(self, q: AlertQuery) -> tuple[list[bytes], int, bool]:
        """One page of alert bodies in ``seq`` order, the cursor to continue from, and whether more wait.

        The cursor is returned even on the last page, so a console can poll for new alerts.
        """
        where = ["seq > ?"]
        args: list[object] = [q.cursor]
        if q.since is not None:
            where.append("ts >= ?")
            args.append(q.since)
        for column, value in (
            ("rule", q.rule),
            ("level", q.level),
            ("hall_id", q.hall),
            ("department_id", q.department),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        args.append(q.limit + 1)
        sql = f"SELECT seq, body FROM alerts WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?"
        rows = self._con.execute(sql, args).fetchall()
        more = len(rows) > q.limit
        rows = rows[: q.limit]
        next_cursor = int(rows[-1][0]) if rows else q.cursor
        return [bytes(r[1]) for r in rows], next_cursor, more

    def has_events(self, event_ids: Sequence[str]) -> set[str]:
        """Which of these ids are in the log (used by the harness's loss check via the API)."""
        found: set[str] = set()
        for i in range(0, len(event_ids), 500):
            part = list(event_ids[i : i + 500])
            marks = ",".join("?" * len(part))
            rows = self._con.execute(f"SELECT event_id FROM events WHERE event_id IN ({marks})", part)
            found.update(r[0] for r in rows)
        return found

    def close(self) -> None:
        self._con.close()
