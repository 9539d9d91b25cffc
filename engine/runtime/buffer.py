"""The watermark buffer: events waiting for the watermark, released in ``(ts, event_id)`` order.

Why two containers: almost every source delivers in event-time order, and a heap makes such
a stream pay ``O(log n)`` tuple comparisons twice per event for nothing. So an entry that
sorts after the last one appended goes to the end of a plain list (the *run*, sorted by
construction), and only an entry that arrives out of order goes to a heap. Releasing takes
the due prefix of the run with one bisection and one slice, and merges in the due part of
the heap only when there is one. Which container an entry sat in changes nothing
observable: a release applies exactly the buffered entries with ``ts <= limit``, in
``(ts, event_id)`` order, as a single heap would.

The buffer also keeps the watermark: the newest event time pushed minus the allowed
lateness. An arrival older than it is late; :meth:`WatermarkBuffer.pop_due` releases up to it.

The buffer also remembers what it released, so that the runtime can forget the ids of
events that fell ``allowed_lateness`` behind the watermark (see :mod:`engine.admission`).
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
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from operator import itemgetter
from typing import Any

__all__ = ["Entry", "PosixClock", "WatermarkBuffer"]

Entry = tuple[float, str, Any]
"""``(POSIX ts, event_id, event)``: ids are unique in the buffer, so events are never compared."""

_ts = itemgetter(0)
_eid = itemgetter(1)
_COMPACT = 4096


class WatermarkBuffer:
    """Buffered entries (a sorted run plus a heap) and the released ones not yet forgotten."""

    __slots__ = ("_done", "_head", "_heap", "_heap_done", "_last", "_lateness", "_run", "newest", "watermark")

    def __init__(self, lateness: float | None = 0.0) -> None:
        """``lateness``: how far (seconds) the watermark trails the newest event time pushed.

        ``None``: the owner sets :attr:`watermark` itself (per-source watermarks,
        :mod:`engine.runtime.sources`); pushes then leave it alone, and :meth:`admit` is not used.
        """
        self._lateness = lateness
        #: The newest event time pushed, and the watermark ``newest - lateness`` (both
        #: ``-inf`` before the first push). An arrival older than the watermark is late.
        self.newest = -math.inf
        self.watermark = -math.inf
        #: Sorted entries: ``_run[:_done]`` forgotten-pending released, ``_run[_head:]`` buffered.
        self._run: list[Entry] = []
        self._heap: list[Entry] = []
        #: The greatest entry ever appended to ``_run`` (a sentinel below every entry at first).
        self._last: Entry = (-math.inf, "", None)
        self._head = 0  # first buffered entry of the run
        self._done = 0  # first released run entry whose id is still remembered
        self._heap_done: deque[Entry] = deque()  # released heap entries, ids still remembered

    def __len__(self) -> int:
        """Buffered (not yet released) entries."""
        return len(self._run) - self._head + len(self._heap)

    def push(self, entry: Entry) -> None:
        """Buffer ``entry`` (in order: the end of the run; else the heap); advance the watermark.

        The caller has checked that ``entry`` is not late (``ts >= watermark``).
        """
        if entry > self._last:
            self._run.append(entry)
            self._last = entry
        else:
            heapq.heappush(self._heap, entry)
        ts = entry[0]
        if ts > self.newest:
            self.newest = ts
            if self._lateness is not None:
                self.watermark = ts - self._lateness

    def admit(
        self,
        events: Sequence[Any],
        times: Sequence[float],
        start: int,
        seen: set[str],
        *,
        ceiling: float,
        ahead: float | None,
        cap: float,
    ) -> int:
        """Buffer ``events[start:]`` for as long as each is plainly admissible; return where it stopped.

        The common case of a batch, in one call instead of one :meth:`push` per event: an
        arrival is buffered (its id added to ``seen``) when its id is new, it is not late
        (``ts >= watermark``) and not above ``ceiling``. The first one that fails a test is
        left for the caller (a duplicate, a late, an ahead event, or one that may confirm a
        held candidate) and its index returned (``len(events)`` when all were buffered).

        ``times[i]`` is ``events[i]``'s POSIX time. ``ahead``: when not ``None`` the ceiling
        follows the stream, ``newest + ahead`` capped at ``cap`` (no wall clock); ``None``
        keeps it fixed (a wall clock sets it). Everything :meth:`push` does, entry by entry.
        """
        run_append = self._run.append
        heap = self._heap
        last = self._last
        newest = self.newest
        watermark = self.watermark
        lateness = self._lateness
        if lateness is None:
            raise RuntimeError("admit needs a buffer that keeps its own watermark (a lateness)")
        seen_add = seen.add
        i = start
        n = len(events)
        try:
            while i < n:
                ts = times[i]
                event = events[i]
                eid = event.event_id
                if ts < watermark or ts > ceiling or eid in seen:
                    break
                seen_add(eid)
                entry = (ts, eid, event)
                if entry > last:
                    run_append(entry)
                    last = entry
                else:
                    heapq.heappush(heap, entry)
                if ts > newest:
                    newest = ts
                    watermark = ts - lateness
                    if ahead is not None and ts + ahead > ceiling:
                        ceiling = ts + ahead if ts + ahead < cap else cap
                i += 1
        finally:
            self._last = last
            self.newest = newest
            self.watermark = watermark
        return i

    def close(self) -> None:
        """End of stream: the watermark moves up to the newest event time (nothing is late now)."""
        if self.newest > self.watermark:
            self.watermark = self.newest

    def first_ts(self) -> float:
        """Event time of the earliest buffered entry (``inf`` when empty)."""
        run, heap = self._run, self._heap
        a = run[self._head][0] if self._head < len(run) else math.inf
        return min(a, heap[0][0]) if heap else a

    def pop_due(self, limit: float) -> list[Entry]:
        """Remove and return every buffered entry with ``ts <= limit``, in ``(ts, event_id)`` order."""
        run = self._run
        head = self._head
        end = bisect_right(run, limit, lo=head, key=_ts)
        due = run[head:end]
        self._head = end
        heap = self._heap
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
        run = self._run
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
_NO_TZ = object()  # matches no tzinfo (``None`` is one: naive instants)


class PosixClock:
    """Event instants to POSIX seconds: ``t.timestamp()``, bit for bit, at about half the cost.

    ``datetime.timestamp`` on an aware instant builds a ``timedelta`` and calls back into
    the tzinfo; for a fixed offset the same number is arithmetic on the fields. Every
    intermediate is a whole number of microseconds below 2**53, hence exact in a float, and
    the one division by 10**6 rounds exactly as ``timestamp``'s does, so the result is the
    same float. Sources that send ISO 8601 with a numeric offset decode to fixed
    ``timezone``s. Instants past the year 2255 and other tzinfos (zones with transitions,
    such as the simulator's ``ZoneInfo``, and naive instants) take ``timestamp``: for them
    the arithmetic would need ``utcoffset`` per instant and saves nothing.

    Each tzinfo's answer is remembered (a stream carries a handful), per clock: an engine
    owns one, so nothing is shared between engines or kept at module level.
    """

    __slots__ = ("_offsets",)

    def __init__(self) -> None:
        #: tzinfo → ``offset + epoch`` seconds for a whole-second fixed offset, 0 for "use
        #: ``timestamp``".
        self._offsets: dict[Any, int] = {}

    def seconds(self, t: datetime) -> float:
        """POSIX seconds of ``t`` (equal to ``t.timestamp()``)."""
        return self.many((t,))[0]

    def many(self, times: Iterable[datetime]) -> list[float]:
        """POSIX seconds of each instant, in order: one call for a batch of arrivals."""
        offsets = self._offsets
        out: list[float] = []
        append = out.append
        tzi: Any = _NO_TZ
        off = 0
        for t in times:
            if t.tzinfo is not tzi:  # a stream keeps one tzinfo for long runs
                tzi = t.tzinfo
                off = offsets.get(tzi, -1)
                if off < 0:
                    off = offsets[tzi] = _fixed_offset(tzi)
            if off:
                ts = (
                    (t.toordinal() * 86400.0 + (t.hour * 3600 + t.minute * 60 + t.second) - off) * 1e6
                    + t.microsecond
                ) / 1e6
                append(ts if -9e9 < ts < 9e9 else t.timestamp())
            else:
                append(t.timestamp())
        return out


def _fixed_offset(tzi: Any) -> int:
    """``offset + epoch`` seconds for a whole-second fixed offset, else 0 ("use ``timestamp``")."""
    if isinstance(tzi, timezone):
        delta = tzi.utcoffset(None)
        if not delta.microseconds:
            return _EPOCH_DAYS * 86400 + delta.days * 86400 + delta.seconds
    return 0
