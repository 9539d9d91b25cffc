"""The rule runtime: event time, watermark, buffering, dedup, timers, dispatch, cards.

Why event time: a supervision centre must give the same verdicts when it replays last
month's export as it gave live, and sources deliver late and out of order. So nothing here
looks at the wall clock (unless a reference clock is injected for the "future" check).

* **Watermark.** ``watermark = max accepted event ts − allowed_lateness``. Arriving events wait
  in a buffer (:mod:`engine.runtime.buffer`: a sorted run for in-order arrivals, a heap for the
  others) and are applied in ``(ts, event_id)`` order once ``ts <= watermark``, so any
  arrival order within the allowed lateness gives identical alerts. An event with
  ``ts < watermark`` on arrival is *late*: it goes to :attr:`Engine.side_output`, counted,
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
  other. Candidates still held at :meth:`Engine.finish` go to the side output as
  ``future``; a far-future last event is never applied. With a reference ``clock``
  (POSIX seconds: the wall clock when live, the export's or the simulation's end in
  replay) nothing is held: an event more than ``max_future`` ahead of the clock is
  ``future``, anything else is applied as usual.
* **Side output.** Every event not applied, and every timer that cannot be judged, is one
  :class:`SideRecord` with its reason: ``late``, ``future``, ``duplicate``, ``after_close``
  (about a closed case) or ``out_of_calendar`` (an instant outside the calendar's covered
  years; for a timer, a deadline beyond them once the stream has gone past their end).
* **Duplicates.** A repeated ``event_id`` is ignored and counted; with ``sources.dedup_window``
  so is a case record repeating the case, kind and time of one accepted within the window
  under another id (:mod:`engine.runtime.dedup`). To keep memory bounded,
  ids of applied events are forgotten once their ``ts`` falls ``allowed_lateness`` behind
  the watermark: a copy that old would be late anyway and is reported as late. Ids of
  buffered, held, late and future events are kept.
* **Timers** (:mod:`engine.runtime.timers`) fire when the watermark passes them (``due <
  watermark``), in ``(due, key)`` order, after every event with ``ts <= due`` is applied.
  A timer is about an open case, or, for a rule with a ``timer_family``, about that state
  family's ``timer_state(id)`` (a complaint); it does nothing once its subject is gone.
  With ``sources.skew_tolerance`` a case's timers are armed its source's tolerance later and
  its alerts keep the limit's instant (:mod:`engine.runtime.skew`).
* **Cases** (:mod:`engine.runtime.cases`) are dropped when closed; their timers are cancelled and
  later events about them are counted (``after_close``) and not applied.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime
from itertools import islice
from operator import attrgetter
from typing import Any, TypeVar, cast

from engine.contract import events as ev
from engine.contract.alerts import Alert, Evidence, alert_id
from engine.contract.calendar import CalendarRangeError, WorkingCalendar
from engine.rules.base import Rule
from engine.rules.collusion.tenders import TenderBook
from engine.rules.rulebook import Rulebook, build_rules
from engine.runtime.buffer import PosixClock, WatermarkBuffer
from engine.runtime.cards import CardBoard
from engine.runtime.cases import CaseState
from engine.runtime.catalogue import Catalogue
from engine.runtime.dedup import RecordDedup
from engine.runtime.dispatch import CaseRegistry, Handler
from engine.runtime.eventtime import FutureHold, Held, source_of, subject_of
from engine.runtime.side import SIDE_REASONS, TIMELESS, SideReason, SideRecord, covered_posix, uncovered
from engine.runtime.skew import SkewTolerance
from engine.runtime.sources import SourceClocks
from engine.runtime.timers import CalendarTimers, TimerKey

__all__ = ["SIDE_REASONS", "Engine", "SideReason", "SideRecord"]

F = TypeVar("F")

_RELEASE_EVERY = 256
_ts_of = attrgetter("ts")


class Engine:
    """A streaming rule engine over the event contract (see the module docstring).

    ``calendar`` defaults to the rulebook's (China table, rulebook periods and
    corrections); ``clock`` (POSIX seconds) is the reference for "future" events in live
    use; ``rules`` replaces the rulebook's rule set (unbound rule instances, e.g. clones
    with swept parameters).
    """

    #: ``RuleContext.schedule(key, index, group)``: the timer queue's own method.
    schedule: Callable[[TimerKey, float, list[TimerKey] | None], None]
    #: ``RuleContext.cancel(key)``.
    cancel: Callable[[TimerKey], None]

    def __init__(
        self,
        rulebook: Rulebook | None = None,
        *,
        calendar: WorkingCalendar | None = None,
        clock: Callable[[], float] | None = None,
        rules: Iterable[Rule] | None = None,
    ) -> None:
        self.rulebook = rulebook if rulebook is not None else Rulebook.default()
        self.calendar = calendar if calendar is not None else self.rulebook.build_calendar()
        self.day_seconds = float(self.calendar.day_seconds)
        self.catalogue = Catalogue()
        self.cases: dict[str, CaseState] = {}
        #: Non-case state families: each has ``event_types``, ``apply(event) -> state | None``
        #: and ``after_rules(event, state)``; rules watching those kinds get the state.
        self.tenders = TenderBook()
        self.families: tuple[Any, ...] = (self.tenders,)
        self._family_of: dict[type, Any] = {TenderBook: self.tenders}
        self.legal_reasons = frozenset(self.rulebook.rules.deadline.legal_suspension_reasons)
        self.timers = CalendarTimers(self.calendar)
        self.timers.on_range_error = self._timer_out_of_calendar
        # RuleContext.schedule / cancel: the timer queue's own bound methods, one call each.
        self.schedule = self.timers.schedule
        self.cancel = self.timers.cancel
        src = self.rulebook.sources
        #: Skew tolerance (:mod:`engine.runtime.skew`): case timers armed later, opt-in.
        self._skew: SkewTolerance | None = None
        if src.skew_tolerance:
            self._skew = SkewTolerance(
                {p: float(v) for p, v in src.skew_tolerance.items()}, self._timer_case, self.timers.schedule
            )
            self.schedule = self._skew.schedule
        self.cards = CardBoard()
        self.side_output: list[SideRecord] = []
        self._lateness = float(self.rulebook.allowed_lateness)
        self._max_future = float(self.rulebook.max_future)
        self._clock = clock
        #: Per-source clocks (:mod:`engine.runtime.sources`): only when the rulebook asks for
        #: per-source watermarks or a rule watches for silence; ``None`` keeps the batch path.
        self._sources: SourceClocks | None = None
        if src.watermark == "per_source":
            self._sources = self._source_clocks(per_source=True)
        self._buffer = WatermarkBuffer(None if self._sources is not None else self._lateness)
        #: Copies re-sent under new ids (:mod:`engine.runtime.dedup`): opt-in.
        self._dedup = RecordDedup(float(src.dedup_window)) if src.dedup_window > 0 else None
        self._posix = PosixClock()
        self._seen: set[str] = set()
        self._emitted: set[str] = set()
        self._hold = FutureHold(self._max_future)
        self._out: list[Alert] = []
        self._n_in = 0
        self._n_side: dict[str, int] = dict.fromkeys(SIDE_REASONS, 0)
        self._covered = covered_posix(self.calendar)
        self.rules = list(rules) if rules is not None else build_rules(self.rulebook)
        self._by_name = {r.name: r for r in self.rules}
        self._alerts_by_rule = dict.fromkeys(sorted(self._by_name), 0)
        for rule in self.rules:
            rule.bind(self)
        self._observers = [r.alert_one for r in self.rules if r.observes_alerts]
        self._registry = CaseRegistry(self.cases, self.timers, side=self._side)
        #: Rules that called :meth:`wake`: they get their ``dormant_kinds`` too.
        self._awake: set[Rule] = set()
        #: Event type → handler; built after binding (rules may attach families, e.g. cameras).
        self._dispatch: dict[type, Handler] = {}
        self._build_dispatch()

    # --- public API -------------------------------------------------------------------

    def process_one(self, event: ev.Event) -> list[Alert]:
        """Ingest one event; returns the alerts it released (often none while buffered)."""
        out = self._out = []
        self._ingest(event, self._posix.seconds(event.ts))
        wm = self._buffer.watermark
        if self._buffer.first_ts() <= wm or wm > self.timers.wake_at:
            self._release(wm)
        return out

    def process_many(self, events: Iterable[ev.Event]) -> list[Alert]:
        """Ingest a batch; equivalent to :meth:`process_one` on each, alerts concatenated.

        Releasing the buffer every few hundred events instead of after each one changes
        nothing observable: the application order is fixed by ``(ts, event_id)`` and no
        later arrival can land before what the watermark already passed.

        Most arrivals need only the buffer: a new id, not late, not ahead, and not able to
        confirm a held candidate. The buffer takes runs of those in one call
        (:meth:`WatermarkBuffer.admit <engine.runtime.buffer.WatermarkBuffer.admit>`, which
        also moves the watermark); the arrival it stops at goes through :meth:`_ingest`.
        """
        out = self._out = []
        if self._sources is not None or self._dedup is not None:
            self._process_each(events)
            return out
        seen = self._seen
        buffer = self._buffer
        admit = buffer.admit
        posix_many = self._posix.many
        follows = None if self._clock is not None else self._max_future
        n_total = n_slow = 0
        it = iter(events)
        while chunk := list(islice(it, _RELEASE_EVERY)):
            n = len(chunk)
            n_total += n
            times = posix_many(map(_ts_of, chunk))
            i = 0
            while True:
                # Without a clock the ceiling follows the stream time, capped below what is held.
                i = admit(chunk, times, i, seen, ceiling=self._ceiling(), ahead=follows, cap=self._hold_cap())
                if i == n:
                    break
                n_slow += 1
                self._ingest(chunk[i], times[i])
                i += 1
            if n == _RELEASE_EVERY:  # and once more at the end (as before chunking)
                self._release(buffer.watermark)
        self._n_in += n_total - n_slow
        self._release(buffer.watermark)
        return out

    def _process_each(self, events: Iterable[ev.Event]) -> None:
        """:meth:`process_many` when sources are followed or copies looked for: every arrival
        through :meth:`_ingest`."""
        buffer = self._buffer
        ingest = self._ingest
        it = iter(events)
        while chunk := list(islice(it, _RELEASE_EVERY)):
            for event, ts in zip(chunk, self._posix.many(map(_ts_of, chunk)), strict=True):
                ingest(event, ts)
            if len(chunk) == _RELEASE_EVERY:
                self._release(buffer.watermark)
        self._release(buffer.watermark)

    def finish(self) -> list[Alert]:
        """End of stream: the watermark moves to the newest event time; flush and fire."""
        out = self._out = []
        for _, _, event, _ in self._hold.drain():  # never confirmed: not applied
            self._side(event, "future")
        buffer = self._buffer
        buffer.close()
        self._release(buffer.watermark)
        if buffer.watermark != -math.inf:
            when = datetime.fromtimestamp(buffer.watermark, self.calendar.tz)
            for rule in self.rules:  # rules judging whole histories (rings) speak last
                finish_one = getattr(rule, "finish_one", None)
                if finish_one is not None:
                    finish_one(when)
        return out

    @property
    def watermark(self) -> datetime | None:
        wm = self._buffer.watermark
        return None if wm == -math.inf else datetime.fromtimestamp(wm, self.calendar.tz)

    @property
    def closed_cases(self) -> int:
        """How many cases this engine has closed (their state is dropped, their ids kept).

        Read by the supervision centre's KPIs (:mod:`engine.service.centre`); changes nothing.
        """
        return len(self._registry.closed)

    @property
    def newest_event(self) -> float | None:
        """POSIX seconds of the newest event time accepted so far (None before the first).

        The centre's source health: a hall whose newest event is old has gone silent.
        """
        newest = self._buffer.newest
        return None if newest == -math.inf else newest

    @property
    def card_levels(self) -> dict[str, str]:
        return self.cards.levels()

    @property
    def stats(self) -> dict[str, int]:
        side = self._n_side
        held = len(self._hold)
        accepted = self._n_in - side["duplicate"] - side["late"] - side["future"] - held
        stats = {
            "events_in": self._n_in,
            "duplicates": side["duplicate"],
            "late": side["late"],
            "future": side["future"],
            "applied": accepted - len(self._buffer),
            "buffered": len(self._buffer) + held,
            "after_close": side["after_close"],
            "calendar_errors": side["out_of_calendar"],
            "open_cases": len(self.cases),
            "timers_fired": self.timers.fired,
            "alerts": sum(self._alerts_by_rule.values()),
        }
        for name, n in self._alerts_by_rule.items():
            stats[f"alerts.{name}"] = n
        stats["out_of_calendar"] = side["out_of_calendar"]
        return stats

    @property
    def side_counts(self) -> dict[str, int]:
        """How many records each side-output reason has (every reason, zeros included)."""
        return dict(self._n_side)

    # --- RuleContext ------------------------------------------------------------------

    def emit(
        self,
        rule: Rule,
        subject: str,
        when: datetime,
        *,
        hall_id: str | None,
        department_id: str | None,
        staff_id: str | None,
        evidence: Evidence,
        discriminator: str = "",
    ) -> Alert | None:
        aid = alert_id(rule.name, rule.level, subject, discriminator)
        if aid in self._emitted:
            return None
        self._emitted.add(aid)
        alert = Alert(
            alert_id=aid,
            rule=rule.name,
            level=rule.level,
            subject=subject,
            ts=when,
            hall_id=hall_id,
            department_id=department_id,
            staff_id=staff_id,
            evidence=evidence,
        )
        self._out.append(alert)
        self._alerts_by_rule[rule.name] += 1
        self.cards.record(alert)
        for observe in self._observers:
            observe(alert)
        return alert

    def has_alerted(self, rule: Rule, subject: str, discriminator: str = "") -> bool:
        return alert_id(rule.name, rule.level, subject, discriminator) in self._emitted

    def wake(self, rule: Rule) -> None:
        """RuleContext.wake: ``rule`` gets its ``dormant_kinds`` from the next event applied on."""
        if rule not in self._awake:
            self._awake.add(rule)
            self._build_dispatch()

    def _build_dispatch(self) -> None:
        # In place: a release under way holds the table, and must see the change at once.
        table = self._registry.build(
            calendar=self.calendar,
            legal_reasons=self.legal_reasons,
            catalogue=self.catalogue,
            rules=self.rules,
            families=self.families,
            awake=self._awake,
        )
        self._dispatch.clear()
        self._dispatch.update(table)

    def watch_silence(
        self,
        threshold: float,
        sources: tuple[str, ...],
        on_silent: Callable[[str, datetime, datetime, Any], None],
    ) -> None:
        """RuleContext.watch_silence: from now on every arrival goes through the source clocks."""
        if self._sources is None:
            self._sources = self._source_clocks(per_source=False)
        self._sources.watch(threshold, sources, on_silent)

    def _source_clocks(self, *, per_source: bool) -> SourceClocks:
        src = self.rulebook.sources
        return SourceClocks(
            calendar=self.calendar,
            lateness=self._lateness,
            per_source=per_source,
            patterns={p: float(v) for p, v in src.lateness.items()},
            idle_after=float(src.idle_after),
            expected=src.expected,
        )

    def family(self, kind: type[F], make: Callable[[], F]) -> F:
        """RuleContext.family: the one state family of type ``kind``, made on first use."""
        fam = self._family_of.get(kind)
        if fam is None:
            fam = self._family_of[kind] = make()
            self.families = (*self.families, fam)
        return cast(F, fam)

    def to_index(self, t: datetime) -> float:
        return self.calendar.to_index(t)

    # --- ingestion --------------------------------------------------------------------

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

    def _timer_state(self, key: TimerKey) -> Any:
        """What a timer is about: the open case of its id, or, for a rule whose timers belong to
        a state family (``Rule.timer_family``), that family's ``timer_state(id)``; None if gone."""
        owner = self._by_name[key[0]].timer_family
        if owner is None:
            return self.cases.get(key[1])
        family = self._family_of.get(owner)
        return None if family is None else family.timer_state(key[1])

    def _timer_out_of_calendar(self, key: TimerKey, when: datetime, detail: str) -> None:
        state = self._timer_state(key)
        self.side_output.append(
            SideRecord(
                event_id="",
                kind="timer",
                ts=when,
                reason="out_of_calendar",
                hall_id=state.hall_id if state is not None else None,
                subject=state.subject if state is not None else f"case:{key[1]}",
                rule=key[0],
                detail=detail,
            )
        )
        self._n_side["out_of_calendar"] += 1

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

    def _release(self, limit: float) -> None:
        due = self._buffer.pop_due(limit)
        timers = self.timers
        if due:
            dispatch = self._dispatch
            on_timer = self._on_timer
            first, end = self._covered
            for ts, _, event in due:
                if ts > timers.wake_at:  # fire what is due before this event
                    timers.fire_before(event.ts, on_timer)
                handler = dispatch.get(event.__class__)
                if handler is None:
                    continue
                if not first <= ts < end and event.__class__ not in TIMELESS:
                    detail = uncovered(self.calendar, event.ts)
                    if detail is not None:
                        self._side(event, "out_of_calendar", detail)
                        continue
                try:
                    handler(event)
                except CalendarRangeError as exc:  # another instant of the event (a shift, a break)
                    self._side(event, "out_of_calendar", str(exc))
        if limit > timers.wake_at:
            timers.fire_before(datetime.fromtimestamp(limit, self.calendar.tz), self._on_timer)
        self._buffer.forget_before(limit - self._lateness, self._seen)

    def _timer_case(self, key: TimerKey) -> CaseState | None:
        """The open case a timer is about; None for timers of other state families."""
        return self.cases.get(key[1]) if self._by_name[key[0]].timer_family is None else None

    def _on_timer(self, key: TimerKey, when: datetime) -> None:
        state = self._timer_state(key)
        if state is not None:
            if self._skew is not None and (tol := self._skew.of_timer(key)) > 0.0:
                # Armed ``tol`` after its limit: the alert keeps the limit's instant.
                cal = self.calendar
                when = cal.from_index(cal.to_index(when) - tol, latest=True)
            self._by_name[key[0]].timer_one(state, key, when)
