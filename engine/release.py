"""Applying what the watermark passed, firing timers, and the end of the stream.

Kept apart from :mod:`engine.core` because what happens once an event is due (dispatch in
order, timers in between, the calendar's covered years, skewed sources) is one concern, and
admitting arrivals (:mod:`engine.admission`) another.

* **Timers** (:mod:`engine.runtime.timers`) fire when the watermark passes them (``due <
  watermark``), in ``(due, key)`` order, after every event with ``ts <= due`` is applied.
  A timer is about an open case, or, for a rule with a ``timer_family``, about that state
  family's ``timer_state(id)`` (a complaint); it does nothing once its subject is gone.
  With ``sources.skew_tolerance`` a case's timers are armed its source's tolerance later and
  its alerts keep the limit's instant (:mod:`engine.runtime.skew`).
* **Cases** (:mod:`engine.runtime.cases`) are dropped when closed; their timers are cancelled and
  later events about them are counted (``after_close``) and not applied.
* **End of stream** (:meth:`Release.finish`): candidates never confirmed go to the side output
  as ``future``, the watermark moves to the newest event time, everything left is applied and
  fired, and rules judging whole histories speak last. With ``sources.end_of_stream: source``
  a case's timers fire only up to what its own source has delivered (its newest event time, or
  the per-source watermark if that is later): a department whose last records were still in the
  exchange when the export was taken is not judged on records it has not sent. Such timers are
  counted (``unjudged_at_end``), not fired.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from engine.admission import Admission
from engine.contract.alerts import Alert
from engine.contract.calendar import CalendarRangeError, WorkingCalendar
from engine.rules.approvals.held import HeldCase
from engine.rules.base import Rule
from engine.runtime.cases import CaseState
from engine.runtime.dispatch import Handler
from engine.runtime.side import TIMELESS, SideRecord, uncovered
from engine.runtime.skew import SkewTolerance
from engine.runtime.timers import CalendarTimers, TimerKey

__all__ = ["Release"]


class Release(Admission):
    """The release path of :class:`engine.core.Engine`, which sets every attribute below."""

    calendar: WorkingCalendar
    timers: CalendarTimers
    cases: dict[str, CaseState]
    rules: list[Rule]
    _by_name: dict[str, Rule]
    _family_of: dict[type, Any]
    _dispatch: dict[type, Handler]
    _covered: tuple[float, float]
    _lateness: float
    _skew: SkewTolerance | None
    _out: list[Alert]
    _end_at_source: bool
    _unjudged: int

    def finish(self) -> list[Alert]:
        """End of stream: the watermark moves to the newest event time; flush and fire."""
        out = self._out = []
        for _, _, event, _ in self._hold.drain():  # never confirmed: not applied
            self._side(event, "future")
        buffer = self._buffer
        buffer.close()
        self._release(buffer.watermark, self._at_end if self._end_at_source else None)
        if buffer.watermark != -math.inf:
            when = datetime.fromtimestamp(buffer.watermark, self.calendar.tz)
            for rule in self.rules:  # rules judging whole histories (rings) speak last
                finish_one = getattr(rule, "finish_one", None)
                if finish_one is not None:
                    finish_one(when)
        return out

    def _release(self, limit: float, on_timer: Callable[[TimerKey, datetime], None] | None = None) -> None:
        """Apply what is due before ``limit`` and fire the timers it passed (through ``on_timer``)."""
        due = self._buffer.pop_due(limit)
        timers = self.timers
        if on_timer is None:
            on_timer = self._on_timer
        if due:
            dispatch = self._dispatch
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
            timers.fire_before(datetime.fromtimestamp(limit, self.calendar.tz), on_timer)
        self._buffer.forget_before(limit - self._lateness, self._seen)

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

    def _timer_case(self, key: TimerKey) -> CaseState | None:
        """The open case a timer is about; None for timers of other state families."""
        return self.cases.get(key[1]) if self._by_name[key[0]].timer_family is None else None

    def _at_end(self, key: TimerKey, when: datetime) -> None:
        """A timer the end of the stream passes, under ``sources.end_of_stream: source``.

        A case's (or its held verdict's) timer fires only if its department's system has
        delivered up to its instant: the source's newest event time, or the per-source
        watermark if that is later (what a live engine would have fired anyway).
        """
        state = self._timer_state(key)
        sources = self._sources
        if sources is not None and isinstance(state, CaseState | HeldCase):
            heard = sources.newest.get(f"dept:{state.hall_id}/{state.department_id}", -math.inf)
            if when.timestamp() > max(heard, sources.watermark):
                self._unjudged += 1
                return
        self._on_timer(key, when)

    def _on_timer(self, key: TimerKey, when: datetime) -> None:
        state = self._timer_state(key)
        if state is not None:
            if self._skew is not None and (tol := self._skew.of_timer(key)) > 0.0:
                # Armed ``tol`` after its limit: the alert keeps the limit's instant.
                cal = self.calendar
                when = cal.from_index(cal.to_index(when) - tol, latest=True)
            self._by_name[key[0]].timer_one(state, key, when)
