"""The watermark buffer: events waiting for the watermark, released in ``(ts, event_id)`` order.

Why two containers: almost every source delivers in event-time order, and a heap makes such
a stream pay ``O(log n)`` tuple comparisons twice per event for nothing. So an entry that
sorts after the last one appended goes to the end of a plain list (the *run*, sorted by
construction), and only an entry that arrives out of order goes to a heap. Releasing takes
the due prefix of the run with one bisection and one slice, and merges in the due part of
the heap only when there is one. Which container an entry sat in changes nothing
observable: a release applies exactly the buffered entries with ``ts <= limit``, in
``(ts, event_id)`` order, as a single heap would.

The buffer also remembers what it released, so that the runtime can forget the ids of
events that fell ``allowed_lateness`` behind the watermark (see :mod:`engine.core`).
Released entries come out in non-decreasing ``ts`` across releases (an accepted entry is
never older than the watermark, and the watermark only grows), so "forget everything older
than ``t``" is a prefix of the run's released part plus a prefix of the released heap
entries.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, bisect_right
from collections import deque
from datetime import datetime, timezone
from operator import itemgetter
from typing import Any

__all__ = ["Entry", "WatermarkBuffer", "posix", "posix_offsets"]

Entry = tuple[float, str, Any]
"""``(POSIX ts, event_id, event)``: ids are unique in the buffer, so events are never compared."""

_ts = itemgetter(0)
_eid = itemgetter(1)
_COMPACT = 4096


class WatermarkBuffer:
    """Buffered entries (a sorted run plus a heap) and the released ones not yet forgotten.

    ``run``, ``heap`` and ``last`` are public for the runtime's per-event fast path, which
    inlines :meth:`push`: append to ``run`` and set ``last`` when ``entry > last``, else
    push onto ``heap``.
    """

    __slots__ = ("_done", "_head", "_heap_done", "heap", "last", "run")

    def __init__(self) -> None:
        #: Sorted entries: ``run[:_done]`` forgotten-pending released, ``run[_head:]`` buffered.
        self.run: list[Entry] = []
        self.heap: list[Entry] = []
        #: The greatest entry ever appended to ``run`` (a sentinel below every entry at first).
        self.last: Entry = (-math.inf, "", None)
        self._head = 0  # first buffered entry of the run
        self._done = 0  # first released run entry whose id is still remembered
        self._heap_done: deque[Entry] = deque()  # released heap entries, ids still remembered

    def __len__(self) -> int:
        """Buffered (not yet released) entries."""
        return len(self.run) - self._head + len(self.heap)

    def push(self, entry: Entry) -> None:
        if entry > self.last:
            self.run.append(entry)
            self.last = entry
        else:
            heapq.heappush(self.heap, entry)

    def first_ts(self) -> float:
        """Event time of the earliest buffered entry (``inf`` when empty)."""
        run, heap = self.run, self.heap
        a = run[self._head][0] if self._head < len(run) else math.inf
        return min(a, heap[0][0]) if heap else a

    def pop_due(self, limit: float) -> list[Entry]:
        """Remove and return every buffered entry with ``ts <= limit``, in ``(ts, event_id)`` order."""
        run = self.run
        head = self._head
        end = bisect_right(run, limit, lo=head, key=_ts)
        due = run[head:end]
        self._head = end
        heap = self.heap
        if heap and heap[0][0] <= limit:
            pop = heapq.heappop
            late: list[Entry] = []
            while heap and heap[0][0] <= limit:
                late.append(pop(heap))
            self._heap_done.extend(late)
            if due:
                due += late
                due.sort()  # two sorted runs: a linear merge for Timsort
            else:
                due = late
        return due

    def forget_before(self, t: float, seen: set[str]) -> None:
        """Drop from ``seen`` the ids of released entries with ``ts < t``."""
        run = self.run
        done = self._done
        end = bisect_left(run, t, lo=done, hi=self._head, key=_ts)
        if end > done:
            seen.difference_update(map(_eid, run[done:end]))
            done = end
            if done >= _COMPACT:
                del run[:done]
                self._head -= done
                done = 0
            self._done = done
        heap_done = self._heap_done
        while heap_done and heap_done[0][0] < t:
            seen.discard(heap_done.popleft()[1])


_EPOCH_DAYS = 719_163  # date(1970, 1, 1).toordinal()
_OFFSETS: dict[Any, int] = {}


def posix_offsets() -> dict[Any, int]:
    """tzinfo → ``offset + epoch`` in seconds for fixed offsets, ``0`` for "use ``timestamp``".

    The runtime's per-event fast path inlines :func:`posix` and reads this table directly.
    Sources that send ISO 8601 with a numeric offset decode to fixed ``timezone``s; the
    simulator's ``ZoneInfo`` instants (and naive ones) are marked ``0`` after the first look.
    """
    return _OFFSETS


def posix(t: datetime) -> float:
    """``t.timestamp()``, bit for bit, at about half the cost for fixed-offset timezones.

    ``datetime.timestamp`` on an aware instant builds a ``timedelta`` and calls back into
    the tzinfo; for a fixed offset the same number is arithmetic on the fields. Every
    intermediate is a whole number of microseconds below 2**53, hence exact in a float, and
    the one division by 10**6 rounds exactly as ``timestamp``'s does, so the result is the
    same float. Instants past the year 2255 and other tzinfos (zones with transitions, naive
    instants) take ``timestamp``: for them the arithmetic would need ``utcoffset`` per
    instant and saves nothing.
    """
    off = _OFFSETS.get(t.tzinfo)
    if off:
        ts = (
            (t.toordinal() * 86400.0 + (t.hour * 3600 + t.minute * 60 + t.second) - off) * 1e6 + t.microsecond
        ) / 1e6
        return ts if -9e9 < ts < 9e9 else t.timestamp()
    if off is None and len(_OFFSETS) < 64:
        _OFFSETS[t.tzinfo] = _fixed_offset(t.tzinfo)
        return posix(t)
    return t.timestamp()


def _fixed_offset(tzi: Any) -> int:
    """``offset + epoch`` seconds for a whole-second fixed offset, else 0."""
    if isinstance(tzi, timezone):
        delta = tzi.utcoffset(None)
        if not delta.microseconds:
            return _EPOCH_DAYS * 86400 + delta.days * 86400 + delta.seconds
    return 0
