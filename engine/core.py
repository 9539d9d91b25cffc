"""The rule runtime put together: the :class:`Engine` that rules are bound to.

Why event time: a supervision centre must give the same verdicts when it replays last
month's export as it gave live, and sources deliver late and out of order. So nothing here
looks at the wall clock (unless a reference clock is injected for the "future" check).

The engine is three layers, each in a module named for what it holds:

* :mod:`engine.admission`: an arrival is a duplicate, late, ahead of the stream (held until
  another source vouches for it) or buffered; the watermark, future events, the side output
  and dedup are described there.
* :mod:`engine.release`: what the watermark passed is applied in ``(ts, event_id)`` order with
  timers fired in between; skewed sources, closed cases and the end of the stream
  (:meth:`Engine.finish`) are described there.
* this module: construction from a rulebook, the batch fast path (:meth:`Engine.process_many`),
  counters, and the ``RuleContext`` the rules call back into (emit, wake, families, silence).
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
from engine.contract.calendar import WorkingCalendar
from engine.release import Release
from engine.rules.base import Rule
from engine.rules.collusion.tenders import TenderBook
from engine.rules.rulebook import Rulebook, build_rules
from engine.runtime.buffer import PosixClock, WatermarkBuffer
from engine.runtime.cards import CardBoard
from engine.runtime.catalogue import Catalogue
from engine.runtime.dedup import RecordDedup
from engine.runtime.dispatch import CaseRegistry
from engine.runtime.eventtime import FutureHold
from engine.runtime.side import SIDE_REASONS, SideReason, SideRecord, covered_posix
from engine.runtime.skew import SkewTolerance
from engine.runtime.sources import SourceClocks
from engine.runtime.timers import CalendarTimers, TimerKey

__all__ = ["SIDE_REASONS", "Engine", "SideReason", "SideRecord"]

F = TypeVar("F")

_RELEASE_EVERY = 256
_ts_of = attrgetter("ts")


class Engine(Release):
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
        self.cases = {}
        #: Non-case state families: each has ``event_types``, ``apply(event) -> state | None``
        #: and ``after_rules(event, state)``; rules watching those kinds get the state.
        self.tenders = TenderBook()
        self.families: tuple[Any, ...] = (self.tenders,)
        self._family_of = {TenderBook: self.tenders}
        self.legal_reasons = frozenset(self.rulebook.rules.deadline.legal_suspension_reasons)
        self.timers = CalendarTimers(self.calendar)
        self.timers.on_range_error = self._timer_out_of_calendar
        # RuleContext.schedule / cancel: the timer queue's own bound methods, one call each.
        self.schedule = self.timers.schedule
        self.cancel = self.timers.cancel
        src = self.rulebook.sources
        #: Skew tolerance (:mod:`engine.runtime.skew`): case timers armed later, opt-in.
        self._skew = None
        if src.skew_tolerance:
            self._skew = SkewTolerance(
                {p: float(v) for p, v in src.skew_tolerance.items()}, self._timer_case, self.timers.schedule
            )
            self.schedule = self._skew.schedule
        self.cards = CardBoard()
        self.side_output = []
        self._lateness = float(self.rulebook.allowed_lateness)
        self._max_future = float(self.rulebook.max_future)
        self._clock = clock
        #: Per-source clocks (:mod:`engine.runtime.sources`): only when the rulebook asks for
        #: per-source watermarks or a rule watches for silence; ``None`` keeps the batch path.
        self._sources = None
        if src.watermark == "per_source":
            self._sources = self._source_clocks(per_source=True)
        #: ``sources.end_of_stream: source``: at the end, a case is judged up to its source's newest.
        self._end_at_source = src.end_of_stream == "source"
        self._unjudged = 0
        self._buffer = WatermarkBuffer(None if self._sources is not None else self._lateness)
        #: Copies re-sent under new ids (:mod:`engine.runtime.dedup`): opt-in.
        self._dedup = RecordDedup(float(src.dedup_window)) if src.dedup_window > 0 else None
        self._posix = PosixClock()
        self._seen = set()
        self._emitted: set[str] = set()
        self._hold = FutureHold(self._max_future)
        self._out = []
        self._n_in = 0
        self._n_side = dict.fromkeys(SIDE_REASONS, 0)
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
        self._dispatch = {}
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
        if self._end_at_source:
            stats["unjudged_at_end"] = self._unjudged
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
