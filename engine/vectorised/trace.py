"""One threshold-free pass over a stream: where the case-clock rules arm their timers.

A sweep asks "which alerts would the deadline rules raise for each of a hundred thresholds?".
The answer depends on the threshold only through one addition: a case-clock rule arms its
timer at ``base + threshold × day`` where ``base = accept_idx + paused`` is fixed by the
events (``CaseClockRule.check_one`` in :mod:`engine.rules.approvals.deadline.case_clock`). So this
module runs the stream once through the real :class:`engine.core.Engine` with one rule,
:class:`ArmRecorder`, that watches every case event and records every *arm* (the moment a
case-clock rule would call ``schedule``) together with the index at which that timer stops
being able to raise an alert (its *block*): the next legal suspension (the timer then fires on
a suspended case and does nothing), the next re-arm (which supersedes it), the close (which
cancels it) or the end of the stream (the last watermark). :mod:`engine.vectorised.thresholds`
then evaluates every threshold at once with numpy.

Running the engine itself, rather than a replay of it, means the events applied here are the
engine's by construction: the same dedup, lateness, future-event rule, calendar checks and
closed-case handling, whatever they become.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from engine.contract import events as ev
from engine.contract.calendar import CalendarRangeError, WorkingCalendar
from engine.core import Engine
from engine.replay import fixed_clock
from engine.rules.approvals.deadline.case_clock import case_limit
from engine.rules.base import Rule
from engine.rules.rulebook import Rulebook
from engine.runtime.cases import CASE_EVENT_TYPES, CaseState

__all__ = ["ArmRecorder", "ClockTrace", "trace_case_clocks"]

#: The events at which the case-clock rules (re-)arm their timers.
_ARM_TYPES = (ev.CaseAccepted, ev.CaseResumed)


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


class ArmRecorder(Rule):
    """Records the case-clock arms and per-case state snapshots; raises no alert.

    It sees every case event after the engine has applied it (``check_one`` runs after the
    case update), exactly where the case-clock rules would arm their timers.
    """

    name = "vectorised.trace"
    kinds = tuple(str(t.__struct_config__.tag) for t in CASE_EVENT_TYPES)

    def __init__(self) -> None:
        pass

    def reset(self) -> None:
        cal = self.ctx.calendar
        self.trace = ClockTrace(calendar=cal, day_seconds=float(cal.day_seconds), end_index=math.inf)
        self._pos: dict[str, int] = {}
        self._legal: dict[int, bool] = {}
        self._open_arm: dict[int, int] = {}  # case position -> its live arm
        self._arms: list[tuple[int, float, float, float, bool]] = []  # case, base, paused, limit, promised
        self._blocks: list[float] = []

    def _block(self, p: int, index: float) -> None:
        k = self._open_arm.pop(p, None)
        if k is not None:
            self._blocks[k] = index

    def check_one(self, event: Any, case: CaseState) -> None:
        trace = self.trace
        p = self._pos.get(case.case_id)
        if p is None:
            p = self._pos[case.case_id] = len(trace.case_ids)
            trace.case_ids.append(case.case_id)
            trace.hall_ids.append(case.hall_id)
            trace.department_ids.append(case.department_id)
            trace.accepted_at.append(None)
            trace.case_types.append(None)
            trace.snap_ts.append([])
            trace.snap_state.append([])
        if case.legal_suspended and not self._legal.get(p, False):
            self._block(p, self.ctx.to_index(event.ts))
        self._legal[p] = case.legal_suspended
        if type(event) in _ARM_TYPES and case.accepted and not case.legal_suspended:
            limit = case_limit(case, self._items, math.nan)
            if limit is not None:
                self._block(p, self.ctx.to_index(event.ts))
                self._open_arm[p] = len(self._arms)
                self._arms.append((p, case.accept_idx + case.paused, case.paused, limit[0], limit[1]))
                self._blocks.append(math.inf)  # the end of the stream, set when it is known
        if case.accepted and trace.accepted_at[p] is None and case.accepted_at is not None:
            trace.accepted_at[p] = case.accepted_at.isoformat()
            trace.case_types[p] = case.case_type
        trace.snap_ts[p].append(event.ts.timestamp())
        trace.snap_state[p].append((case.holder, tuple(sorted(case.open_steps))))
        if type(event) is ev.CaseClosed:
            self._block(p, self.ctx.to_index(event.ts))

    def finish_one(self, when: datetime) -> None:
        trace = self.trace
        try:
            trace.end_index = self.ctx.to_index(when)
        except CalendarRangeError:
            trace.end_index = math.inf if when.date() > trace.calendar.last else -math.inf
        blocks = [trace.end_index if b == math.inf else b for b in self._blocks]
        arms = self._arms
        trace.arm_case = np.asarray([a[0] for a in arms], dtype=np.int64)
        trace.arm_base = np.asarray([a[1] for a in arms], dtype=np.float64)
        trace.arm_paused = np.asarray([a[2] for a in arms], dtype=np.float64)
        trace.arm_limit = np.asarray([a[3] for a in arms], dtype=np.float64)
        trace.arm_promised = np.asarray([a[4] for a in arms], dtype=bool)
        trace.arm_block = np.asarray(blocks, dtype=np.float64)
        order = np.argsort(trace.arm_case, kind="stable")
        for name in ("arm_case", "arm_base", "arm_block", "arm_paused", "arm_limit", "arm_promised"):
            setattr(trace, name, getattr(trace, name)[order])


def trace_case_clocks(
    events: Iterable[ev.Event],
    rulebook: Rulebook,
    *,
    calendar: WorkingCalendar | None = None,
    reference: datetime | None = None,
) -> ClockTrace:
    """Run the stream once through the engine and record every case-clock arm.

    ``reference`` is the engine's reference instant (``engine.core.detect``): pass the same one.
    """
    recorder = ArmRecorder()
    clock = fixed_clock(reference) if reference is not None else None
    engine = Engine(rulebook, calendar=calendar, clock=clock, rules=[recorder])
    engine.process_many(events)
    engine.finish()
    trace = recorder.trace
    if engine.watermark is None:  # an empty stream: no arm, nothing to block
        trace.end_index = -math.inf
    return trace
