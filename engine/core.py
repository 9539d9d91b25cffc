"""The rule runtime: event time, watermark, buffering, dedup, timers, dispatch, cards.

Why event time: a supervision centre must give the same verdicts when it replays last
month's export as it gave live, and sources deliver late and out of order. So nothing here
looks at the wall clock (unless a reference clock is injected for the "future" check).

* **Watermark.** ``watermark = max event ts seen − allowed_lateness``. Arriving events wait
  in a buffer (:mod:`engine.runtime.buffer`: a sorted run for in-order arrivals, a heap for the
  others) and are applied in ``(ts, event_id)`` order once ``ts <= watermark``, so any
  arrival order within the allowed lateness gives identical alerts. An event with
  ``ts < watermark`` on arrival is *late*: it goes to :attr:`Engine.side_output`, counted,
  never applied.
* **Future events.** With an injected ``clock`` (POSIX seconds), an event more than
  ``max_future`` ahead of it is *future*. In replay there is no trustworthy clock, so an
  event more than ``max_future`` ahead of the newest event time is held as a *candidate*:
  if the next arrival that is not itself late is within ``max_future`` of it, the jump was
  real (a night without heartbeats) and the candidate is applied; otherwise it goes to the
  side output as ``future``. A candidate still held at :meth:`Engine.finish` is applied: nothing
  contradicts it, and the typical last event is a heartbeat marking the end of a run,
  whose timers must fire.
* **Duplicates.** A repeated ``event_id`` is ignored and counted. To keep memory bounded,
  ids of applied events are forgotten once their ``ts`` falls ``allowed_lateness`` behind
  the watermark: a copy that old would be late anyway and is reported as late. Ids of
  buffered, late and future events are kept.
* **Timers** (:mod:`engine.runtime.timers`) fire when the watermark passes them (``due <
  watermark``), in ``(due, key)`` order, after every event with ``ts <= due`` is applied.
* **Cases** (:mod:`engine.runtime.cases`) are dropped when closed; their timers are cancelled and
  later events about them are counted (``after_close``) and not applied.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, Literal, TypeVar, cast

import msgspec

from engine.contract import events as ev
from engine.contract.alerts import Alert, Evidence, alert_id
from engine.contract.calendar import WorkingCalendar
from engine.rules.base import Rule
from engine.rules.collusion.tenders import TenderBook
from engine.rules.rulebook import Rulebook, build_rules
from engine.runtime.buffer import Entry, WatermarkBuffer, posix, posix_offsets
from engine.runtime.cards import CardBoard
from engine.runtime.cases import CaseState
from engine.runtime.catalogue import Catalogue
from engine.runtime.dispatch import CaseRegistry
from engine.runtime.timers import CalendarTimers, TimerKey

__all__ = ["DetectResult", "Engine", "SideRecord", "detect"]

F = TypeVar("F")

_RELEASE_EVERY = 256


class SideRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An event that was not applied, and why."""

    event_id: str
    kind: str
    ts: datetime
    reason: Literal["late", "future"]


@dataclass(frozen=True, slots=True)
class DetectResult:
    """Everything one batch run produced; alerts sorted by ``(ts, alert_id)``."""

    alerts: list[Alert]
    side_output: list[SideRecord]
    stats: dict[str, int]
    card_levels: dict[str, str] = field(default_factory=dict)


def _tag(event: ev.Event) -> str:
    return str(type(event).__struct_config__.tag)


class Engine:
    """A streaming rule engine over the event contract (see the module docstring).

    ``calendar`` defaults to the rulebook's (China table, rulebook periods and
    corrections); ``clock`` (POSIX seconds) is the reference for "future" events in live
    use; ``rules`` replaces the rulebook's rule set (unbound rule instances, e.g. clones
    with swept parameters).
    """

    #: ``RuleContext.schedule(case, key, index)``: arm ``key`` and remember it on the case.
    schedule: Callable[[CaseState, TimerKey, float], None]
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
        # RuleContext.schedule / cancel: the timer queue's own bound methods, one call each.
        self.schedule = self.timers.schedule_case
        self.cancel = self.timers.cancel
        self.cards = CardBoard()
        self.side_output: list[SideRecord] = []
        self._lateness = float(self.rulebook.allowed_lateness)
        self._max_future = float(self.rulebook.max_future)
        self._clock = clock
        self._buffer = WatermarkBuffer()
        self._seen: set[str] = set()
        self._emitted: set[str] = set()
        self._pending: Entry | None = None
        self._max_seen = -math.inf
        self._wm = -math.inf
        self._out: list[Alert] = []
        self._n_in = self._n_dup = self._n_late = self._n_future = 0
        self.rules = list(rules) if rules is not None else build_rules(self.rulebook)
        self._by_name = {r.name: r for r in self.rules}
        self._alerts_by_rule = dict.fromkeys(sorted(self._by_name), 0)
        for rule in self.rules:
            rule.bind(self)
        self._observers = [r.alert_one for r in self.rules if r.observes_alerts]
        self._registry = CaseRegistry(self.cases, self.timers)
        #: Event type → handler; built after binding (rules may attach families, e.g. cameras).
        self._dispatch = self._registry.build(
            calendar=self.calendar,
            legal_reasons=self.legal_reasons,
            catalogue=self.catalogue,
            rules=self.rules,
            families=self.families,
        )

    # --- public API -------------------------------------------------------------------

    def process_one(self, event: ev.Event) -> list[Alert]:
        """Ingest one event; returns the alerts it released (often none while buffered)."""
        out = self._out = []
        self._ingest(event)
        wm = self._wm
        if self._buffer.first_ts() <= wm or wm > self.timers.horizon:
            self._release(wm)
        return out

    def process_many(self, events: Iterable[ev.Event]) -> list[Alert]:
        """Ingest a batch; equivalent to :meth:`process_one` on each, alerts concatenated.

        Releasing the buffer every few hundred events instead of after each one changes
        nothing observable: the application order is fixed by ``(ts, event_id)`` and no
        later arrival can land before what the watermark already passed.
        """
        out = self._out = []
        ingest = self._ingest
        seen = self._seen
        seen_add = seen.add
        buffer = self._buffer
        heap = buffer.heap
        append = buffer.run.append
        push = heapq.heappush
        offsets = posix_offsets()
        lateness = self._lateness
        max_future = self._max_future
        slow_always = self._clock is not None
        slow = slow_always or self._pending is not None
        n_total = n_slow = 0
        last = buffer.last
        max_seen = self._max_seen
        wm = self._wm
        ceiling = max_seen + max_future
        it = iter(events)
        while chunk := list(islice(it, _RELEASE_EVERY)):
            n_total += len(chunk)
            for event in chunk:
                # Fast path for the common case (new id, on time, no jump under review);
                # anything else goes through _ingest, with the locals written back around it.
                eid = event.event_id
                t = event.ts
                off = offsets.get(t.tzinfo)
                if not off:  # other tzinfos (0) or one not seen yet (None)
                    ts = t.timestamp() if off == 0 else posix(t)
                else:  # engine.runtime.buffer.posix, inlined
                    ts = (
                        (t.toordinal() * 86400.0 + (t.hour * 3600 + t.minute * 60 + t.second) - off) * 1e6
                        + t.microsecond
                    ) / 1e6
                    if not -9e9 < ts < 9e9:  # beyond 2**53 microseconds: not exact in a float
                        ts = t.timestamp()
                if ts < wm or ts > ceiling or slow or eid in seen:
                    n_slow += 1
                    self._max_seen, self._wm, buffer.last = max_seen, wm, last
                    ingest(event)
                    max_seen, wm, last = self._max_seen, self._wm, buffer.last
                    ceiling = max_seen + max_future
                    slow = slow_always or self._pending is not None
                    continue
                seen_add(eid)
                entry = (ts, eid, event)
                if entry > last:  # in order: the sorted run, no heap
                    append(entry)
                    last = entry
                else:
                    push(heap, entry)
                if ts > max_seen:
                    max_seen = ts
                    wm = ts - lateness
                    ceiling = ts + max_future
            # Release after every full chunk, and once more at the end (as before chunking).
            self._max_seen, self._wm, buffer.last = max_seen, wm, last
            if len(chunk) == _RELEASE_EVERY:
                self._release(wm)
        self._n_in += n_total - n_slow
        self._release(wm)
        return out

    def finish(self) -> list[Alert]:
        """End of stream: the watermark moves to the newest event time; flush and fire."""
        out = self._out = []
        if self._pending is not None:
            self._accept(self._pending)
            self._pending = None
        if self._max_seen > self._wm:
            self._wm = self._max_seen
        self._release(self._wm)
        if self._wm != -math.inf:
            when = datetime.fromtimestamp(self._wm, self.calendar.tz)
            for rule in self.rules:  # rules judging whole histories (rings) speak last
                finish_one = getattr(rule, "finish_one", None)
                if finish_one is not None:
                    finish_one(when)
        return out

    @property
    def watermark(self) -> datetime | None:
        if self._wm == -math.inf:
            return None
        return datetime.fromtimestamp(self._wm, self.calendar.tz)

    @property
    def card_levels(self) -> dict[str, str]:
        return self.cards.levels()

    @property
    def stats(self) -> dict[str, int]:
        pending = 0 if self._pending is None else 1
        accepted = self._n_in - self._n_dup - self._n_late - self._n_future - pending
        stats = {
            "events_in": self._n_in,
            "duplicates": self._n_dup,
            "late": self._n_late,
            "future": self._n_future,
            "applied": accepted - len(self._buffer),
            "buffered": len(self._buffer) + pending,
            "after_close": self._registry.after_close,
            "calendar_errors": self._registry.range_errors + self.timers.range_errors,
            "open_cases": len(self.cases),
            "timers_fired": self.timers.fired,
            "alerts": sum(self._alerts_by_rule.values()),
        }
        for name, n in self._alerts_by_rule.items():
            stats[f"alerts.{name}"] = n
        return stats

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

    def _side(self, event: ev.Event, reason: Literal["late", "future"]) -> None:
        self.side_output.append(
            SideRecord(event_id=event.event_id, kind=_tag(event), ts=event.ts, reason=reason)
        )
        if reason == "late":
            self._n_late += 1
        else:
            self._n_future += 1

    def _accept(self, entry: Entry) -> None:
        self._buffer.push(entry)
        ts = entry[0]
        if ts > self._max_seen:
            self._max_seen = ts
            self._wm = ts - self._lateness

    def _ingest(self, event: ev.Event) -> None:
        self._n_in += 1
        eid = event.event_id
        if eid in self._seen:
            self._n_dup += 1
            return
        self._seen.add(eid)
        ts = posix(event.ts)
        entry = (ts, eid, event)
        clock = self._clock
        if clock is not None:
            if ts > clock() + self._max_future:
                self._side(event, "future")
                return
        else:
            pending = self._pending
            if pending is not None:
                if ts < self._wm:  # a straggler says nothing about the jump
                    self._side(event, "late")
                    return
                self._pending = None
                if ts >= pending[0] - self._max_future:
                    self._accept(pending)
                else:
                    self._side(pending[2], "future")
            if ts > self._max_seen + self._max_future and self._max_seen != -math.inf:
                self._pending = entry
                return
        if ts < self._wm:
            self._side(event, "late")
            return
        self._accept(entry)

    def _release(self, limit: float) -> None:
        due = self._buffer.pop_due(limit)
        timers = self.timers
        if due:
            dispatch = self._dispatch
            on_timer = self._on_timer
            for ts, _, event in due:
                if ts > timers.horizon:  # fire what is due before this event
                    timers.fire_before(event.ts, on_timer)
                handler = dispatch.get(event.__class__)
                if handler is not None:
                    handler(event)
        if limit > timers.horizon:
            timers.fire_before(datetime.fromtimestamp(limit, self.calendar.tz), self._on_timer)
        self._buffer.forget_before(limit - self._lateness, self._seen)

    def _on_timer(self, key: TimerKey, when: datetime) -> None:
        case = self.cases.get(key[1])
        if case is not None:
            self._by_name[key[0]].timer_one(case, key, when)


def detect(
    events: Iterable[ev.Event], rulebook: Rulebook | None = None, *, calendar: WorkingCalendar | None = None
) -> DetectResult:
    """Run a whole stream through a fresh engine and collect everything, sorted."""
    engine = Engine(rulebook, calendar=calendar)
    alerts = engine.process_many(events)
    alerts.extend(engine.finish())
    alerts.sort(key=lambda a: (a.ts, a.alert_id))
    return DetectResult(
        alerts=alerts,
        side_output=list(engine.side_output),
        stats=engine.stats,
        card_levels=engine.card_levels,
    )
