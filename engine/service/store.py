"""The service's durable log: events in arrival order and the alerts they raised, in SQLite.

Why SQLite in WAL mode: one file, no server to run, readers never block the writer, and a
commit is one fsync of the log. ``synchronous=FULL`` makes a commit durable before it
returns, so the service may acknowledge a batch as soon as :meth:`EventStore.commit`
returns. Many requests share one transaction (group commit, see :mod:`engine.service.writer`)
and therefore one fsync.

Why store arrival order (``seq``) rather than event time: the engine is event-time based
and deterministic given the arrival order, so replaying the log in ``seq`` order into fresh
engines rebuilds exactly the state of the uninterrupted run, including which events were
late.

Why identities are scoped by partition (the hall, or ``~trading`` / ``~global`` for events
without one, see :func:`engine.service.halls.partition_of`): halls number their cases and
events independently, so ``C1`` of hall H1 and ``C1`` of hall H2 are different cases, and the
engine's alert ids (``rule:level:subject``) carry no hall. ``(part, event_id)`` and
``(part, alert_id)`` are unique; a second copy of an event *of the same hall* is a
duplicate, counted and not stored, for as long as the log lives. Nothing one hall posts can
collide with, suppress or overwrite another hall's events or alerts.

The quarantine table holds events the engine failed on (:mod:`engine.service.isolation`):
the event stays in ``events`` (so a resend is still a duplicate), and the replay skips it
while it is held or dropped. Releasing one moves it to the end of the arrival order, where
the live engine applies it, so a replay applies it at the same place.

The store is used by one writer thread; readers open their own connection
(:meth:`EventStore.reader`). Database files are created 0600: they hold every event of
every hall.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.contract import events as ev
from engine.contract.alerts import Alert

__all__ = ["AlertQuery", "EventStore", "QuarantineEntry", "StoreReader", "private_file"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    part TEXT NOT NULL,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    hall_id TEXT,
    body BLOB NOT NULL,
    UNIQUE (part, event_id)
);
CREATE INDEX IF NOT EXISTS events_part ON events (part);
CREATE TABLE IF NOT EXISTS alerts (
    seq INTEGER PRIMARY KEY,
    part TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    rule TEXT NOT NULL,
    level TEXT NOT NULL,
    hall_id TEXT,
    department_id TEXT,
    ts REAL NOT NULL,
    body BLOB NOT NULL,
    UNIQUE (part, alert_id)
);
CREATE INDEX IF NOT EXISTS alerts_ts ON alerts (ts);
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL,
    part TEXT NOT NULL,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    error TEXT NOT NULL,
    at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'held',
    decided_at REAL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# Logs written before identities were scoped by hall had `event_id UNIQUE` and no `part`:
# copied into the new tables once, inside one transaction. Events without a hall go to the
# trading partition when they are tendering events, else to the global one (partition_of).
_TENDER_KINDS = "('tender.published','bid.submitted','bids.opened','expert.scored','tender.awarded')"
_MIGRATE_V0 = f"""
ALTER TABLE events RENAME TO events_v0;
ALTER TABLE alerts RENAME TO alerts_v0;
DROP INDEX IF EXISTS alerts_ts;
{_SCHEMA}
INSERT INTO events (seq, part, event_id, kind, hall_id, body)
    SELECT seq, CASE WHEN hall_id IS NOT NULL AND hall_id != '' THEN hall_id
                     WHEN kind IN {_TENDER_KINDS} THEN '~trading' ELSE '~global' END,
           event_id, kind, hall_id, body FROM events_v0;
INSERT INTO alerts (seq, part, alert_id, rule, level, hall_id, department_id, ts, body)
    SELECT seq, CASE WHEN hall_id IS NOT NULL AND hall_id != '' THEN hall_id ELSE '~trading' END,
           alert_id, rule, level, hall_id, department_id, ts, body FROM alerts_v0;
DROP TABLE events_v0;
DROP TABLE alerts_v0;
"""


def private_file(path: Path) -> None:
    """Create ``path`` if missing, readable and writable by the owner only (0600)."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    path.chmod(0o600)


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


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    """One event the engine failed on, as ``GET /v1/quarantine`` lists it."""

    id: int
    seq: int
    part: str
    event_id: str
    kind: str
    error: str
    at: float
    state: str
    decided_at: float | None


_Q_COLUMNS = "id, seq, part, event_id, kind, error, at, state, decided_at"


def _entry(row: Sequence[object]) -> QuarantineEntry:
    return QuarantineEntry(*row)  # type: ignore[arg-type]


class EventStore:
    """The writer side: append events and alerts inside one transaction per group."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        private_file(self.path)
        self._con = _connect(self.path)
        cols = {r[1] for r in self._con.execute("PRAGMA table_info(events)")}
        if cols and "part" not in cols:
            self._con.executescript(f"BEGIN IMMEDIATE; {_MIGRATE_V0} COMMIT;")
        self._con.executescript(_SCHEMA)
        for extra in ("-wal", "-shm"):  # SQLite gives them the log's mode; older logs may differ
            side = self.path.with_name(self.path.name + extra)
            if side.exists():
                side.chmod(0o600)

    # --- transactions -------------------------------------------------------------------

    def begin(self) -> None:
        self._con.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Make everything since :meth:`begin` durable (one fsync with ``synchronous=FULL``)."""
        self._con.execute("COMMIT")

    def hand_off_checkpoints(self) -> None:
        """Stop checkpointing on commit: :mod:`engine.service.upkeep.checkpoints` does it instead."""
        self._con.execute("PRAGMA wal_autocheckpoint = 0")

    def rollback(self) -> None:
        if self._con.in_transaction:
            self._con.execute("ROLLBACK")

    def probe_write(self) -> None:
        """One tiny durable write: does the log take commits again (after a failed one)?"""
        self.begin()
        try:
            self._con.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', ?)", (repr(time.time()),)
            )
            self.commit()
        except Exception:
            self.rollback()
            raise

    # --- appending ----------------------------------------------------------------------

    def insert_events(
        self, events: Sequence[ev.Event], bodies: Sequence[bytes], parts: Sequence[str]
    ) -> list[tuple[int, ev.Event]]:
        """Append the events not seen before in their partition; returns (seq, event) of those, in order.

        Call inside a transaction.
        """
        cur = self._con.cursor()
        new: list[tuple[int, ev.Event]] = []
        sql = "INSERT OR IGNORE INTO events (part, event_id, kind, hall_id, body) VALUES (?, ?, ?, ?, ?)"
        for event, body, part in zip(events, bodies, parts, strict=True):
            kind = type(event).__struct_config__.tag
            cur.execute(sql, (part, event.event_id, kind, getattr(event, "hall_id", None), body))
            if cur.rowcount == 1:
                new.append((int(cur.lastrowid or 0), event))
        return new

    def insert_alerts(self, keyed: Sequence[tuple[str, Alert]], bodies: Sequence[bytes]) -> list[bool]:
        """Store alerts not stored before in their partition (a replay re-raises the same ids).

        ``keyed`` pairs each alert with the partition whose engine raised it; returns, per
        alert, whether it was new.
        """
        cur = self._con.cursor()
        sql = (
            "INSERT OR IGNORE INTO alerts (part, alert_id, rule, level, hall_id, department_id, ts, body)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        fresh: list[bool] = []
        for (part, alert), body in zip(keyed, bodies, strict=True):
            cur.execute(
                sql,
                (part, alert.alert_id, alert.rule, alert.level, alert.hall_id, alert.department_id,
                 alert.ts.timestamp(), body),
            )  # fmt: skip
            fresh.append(cur.rowcount == 1)
        return fresh

    # --- reading (writer side) ----------------------------------------------------------

    def iter_event_rows(self, chunk: int = 10_000) -> Iterator[list[tuple[int, str, bytes]]]:
        """Stored events (seq, part, body) in arrival order, in chunks, for the replay on restart."""
        last = 0
        while True:
            rows = self._con.execute(
                "SELECT seq, part, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (last, chunk)
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [(int(r[0]), str(r[1]), bytes(r[2])) for r in rows]

    def partition_rows(self, part: str, before_seq: int) -> list[tuple[int, bytes]]:
        """(seq, body) of one partition's events with ``seq < before_seq``, in arrival order."""
        rows = self._con.execute(
            "SELECT seq, body FROM events WHERE part = ? AND seq < ? ORDER BY seq", (part, before_seq)
        ).fetchall()
        return [(int(r[0]), bytes(r[1])) for r in rows]

    def event_body(self, seq: int) -> tuple[str, bytes] | None:
        row = self._con.execute("SELECT part, body FROM events WHERE seq = ?", (seq,)).fetchone()
        return (str(row[0]), bytes(row[1])) if row else None

    def count_events(self) -> int:
        return int(self._con.execute("SELECT count(*) FROM events").fetchone()[0])

    def max_seq(self) -> int:
        return int(self._con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])

    def quick_check(self) -> list[str]:
        """``PRAGMA quick_check``: ``[]`` when the database file is consistent, else its findings."""
        rows = [str(r[0]) for r in self._con.execute("PRAGMA quick_check").fetchall()]
        return [] if rows == ["ok"] else rows

    def alert_levels(self) -> list[tuple[str | None, str | None, str, int]]:
        """(hall, department, level, count) over all stored alerts, for the centre's board."""
        rows = self._con.execute(
            "SELECT hall_id, department_id, level, count(*) FROM alerts GROUP BY 1, 2, 3"
        ).fetchall()
        return [(r[0], r[1], r[2], int(r[3])) for r in rows]

    def recent_alert_times(self, span_s: float) -> list[tuple[str | None, float]]:
        """(hall, ts) of the alerts within ``span_s`` of the newest alert time, for the centre's trend."""
        rows = self._con.execute(
            "SELECT hall_id, ts FROM alerts WHERE ts >= (SELECT max(ts) FROM alerts) - ? ORDER BY ts",
            (span_s,),
        ).fetchall()
        return [(r[0], float(r[1])) for r in rows]

    def alert_rules(self) -> dict[str, int]:
        rows = self._con.execute("SELECT rule, count(*) FROM alerts GROUP BY rule").fetchall()
        return {r[0]: int(r[1]) for r in rows}

    # --- quarantine ---------------------------------------------------------------------

    def quarantine(self, seq: int, part: str, kind: str, event_id: str, error: str) -> None:
        """Hold the stored event ``seq``: the replay skips it until it is released."""
        self._con.execute(
            "INSERT INTO quarantine (seq, part, event_id, kind, error, at) VALUES (?, ?, ?, ?, ?, ?)",
            (seq, part, event_id, kind, error, time.time()),
        )

    def skipped_seqs(self) -> set[int]:
        """Seqs the replay must not apply: quarantined events held or dropped."""
        rows = self._con.execute("SELECT seq FROM quarantine WHERE state != 'released'").fetchall()
        return {int(r[0]) for r in rows}

    def quarantine_counts(self) -> dict[str, dict[str, int]]:
        """partition → state → count, for ``/v1/stats`` and ``/metrics``."""
        out: dict[str, dict[str, int]] = {}
        for part, state, n in self._con.execute(
            "SELECT part, state, count(*) FROM quarantine GROUP BY 1, 2 ORDER BY 1, 2"
        ):
            out.setdefault(str(part), {})[str(state)] = int(n)
        return out

    def quarantine_entry(self, qid: int) -> QuarantineEntry | None:
        row = self._con.execute(f"SELECT {_Q_COLUMNS} FROM quarantine WHERE id = ?", (qid,)).fetchone()
        return _entry(row) if row else None

    def decide(self, qid: int, state: str, new_seq: int | None = None) -> None:
        """Mark a held entry ``released`` (its event moved to ``new_seq``) or ``dropped``."""
        if new_seq is not None:
            old = self._con.execute("SELECT seq FROM quarantine WHERE id = ?", (qid,)).fetchone()[0]
            self._con.execute("UPDATE events SET seq = ? WHERE seq = ?", (new_seq, old))
        self._con.execute(
            "UPDATE quarantine SET state = ?, decided_at = ?, seq = coalesce(?, seq) WHERE id = ?",
            (state, time.time(), new_seq, qid),
        )

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

    def has_events(self, keys: Sequence[tuple[str | None, str]]) -> set[tuple[str | None, str]]:
        """Which of these (hall, event id) pairs are in the log (the harness's loss check).

        ``hall`` None means an event without a hall (the trading or the global partition),
        ``"~*"`` any hall (``~`` begins no hall id).
        """
        found: set[tuple[str | None, str]] = set()
        by_part: dict[str | None, list[str]] = {}
        for hall, eid in keys:
            by_part.setdefault(hall, []).append(eid)
        for hall, ids in by_part.items():
            head: list[object]
            if hall == "~*":
                where, head = "1", []
            elif hall is None:
                where, head = "part IN ('~trading', '~global')", []
            else:
                where, head = "part = ?", [hall]
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                marks = ",".join("?" * len(part))
                sql = f"SELECT event_id FROM events WHERE {where} AND event_id IN ({marks})"
                found.update((hall, r[0]) for r in self._con.execute(sql, [*head, *part]))
        return found

    def quarantine(self, state: str | None, limit: int) -> list[QuarantineEntry]:
        sql = f"SELECT {_Q_COLUMNS} FROM quarantine"
        args: list[object] = []
        if state is not None:
            sql += " WHERE state = ?"
            args.append(state)
        rows = self._con.execute(sql + " ORDER BY id LIMIT ?", [*args, limit]).fetchall()
        return [_entry(r) for r in rows]

    def close(self) -> None:
        self._con.close()
