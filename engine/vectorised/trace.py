"""One threshold-free pass over a stream: where the case-clock rules arm their timers.

A sweep asks "which alerts would the deadline rules raise for each of a hundred thresholds?".
The answer depends on the threshold only through one addition: a case-clock rule arms its
timer at ``base + threshold × day`` where ``base = accept_idx + paused`` is fixed by the
events (:meth:`engine.runtime.cases.CaseState.case_due_index`). So this module replays the case
state once, exactly as :class:`engine.core.Engine` applies it, and records every *arm*
(the moment a case-clock rule would call ``schedule``) together with the index at which
that timer stops being able to raise an alert (its *block*): the next legal suspension
(the timer then fires on a suspended case and does nothing), the next re-arm (which
supersedes it), the close (which cancels it) or the end of the stream (the last
watermark). :mod:`engine.vectorised.thresholds` then evaluates every threshold at once with numpy.

The replay applies the runtime's ingestion rules (duplicates, late events, held future
candidates) so that the applied events are the engine's; it assumes what the simulator and
the runtime guarantee for a sorted stream: events are applied in ``(ts, event_id)`` order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from engine.contract import events as ev
from engine.contract.calendar import CalendarRangeError, WorkingCalendar
from engine.rules.rulebook import Rulebook
from engine.runtime.cases import CaseState, case_updates
from engine.runtime.catalogue import Catalogue
from engine.runtime.eventtime import FutureHold, source_of

__all__ = ["ClockTrace", "applied_events", "trace_case_clocks"]

_ARM_KINDS = (ev.CaseAccepted, ev.CaseResumed)


def applied_events(
    events: Iterable[ev.Event], rulebook: Rulebook, *, reference: float | None = None
) -> tuple[list[ev.Event], float]:
    """The events the runtime would apply, in application order, and the final watermark (POSIX).

    Mirrors ``Engine._ingest``: a repeated id is dropped, an event behind the watermark is
    late; with a ``reference`` clock (POSIX), an event more than ``max_future`` after it is
    future; without one, an event more than ``max_future`` ahead of the stream is held
    (:class:`~engine.runtime.eventtime.FutureHold`) until another source or the stream
    time confirms it, and dropped if nothing does.
    """
    lateness = float(rulebook.allowed_lateness)
    max_future = float(rulebook.max_future)
    seen: set[str] = set()
    kept: list[tuple[float, str, ev.Event]] = []
    hold = FutureHold(max_future)
    max_seen = -math.inf
    wm = -math.inf

    def accept(entry: tuple[float, str, ev.Event]) -> None:
        nonlocal max_seen, wm
        kept.append(entry)
        if entry[0] > max_seen:
            max_seen = entry[0]
            wm = max_seen - lateness

    for event in events:
        eid = event.event_id
        if eid in seen:
            continue
        seen.add(eid)
        ts = event.ts.timestamp()
        if ts < wm:
            continue
        if reference is not None:
            if ts <= reference + max_future:
                accept((ts, eid, event))
            continue
        if hold and ts >= hold.floor():
            for held in hold.corroborated(ts, source_of(event)):
                accept(held[:3])
        if ts > max_seen + max_future:
            hold.hold((ts, eid, event, source_of(event)))
            continue
        accept((ts, eid, event))
        while hold and (up := hold.caught_up(max_seen)):
            for held in up:
                accept(held[:3])
    kept.sort(key=lambda e: (e[0], e[1]))
    return [e[2] for e in kept], max_seen


@dataclass(slots=True)
class ClockTrace:
    """Arms of the case-clock rules and per-case state snapshots, as flat arrays.

    Arm ``k`` belongs to case ``arm_case[k]``; its timer for a threshold of ``s`` working
    seconds is due at ``arm_base[k] + s`` and raises an alert iff ``due < arm_block[k]``.
    Arms are in case order, then time order, so the first alerting arm of a case is the
    one the engine raises (later ones are deduplicated).
    """

    calendar: WorkingCalendar
    day_seconds: float
    end_index: float
    case_ids: list[str] = field(default_factory=list)
    hall_ids: list[str] = field(default_factory=list)
    department_ids: list[str] = field(default_factory=list)
    accepted_at: list[str | None] = field(default_factory=list)
    case_types: list[str | None] = field(default_factory=list)
    arm_case: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    arm_base: np.ndarray = field(default_factory=lambda: np.zeros(0))
    arm_block: np.ndarray = field(default_factory=lambda: np.zeros(0))
    arm_paused: np.ndarray = field(default_factory=lambda: np.zeros(0))
    arm_limit: np.ndarray = field(default_factory=lambda: np.zeros(0))
    arm_promised: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    #: Per case: POSIX time of each applied event, and (holder, sorted open steps) after it.
    snap_ts: list[list[float]] = field(default_factory=list)
    snap_state: list[list[tuple[str | None, tuple[str, ...]]]] = field(default_factory=list)

    @property
    def n_arms(self) -> int:
        return int(self.arm_case.size)

    def state_at(self, case: int, index: float) -> tuple[str | None, tuple[str, ...]]:
        """Holder and open steps of ``case`` once every event with index ``<= index`` is applied.

        Those are exactly the events up to the *latest* instant of that index (the index
        never decreases with time), so the lookup is by POSIX time.
        """
        at = self.calendar.from_index(index, latest=True).timestamp()
        k = int(np.searchsorted(np.asarray(self.snap_ts[case]), at, side="right")) - 1
        return self.snap_state[case][max(k, 0)]


def trace_case_clocks(
    events: Iterable[ev.Event],
    rulebook: Rulebook,
    *,
    calendar: WorkingCalendar | None = None,
    reference: datetime | None = None,
) -> ClockTrace:
    """Replay case state once and record every case-clock arm (see the module docstring).

    ``reference`` is the engine's reference instant (``engine.core.detect``): pass the same one.
    """
    cal = calendar if calendar is not None else rulebook.build_calendar()
    ref = reference.timestamp() if reference is not None else None
    applied, max_seen = applied_events(events, rulebook, reference=ref)
    try:
        end_index = (
            cal.to_index(datetime.fromtimestamp(max_seen, cal.tz)) if max_seen != -math.inf else -math.inf
        )
    except CalendarRangeError:
        end_index = math.inf if datetime.fromtimestamp(max_seen, cal.tz).date() > cal.last else -math.inf
    legal = frozenset(rulebook.rules.deadline.legal_suspension_reasons)
    updates = case_updates(cal, legal)
    catalogue = Catalogue()
    trace = ClockTrace(calendar=cal, day_seconds=float(cal.day_seconds), end_index=end_index)
    cases: dict[str, CaseState] = {}
    pos: dict[str, int] = {}
    closed: set[str] = set()
    # Per arm: case, base, paused, limit, promised; blocks are filled in as later events come.
    arm_case: list[int] = []
    arm_base: list[float] = []
    arm_paused: list[float] = []
    arm_limit: list[float] = []
    arm_promised: list[bool] = []
    arm_block: list[float] = []
    open_arm: dict[int, int] = {}  # case position -> its live arm

    def block(p: int, index: float) -> None:
        k = open_arm.pop(p, None)
        if k is not None:
            arm_block[k] = index

    for event in applied:
        etype = type(event)
        if etype is ev.ItemPublished:
            catalogue.publish_item(event)  # type: ignore[arg-type]
            continue
        if etype is ev.StaffAuthorised:
            catalogue.authorise_staff(event)  # type: ignore[arg-type]
            continue
        if etype not in updates:
            continue
        cid = event.case_id  # type: ignore[attr-defined]
        case = cases.get(cid)
        if case is None:
            if cid in closed:
                continue
            case = cases[cid] = CaseState(cid, event.hall_id, event.department_id)  # type: ignore[attr-defined]
            p = pos[cid] = len(trace.case_ids)
            trace.case_ids.append(cid)
            trace.hall_ids.append(case.hall_id)
            trace.department_ids.append(case.department_id)
            trace.accepted_at.append(None)
            trace.case_types.append(None)
            trace.snap_ts.append([])
            trace.snap_state.append([])
        p = pos[cid]
        was_legal = case.legal_suspended
        update = updates[etype]
        if update is not None:
            try:
                update(event, case)
            except CalendarRangeError:
                continue
        if case.legal_suspended and not was_legal:
            block(p, cal.to_index(event.ts))
        if etype in _ARM_KINDS and case.accepted and not case.legal_suspended:
            limit = _limit(case, catalogue)
            if limit is not None:
                block(p, cal.to_index(event.ts))
                open_arm[p] = len(arm_case)
                arm_case.append(p)
                arm_base.append(case.accept_idx + case.paused)
                arm_paused.append(case.paused)
                arm_limit.append(limit[0])
                arm_promised.append(limit[1])
                arm_block.append(end_index)
        if case.accepted and trace.accepted_at[p] is None and case.accepted_at is not None:
            trace.accepted_at[p] = case.accepted_at.isoformat()
            trace.case_types[p] = case.case_type
        trace.snap_ts[p].append(event.ts.timestamp())
        trace.snap_state[p].append((case.holder, tuple(sorted(case.open_steps))))
        if etype is ev.CaseClosed:
            block(p, cal.to_index(event.ts))
            del cases[cid]
            closed.add(cid)
    trace.arm_case = np.asarray(arm_case, dtype=np.int64)
    trace.arm_base = np.asarray(arm_base, dtype=np.float64)
    trace.arm_block = np.asarray(arm_block, dtype=np.float64)
    trace.arm_paused = np.asarray(arm_paused, dtype=np.float64)
    trace.arm_limit = np.asarray(arm_limit, dtype=np.float64)
    trace.arm_promised = np.asarray(arm_promised, dtype=bool)
    order = np.argsort(trace.arm_case, kind="stable")
    for name in ("arm_case", "arm_base", "arm_block", "arm_paused", "arm_limit", "arm_promised"):
        setattr(trace, name, getattr(trace, name)[order])
    return trace


def _limit(case: CaseState, catalogue: Catalogue) -> tuple[float, bool] | None:
    """(limit in working days, promised?) as ``_CaseClockRule._limit`` sees it; instant
    cases get ``nan`` because each rule supplies its own instant limit."""
    item = None if case.item_id is None else catalogue.items.get(case.item_id)
    if item is None:
        return None
    if case.case_type == "promised" and item.promised_days > 0:
        return float(item.promised_days), True
    return math.nan, False
