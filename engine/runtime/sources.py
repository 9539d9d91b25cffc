"""Event time per source: one watermark per source system, and sources that fell silent.

Why: departments' systems deliver through exchange servers in batches (every 10 minutes,
every hour, once a night) and each batch is in event-time order. With one watermark for the
whole stream (newest event time minus ``allowed_lateness``) the fastest source sets the
pace, and every record held in a batch longer than the allowed lateness arrives behind the
watermark and is set aside as late: its case is then judged with holes. Per-source
watermarks (as Flink and Beam keep one per input split) let a batched source hold the
release back instead, for as long as it may be trusted to speak again.

* **Per-source watermarks.** A source ``s`` (:func:`~engine.runtime.eventtime.source_of`:
  ``dept:<hall>/<department>``...) has its newest accepted event time ``newest[s]`` and its
  allowed lateness ``lateness(s)`` (the first matching pattern of ``sources.lateness``, else
  the rulebook's ``allowed_lateness``). The engine releases events and fires timers up to
  ``W = min over active s of (newest[s] − lateness(s))``, never lowered. An arrival older
  than ``W`` is late, as before.
* **Idle sources.** A source whose newest event time is more than ``idle_after`` *working*
  seconds behind the stream's newest (``top``) is *idle* and no longer holds ``W`` back: a
  system that broke down must not stop every alert of the hall. Working time, because
  every department is quiet at night and over a weekend, and a source that synced at
  17:30 must still hold the release when the next morning's first records of others
  arrive. The source whose record is the newest is always active, so ``W`` is defined once
  anything arrived. A source counts from its first accepted record, or, when it is
  *expected* (named in ``sources.expected``), from the stream's first record: a batched
  system whose first batch comes after others' first records would otherwise find the
  release already past it. An instant outside the
  calendar's years has no working time: a source stamped there is never idle.
* **Silence.** A watcher (the ``source.silent`` rule) asks to be told once per episode when
  a watched source has had no accepted record for ``threshold`` *working* seconds of the
  stream's time: ``to_index(top) − to_index(newest[s]) >= threshold``. The instant it
  reports is the one where that became true, ``from_index(to_index(newest[s]) +
  threshold)``, so it does not depend on how the other sources batch their records. An
  episode ends when the source's newest event time moves.

The trade-off is latency: with per-source watermarks every alert waits for the slowest
active source (a source synced every hour delays the hall's deadline alerts by up to an
hour plus its lateness), and ``idle_after`` bounds that wait; records of a source held
longer than ``idle_after`` are late again. docs/data_quality.md measures it.

The cost is a loop over the sources per arrival that moves a newest time, so the engine
takes this path only when the rulebook asks for it (``sources.watermark: per_source``) or a
silence watcher is bound; the shared watermark keeps its batch fast path.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from engine.contract.calendar import CalendarRangeError, WorkingCalendar

__all__ = ["SilenceCallback", "SourceClocks"]

SilenceCallback = Callable[[str, datetime, datetime, Any], None]
"""``(source, since, when, last_event)``: ``source`` had nothing after ``since`` until ``when``."""


class SourceClocks:
    """Newest event time per source, the per-source watermark and the silence watch."""

    __slots__ = (
        "_calendar",
        "_expected",
        "_heap",
        "_idle_after",
        "_idx",
        "_last",
        "_late_of",
        "_lateness",
        "_on_silent",
        "_patterns",
        "_threshold",
        "_watched",
        "_watched_of",
        "newest",
        "per_source",
        "top",
        "top_idx",
        "watermark",
    )

    def __init__(
        self,
        *,
        calendar: WorkingCalendar,
        lateness: float,
        per_source: bool,
        patterns: Mapping[str, float] | None = None,
        idle_after: float = math.inf,
        expected: Sequence[str] = (),
    ) -> None:
        """``patterns``: source-name pattern (``fnmatch``, e.g. ``dept:*/D04``) → allowed lateness.

        ``per_source=False`` keeps no watermark (the engine's shared one rules) and only
        watches for silence.
        """
        self._calendar = calendar
        self._lateness = lateness
        self._patterns = dict(patterns or {})
        self._idle_after = idle_after
        self._expected = tuple(expected)
        self.per_source = per_source
        self.newest: dict[str, float] = {}
        #: Working-time index of each source's newest (``nan``: outside the calendar).
        self._idx: dict[str, float] = {}
        self._late_of: dict[str, float] = {}
        self._last: dict[str, Any] = {}
        self.top = -math.inf
        self.top_idx = -math.inf
        self.watermark = -math.inf
        self._threshold = math.inf
        self._watched: tuple[str, ...] = ()
        self._watched_of: dict[str, bool] = {}
        self._on_silent: SilenceCallback | None = None
        #: ``(check at, source, its newest then, exact)``: ``exact`` once the working-time
        #: instant is computed; entries whose source spoke since are dropped when popped.
        self._heap: list[tuple[float, str, float, bool]] = []

    def lateness_of(self, source: str) -> float:
        """The allowed lateness of ``source``: its first matching pattern, else the default."""
        late = self._late_of.get(source)
        if late is None:
            late = next((v for p, v in self._patterns.items() if fnmatchcase(source, p)), self._lateness)
            self._late_of[source] = late
        return late

    def watch(self, threshold: float, patterns: Sequence[str], on_silent: SilenceCallback) -> None:
        """Report once per episode a source matching ``patterns`` silent for ``threshold`` working s."""
        if self._on_silent is not None:
            raise ValueError("one silence watcher per engine (the source.silent rule is enabled twice?)")
        self._threshold = threshold
        self._watched = tuple(patterns)
        self._on_silent = on_silent

    def _is_watched(self, source: str) -> bool:
        hit = self._watched_of.get(source)
        if hit is None:
            hit = self._watched_of[source] = any(fnmatchcase(source, p) for p in self._watched)
        return hit

    def arrive(self, source: str, ts: float, event: Any) -> None:
        """An accepted record of ``source`` at POSIX ``ts``: move the clocks, report silences."""
        newest = self.newest
        if self.top == -math.inf:  # the stream's first record: expected sources count from here
            for name in self._expected:
                newest[name] = ts
                self._idx[name] = self._index(ts)
                self._last[name] = None
        prev = newest.get(source, -math.inf)
        moved = ts > prev
        if moved:
            newest[source] = ts
            self._idx[source] = self._index(ts)
            self._last[source] = event
            if self._on_silent is not None and self._is_watched(source):
                heapq.heappush(self._heap, (ts + self._threshold, source, ts, False))
        if ts > self.top:
            self.top = ts
            self.top_idx = self._idx[source] if moved else self._index(ts)
            if self._heap:
                self._report(ts)
        elif not moved:
            return
        if self.per_source:
            self._advance()

    def _index(self, ts: float) -> float:
        try:
            return self._calendar.to_index(datetime.fromtimestamp(ts, self._calendar.tz))
        except CalendarRangeError:
            return math.nan  # no working time: never idle, never silent

    def _advance(self) -> None:
        floor = self.top_idx - self._idle_after
        lateness_of = self.lateness_of
        idx = self._idx
        # ``not idx < floor`` keeps sources whose index is nan (and everything when top's is).
        w = min(n - lateness_of(s) for s, n in self.newest.items() if not idx[s] < floor)
        if w > self.watermark:
            self.watermark = w

    def _report(self, top: float) -> None:
        """Pop the silences that ``top`` reaches; a candidate gets its exact instant first."""
        heap = self._heap
        cal = self._calendar
        on_silent = self._on_silent
        assert on_silent is not None
        while heap and heap[0][0] <= top:
            at, source, since, exact = heapq.heappop(heap)
            if self.newest[source] != since:
                continue  # it spoke since: another episode
            if not exact:
                # Working seconds never exceed wall seconds, so ``since + threshold`` is a
                # lower bound; the exact instant comes from the calendar, once per episode.
                start = self._idx[source]
                if math.isnan(start):
                    continue  # outside the calendar's years working time has no measure
                try:
                    at = cal.from_index(start + self._threshold).timestamp()
                except CalendarRangeError:
                    continue  # the silence would end beyond the calendar's years: not measurable
                if at > top:
                    heapq.heappush(heap, (at, source, since, True))
                    continue
            on_silent(source, _at(since, cal), _at(at, cal), self._last[source])


def _at(ts: float, cal: WorkingCalendar) -> datetime:
    return datetime.fromtimestamp(ts, cal.tz)
