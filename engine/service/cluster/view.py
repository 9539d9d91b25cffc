"""Read side of the cluster: an alerts view fed by the ALERTS stream, and a lazy index of stored events.

Why a view in every ingest process rather than a database: the ALERTS stream *is* the
durable record (replicated, deduplicated by message id); a view is only a cache of it that
any process can rebuild by reading the stream from the start. The cursor of
``GET /v1/alerts`` is the stream sequence, so pages are in arrival order, as with
``supsim serve``, and a console can tail from the last cursor.

Why the view also deduplicates: JetStream forgets message ids after the duplicate window;
an alert re-published after that (a worker replaying a partition from zero) would be a
second copy in the stream. The view keeps the first copy of each message id.

Why the view also counts alerts per hall and unit (``GET /v1/board/network``, as ``supsim
serve`` serves it): the board's trend is read from these counters. Which alerts are still
*open*, the case KPIs and each hall's newest event are engine state held by the workers,
who publish them (:mod:`engine.service.cluster.facts`); until every partition has, the
board falls back to the *raised* counts kept here (``"counts": "raised"``, null KPIs and
``sources``).

Why the event index is lazy: only the loss check (``POST /v1/events/known``) needs it; it
reads the EVENTS stream on demand from where it last stopped.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from nats.js import JetStreamContext

from engine.contract.alerts import Alert
from engine.service.centre.network import HallFacts
from engine.service.centre.trend import AlertTrend
from engine.service.centre.units import UnitTree
from engine.service.cluster.jetstream import Tail
from engine.service.cluster.layout import ALERTS_STREAM, EVENTS_STREAM

__all__ = ["AlertFilter", "AlertsView", "EventIndex"]

logger = logging.getLogger(__name__)

_ALERT = msgspec.json.Decoder(Alert)


class _EventId(msgspec.Struct):
    event_id: str


_EVENT_ID = msgspec.json.Decoder(_EventId)


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Filters of ``GET /v1/alerts``; ``cursor`` is the last ALERTS stream sequence the client has seen."""

    cursor: int = 0
    since: float | None = None
    rule: str | None = None
    level: str | None = None
    hall: str | None = None
    department: str | None = None
    limit: int = 500

    def matches(self, a: Alert) -> bool:
        return (
            (self.since is None or a.ts.timestamp() >= self.since)
            and (self.rule is None or a.rule == self.rule)
            and (self.level is None or a.level == self.level)
            and (self.hall is None or a.hall_id == self.hall)
            and (self.department is None or a.department_id == self.department)
        )


class AlertsView:
    """Every alert of the ALERTS stream, in stream order, first copy of each message id."""

    def __init__(self, js: JetStreamContext) -> None:
        self.js = js
        self._seqs: list[int] = []
        self._rows: list[tuple[bytes, Alert]] = []
        self._ids: set[str] = set()
        self.last_seq = 0
        self.duplicates = 0
        self.by_rule: Counter[str] = Counter()
        self.board: Counter[tuple[str, str, str]] = Counter()
        self.trend = AlertTrend(UnitTree())
        self._raised: dict[str, Counter[str]] = {}  # hall → level → alerts raised

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, seq: int, ident: str, body: bytes) -> None:
        self.last_seq = seq
        if ident in self._ids:
            self.duplicates += 1
            return
        self._ids.add(ident)
        alert = _ALERT.decode(body)
        self._seqs.append(seq)
        self._rows.append((body, alert))
        self.by_rule[alert.rule] += 1
        self.board[(alert.hall_id or "", alert.department_id or "", alert.level)] += 1
        if alert.hall_id:
            self._raised.setdefault(alert.hall_id, Counter())[alert.level] += 1
        self.trend.add(alert.hall_id or "", alert.ts.timestamp())

    async def run(self, stop: asyncio.Event) -> None:
        tail = Tail(self.js, ALERTS_STREAM, "alerts.>", start_seq=1, batch=1000)
        try:
            while not stop.is_set():
                for m in await tail.fetch(timeout=0.5):
                    ident = (m.headers or {}).get("Nats-Msg-Id") or f"seq:{m.metadata.sequence.stream}"
                    self.add(m.metadata.sequence.stream, ident, m.data)
        finally:
            await tail.close()

    def page(self, q: AlertFilter) -> tuple[list[bytes], int, bool]:
        """One page of alert bodies after ``q.cursor``, the cursor to continue from, and whether more wait."""
        out: list[bytes] = []
        cursor = q.cursor
        for i in range(bisect.bisect_right(self._seqs, q.cursor), len(self._seqs)):
            body, alert = self._rows[i]
            if not q.matches(alert):
                cursor = self._seqs[i]
                continue
            if len(out) == q.limit:
                return out, cursor, True
            out.append(body)
            cursor = self._seqs[i]
        return out, max(cursor, q.cursor), False

    def alerts_by_hall(self) -> dict[str, dict[str, dict[str, int]]]:
        board: dict[str, dict[str, dict[str, int]]] = {}
        for (hall, dept, level), n in sorted(self.board.items()):
            board.setdefault(hall, {}).setdefault(dept, {})[level] = n
        return board

    def hall_facts(self) -> dict[str, HallFacts]:
        """Raised alerts per hall by level: what the view can give the network board."""
        return {
            hall: HallFacts(warning=c["warning"], yellow=c["yellow"], red=c["red"])
            for hall, c in list(self._raised.items())
        }


class EventIndex:
    """Which event ids the EVENTS stream holds, read on demand from where the last call stopped."""

    def __init__(self, js: JetStreamContext) -> None:
        self.js = js
        self.ids: set[str] = set()
        self._tail: Tail | None = None
        self._lock = asyncio.Lock()

    async def known(self, event_ids: Sequence[str], *, timeout: float = 60.0) -> set[str]:
        async with self._lock:
            if self._tail is None:
                self._tail = Tail(self.js, EVENTS_STREAM, "events.>", start_seq=1, batch=2000)
            info = await self.js.stream_info(EVENTS_STREAM)
            last = info.state.last_seq
            deadline = time.monotonic() + timeout
            while self._tail.next_seq <= last:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"reading the event stream up to {last} took over {timeout:g} s")
                for m in await self._tail.fetch(timeout=1.0):
                    self.ids.add(_EVENT_ID.decode(m.data).event_id)
            return {i for i in event_ids if i in self.ids}

    def stats(self) -> dict[str, Any]:
        return {"indexed": len(self.ids), "next_seq": self._tail.next_seq if self._tail else 1}
