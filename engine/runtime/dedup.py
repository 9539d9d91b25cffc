"""Dropping a record re-sent under a new id: the same (case, kind, stated time) within a window.

Why: an exchange server (前置机) that re-exports a batch after a failed acknowledgement gives
the copies fresh keys, so the engine's ``event_id`` idempotency does not catch them, and a
case then shows two acceptances or two completions of one step (read as steps out of order
or skipped). A record of a case is identified here by what it states: its case, its kind,
its event time and, for step records, its step. A second record with the same identity
arriving within ``window`` seconds of stream time (the newest accepted event time) of the
first is a copy and is dropped. The window bounds memory, and a real repetition of a record
long after (a step re-started after a correction) is kept.

Only case records are considered: other sources (cameras, queues, attendance) state counts
and presences whose repetition at one instant can be real.
"""

from __future__ import annotations

from collections import deque
from typing import Any

__all__ = ["RecordDedup"]

Identity = tuple[str, str, float, str]


class RecordDedup:
    """Remembers each case record's identity for ``window`` seconds of stream time."""

    __slots__ = ("_order", "_seen", "window")

    def __init__(self, window: float) -> None:
        self.window = window
        self._seen: dict[Identity, float] = {}
        self._order: deque[tuple[float, Identity]] = deque()

    def is_copy(self, event: Any, ts: float, now: float) -> bool:
        """True when ``event`` (POSIX ``ts``) repeats a case record seen within the window.

        ``now``: the stream time at this arrival (the newest accepted event time, or ``ts``
        before anything was accepted). The first record of an identity is remembered.
        """
        case_id = getattr(event, "case_id", None)
        if not case_id:
            return False
        order = self._order
        seen = self._seen
        while order and now - order[0][0] > self.window:
            _, old = order.popleft()
            if seen.get(old) is not None and now - seen[old] > self.window:
                del seen[old]
        key: Identity = (case_id, type(event).__name__, ts, getattr(event, "step", None) or "")
        first = seen.get(key)
        if first is not None and now - first <= self.window:
            return True
        seen[key] = now
        order.append((now, key))
        return False
