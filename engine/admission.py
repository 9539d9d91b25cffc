"""Admitting an arrival: duplicate, late, ahead of the stream or held, else buffered.

Kept apart from :mod:`engine.core` because deciding whether an arrival may be applied at all
is a concern of its own, with its own rules; the engine only feeds arrivals in and releases
what the watermark passed (:mod:`engine.release`).

* **Watermark.** ``watermark = max accepted event ts − allowed_lateness``. Arriving events wait
  in a buffer (:mod:`engine.runtime.buffer`: a sorted run for in-order arrivals, a heap for the
  others) and are applied in ``(ts, event_id)`` order once ``ts <= watermark``, so any
  arrival order within the allowed lateness gives identical alerts. An event with
  ``ts < watermark`` on arrival is *late*: it goes to the engine's ``side_output``, counted,
  never applied.
* **Future events.** A clock that jumps ahead stays ahead, so its own later events cannot
  vouch for it; only another clock can. The *stream time* is the newest applied event
  time (none before the first). An arrival more than ``max_future`` ahead of it is a
  *candidate* and is held (:mod:`engine.runtime.eventtime`), not applied. A candidate is
  applied once (a) a later arrival from a different *source* (the clock behind the event:
  a department's system, a camera, a queue machine...; see
  :func:`~engine.runtime.eventtime.source_of`) lands within ``max_future`` of it, or (b)
  the stream time comes within ``max_future`` of it. So a stream starts, and jumps over a
  quiet night, where two sources agree; k events from one bad clock never confirm each
  other. Candidates still held at the end of the stream (:meth:`Release.finish
  <engine.release.Release.finish>`) go to the side output as ``future``; a far-future last
  event is never applied. With a reference ``clock`` (POSIX seconds: the wall clock when
  live, the export's or the simulation's end in replay) nothing is held: an event more than
  ``max_future`` ahead of the clock is ``future``, anything else is applied as usual.
* **Side output.** Every event not applied, and every timer that cannot be judged, is one
  :class:`~engine.runtime.side.SideRecord` with its reason: ``late``, ``future``,
  ``duplicate``, ``after_close`` (about a closed case) or ``out_of_calendar`` (an instant
  outside the calendar's covered years; for a timer, a deadline beyond them once the stream
  has gone past their end).
* **Duplicates.** A repeated ``event_id`` is ignored and counted; with ``sources.dedup_window``
  so is a case record repeating the case, kind and time of one accepted within the window
  under another id (:mod:`engine.runtime.dedup`). To keep memory bounded,
  ids of applied events are forgotten once their ``ts`` falls ``allowed_lateness`` behind
  the watermark: a copy that old would be late anyway and is reported as late. Ids of
  buffered, held, late and future events are kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from engine.contract import events as ev
from engine.runtime.buffer import WatermarkBuffer
from engine.runtime.dedup import RecordDedup
from engine.runtime.eventtime import FutureHold, Held, source_of, subject_of
from engine.runtime.side import SideReason, SideRecord
from engine.runtime.sources import SourceClocks

__all__ = ["Admission"]


class Admission:
    """The arrival path of :class:`engine.core.Engine`, which sets every attribute below.

    A base class rather than a helper object: the engine's hot loop reads these attributes
    on ``self`` directly, and moving them behind another object would add a lookup to every
    arrival.
    """

    side_output: list[SideRecord]
    _n_side: dict[str, int]
    _n_in: int
    _seen: set[str]
    _buffer: WatermarkBuffer
    _dedup: RecordDedup | None
    _clock: Callable[[], float] | None
    _max_future: float
    _hold: FutureHold
    _sources: SourceClocks | None

    def _side(self, event: ev.Event, reason: SideReason, detail: str = "") -> None:
        self.side_output.append(
            SideRecord(
                event_id=event.event_id,
                kind=str(type(event).__struct_config__.tag),
                ts=event.ts,
                reason=reason,
                hall_id=getattr(event, "hall_id", None),
                subject=subject_of(event),
                detail=detail,
            )
        )
        self._n_side[reason] += 1

    def _ceiling(self) -> float:
        """Arrivals above this may not take the fast path (they are ahead, or may confirm a candidate)."""
        if self._clock is not None:
            return self._clock() + self._max_future
        return min(self._buffer.newest + self._max_future, self._hold_cap())

    def _hold_cap(self) -> float:
        """Below what a held candidate could be confirmed by (``inf`` when nothing is held)."""
        return math.nextafter(self._hold.floor(), -math.inf) if self._hold else math.inf

    def _ingest(self, event: ev.Event, ts: float) -> None:
        """Admit one arrival (``ts``: its POSIX time): dedup, late, ahead or held, else buffered."""
        self._n_in += 1
        eid = event.event_id
        if eid in self._seen:
            self._side(event, "duplicate")
            return
        self._seen.add(eid)
        if ts < self._buffer.watermark:
            self._side(event, "late")
            return
        dedup = self._dedup
        if dedup is not None:
            newest = self._buffer.newest
            if dedup.is_copy(event, ts, newest if newest > ts else ts):
                self._side(event, "duplicate", "same case, kind and time as a record just accepted")
                return
        clock = self._clock
        if clock is not None:
            if ts > clock() + self._max_future:
                self._side(event, "future")
            else:
                self._push((ts, eid, event))
            return
        hold = self._hold
        source: str | None = None
        if hold and ts >= hold.floor():
            source = source_of(event)
            for held in hold.corroborated(ts, source):
                self._accept_held(held)
        if ts > self._buffer.newest + self._max_future:  # ahead (everything is, before the first)
            hold.hold((ts, eid, event, source if source is not None else source_of(event)))
            return
        self._push((ts, eid, event))
        while hold and (up := hold.caught_up(self._buffer.newest)):  # the stream time reached them
            for held in up:
                self._accept_held(held)

    def _accept_held(self, held: Held) -> None:
        """Apply a confirmed candidate: it was not late on arrival, so it is not late now."""
        self._push((held[0], held[1], held[2]))

    def _push(self, entry: tuple[float, str, ev.Event]) -> None:
        """Buffer an accepted arrival; with source clocks, move its source's clock too."""
        self._buffer.push(entry)
        sources = self._sources
        if sources is not None:
            event = entry[2]
            sources.arrive(source_of(event), entry[0], event)
            if sources.per_source:
                self._buffer.watermark = sources.watermark
