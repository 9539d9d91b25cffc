"""Discipline state: what the engine knows about windows, cameras, queues and attendance.

Why a state family of its own: the discipline rules key on windows, staff and cameras,
not on cases, and they need *absence* timers ("still empty 15 minutes later") that the
case-keyed calendar timers do not offer. This module keeps the state and a
:class:`~engine.runtime.timers.TimerWheel` in event time (POSIX seconds, not working
time): a timer fires when an applied camera or attendance event is later than its due
instant, or at the end of the stream, so a replay in any arrival order within the allowed
lateness fires the same timers at the same instants.

Presence is debounced here, once for every rule: a change of the raw verdict becomes the
*stable* state only after it has held ``leave_debounce_s`` (present → absent) or
``return_debounce_s`` (absent → present), twice as long when the verdict that started it
has a confidence below ``min_confidence``. (Dropping weak verdicts outright does not work
on a stream of *changes*: a real leave announced with a weak verdict would be lost until
the next flicker.) A contrary run shorter than the opposite debounce is flicker and does
not restart the change. The stable change is dated back to the first raw verdict of the run, so a
debounce delays the alert but not the absence's start. A camera silent for more than
``heartbeat_grace_s`` is *unhealthy*; when it speaks again its windows restart from an
unknown state, because nothing is known about the silent minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from engine.contract import events as ev
from engine.runtime.timers import TimerKey, TimerWheel

__all__ = ["HOOK_NAMES", "CameraState", "DisciplineBook", "FloorHooks", "StaffState", "WindowState"]

_FLIP = "presence"
_TIMER_BUCKET_S = 300.0  # debounces are seconds, absences minutes: a few timers per bucket


@dataclass(slots=True)
class CameraState:
    camera_id: str
    hall_id: str
    last_seen: float = float("-inf")
    windows: set[str] = field(default_factory=set)


@dataclass(slots=True)
class WindowState:
    window_id: str
    hall_id: str
    camera_id: str | None = None
    department_id: str | None = None
    staff_id: str | None = None
    raw: bool | None = None
    stable: bool | None = None
    pending_since: datetime | None = None
    #: when the current stable state began (back-dated to its first raw verdict)
    since: datetime | None = None
    #: a pending change interrupted by a short contrary run: (its first verdict, when interrupted)
    lapse: tuple[datetime, float] | None = None

    @property
    def subject(self) -> str:
        return f"window:{self.window_id}"


@dataclass(slots=True)
class StaffState:
    staff_id: str
    roster: ev.StaffRoster | None = None
    clock_in: datetime | None = None
    clock_out: datetime | None = None
    #: excused intervals: roster rests and declared breaks
    breaks: list[tuple[datetime, datetime]] = field(default_factory=list)

    def on_duty(self, t: datetime) -> bool:
        if self.clock_in is None or self.clock_in > t:
            return False
        return self.clock_out is None or self.clock_out < self.clock_in or self.clock_out > t


#: The hooks the book calls on its rules (``timer_fired`` is called by name).
HOOK_NAMES: tuple[str, ...] = (
    "presence_changed",
    "camera_seen",
    "camera_resumed",
    "queue_changed",
    "audio",
    "roster",
    "attendance",
)


class FloorHooks:
    """What the book calls on a discipline rule: no-op hooks that a rule overrides.

    The book calls, per hook, only the rules that override it; comparing against these
    defaults is how it knows. Defined with the state, below the rules that implement it.
    """

    name: ClassVar[str]

    def presence_changed(self, win: WindowState, when: datetime) -> None: ...
    def camera_seen(self, cam: CameraState, when: datetime) -> None: ...
    def camera_resumed(self, cam: CameraState, when: datetime) -> None: ...
    def queue_changed(self, department_id: str, count: int, when: datetime) -> None: ...
    def audio(self, event: ev.AudioAlert, win: WindowState | None) -> None: ...
    def roster(self, event: ev.StaffRoster, st: StaffState) -> None: ...
    def attendance(self, event: Any, st: StaffState) -> None: ...
    def timer_fired(self, key: str, when: datetime) -> None: ...


class DisciplineBook:
    """The discipline family for the runtime: ``event_types``, ``apply``, ``after_rules``.

    Rules register with :meth:`register` when bound; the book calls their hooks and fires
    their timers. :meth:`apply` returns ``None`` so that the runtime's generic per-kind
    dispatch stays out of the way: the hooks are the dispatch.
    """

    event_types: tuple[type, ...] = (
        ev.PresenceDetected,
        ev.QueueCount,
        ev.CameraHeartbeat,
        ev.AudioAlert,
        ev.StaffClockIn,
        ev.StaffClockOut,
        ev.StaffRoster,
        ev.StaffBreak,
    )

    def __init__(
        self,
        tz: Any,
        *,
        min_confidence: float = 0.6,
        leave_debounce_s: float = 30.0,
        return_debounce_s: float = 30.0,
        heartbeat_grace_s: float = 150.0,
    ) -> None:
        self.tz = tz
        self.min_confidence = min_confidence
        self.leave_debounce_s = leave_debounce_s
        self.return_debounce_s = return_debounce_s
        self.heartbeat_grace_s = heartbeat_grace_s
        self.rules: list[FloorHooks] = []
        self.windows: dict[str, WindowState] = {}
        self.cameras: dict[str, CameraState] = {}
        self.staff: dict[str, StaffState] = {}
        self.queues: dict[str, int] = {}
        self.dept_windows: dict[str, set[str]] = {}
        #: Absence and debounce timers, keyed ``(owner, key, "")`` and due in POSIX seconds.
        self._timers = TimerWheel(width=_TIMER_BUCKET_S)
        self._hooks: dict[str, list[Any]] = {}
        self._handlers: dict[type, Any] = {
            ev.PresenceDetected: self._presence,
            ev.QueueCount: self._queue,
            ev.CameraHeartbeat: self._touch,
            ev.AudioAlert: self._audio,
            ev.StaffRoster: self._roster,
            ev.StaffClockIn: self._attendance,
            ev.StaffClockOut: self._attendance,
            ev.StaffBreak: self._attendance,
        }

    def configure(
        self,
        *,
        min_confidence: float,
        leave_debounce_s: float,
        return_debounce_s: float,
        heartbeat_grace_s: float,
    ) -> None:
        """Set how the floor reads the detectors (by ``discipline.presence``, before any event)."""
        self.min_confidence = min_confidence
        self.leave_debounce_s = leave_debounce_s
        self.return_debounce_s = return_debounce_s
        self.heartbeat_grace_s = heartbeat_grace_s

    # --- timers -----------------------------------------------------------------------

    def schedule(self, owner: str, key: str, due: datetime) -> None:
        """Arm (or move) the timer ``(owner, key)``; owner is a rule name."""
        self._timers.schedule((owner, key, ""), due.timestamp())

    def cancel(self, owner: str, key: str) -> None:
        self._timers.cancel((owner, key, ""))

    def pending(self, owner: str, key: str) -> bool:
        return self._timers.is_armed((owner, key, ""))

    @property
    def fired(self) -> int:
        """Timers fired so far."""
        return self._timers.fired

    def fire_before(self, limit: float) -> None:
        """Fire every live timer due strictly before ``limit`` in ``(due, owner, key)`` order."""
        self._timers.fire_until(limit, self._fire)

    def _fire(self, timer: TimerKey, due: float) -> None:
        owner, key, _ = timer
        when = datetime.fromtimestamp(due, self.tz)
        if owner == _FLIP:
            self._flip(key, when)
        else:
            for rule in self.rules:
                if rule.name == owner:
                    rule.timer_fired(key, when)

    def finish(self, when: datetime) -> None:
        self.fire_before(when.timestamp() + 1e-6)

    # --- the family protocol ----------------------------------------------------------

    def register(self, rule: FloorHooks) -> None:
        """Add ``rule``; per hook, only the rules that override it are called (hot path)."""
        self.rules = [r for r in self.rules if r.name != rule.name] + [rule]
        self._hooks = {
            h: [getattr(r, h) for r in self.rules if getattr(type(r), h) is not getattr(FloorHooks, h)]
            for h in HOOK_NAMES
        }

    def hooks(self, name: str) -> list[Any]:
        return self._hooks.get(name, [])

    def camera_healthy(self, camera_id: str | None, when: datetime) -> bool:
        cam = self.cameras.get(camera_id or "")
        return cam is not None and when.timestamp() - cam.last_seen <= self.heartbeat_grace_s

    def apply(self, event: Any) -> None:
        t = event.ts.timestamp()
        if self._timers.horizon < t:
            self.fire_before(t)
        self._handlers[event.__class__](event, t)
        return None

    def _queue(self, event: ev.QueueCount, t: float) -> None:
        self._touch(event, t)
        if event.department_id is not None:
            self.queues[event.department_id] = event.count
            for hook in self.hooks("queue_changed"):
                hook(event.department_id, event.count, event.ts)

    def _audio(self, event: ev.AudioAlert, t: float) -> None:
        self._touch(event, t)
        for hook in self.hooks("audio"):
            hook(event, self.windows.get(event.window_id or ""))

    def after_rules(self, event: Any, state: Any) -> None:
        """Nothing to forget per event: state is per window and staff member, and small."""

    # --- state updates ----------------------------------------------------------------

    def window(self, window_id: str, hall_id: str) -> WindowState:
        win = self.windows.get(window_id)
        if win is None:
            win = self.windows[window_id] = WindowState(window_id, hall_id)
        return win

    def staff_state(self, staff_id: str) -> StaffState:
        st = self.staff.get(staff_id)
        if st is None:
            st = self.staff[staff_id] = StaffState(staff_id)
        return st

    def _touch(self, event: Any, t: float) -> None:
        cam = self.cameras.get(event.camera_id)
        if cam is None:
            cam = self.cameras[event.camera_id] = CameraState(event.camera_id, event.hall_id)
        resumed = cam.last_seen != float("-inf") and t - cam.last_seen > self.heartbeat_grace_s
        cam.last_seen = max(cam.last_seen, t)
        if resumed:
            for wid in sorted(cam.windows):
                win = self.windows[wid]
                self.cancel(_FLIP, wid)
                win.raw = win.stable = None
                win.pending_since = win.since = None
                win.lapse = None
            for hook in self.hooks("camera_resumed"):
                hook(cam, event.ts)
        for hook in self.hooks("camera_seen"):
            hook(cam, event.ts)

    def _presence(self, event: ev.PresenceDetected, t: float) -> None:
        self._touch(event, t)
        if event.window_id is None:
            return
        win = self.window(event.window_id, event.hall_id)
        if win.camera_id != event.camera_id:
            win.camera_id = event.camera_id
            self.cameras[event.camera_id].windows.add(win.window_id)
        if event.present == win.raw:
            return
        win.raw = event.present
        if win.raw == win.stable:
            self.cancel(_FLIP, win.window_id)
            if win.pending_since is not None:
                win.lapse = (win.pending_since, t)
            win.pending_since = None
            return
        delay = self.return_debounce_s if event.present else self.leave_debounce_s
        if event.confidence < self.min_confidence:
            delay *= 2.0  # a weak verdict may start a change, but must hold twice as long
        keep = self.leave_debounce_s if event.present else self.return_debounce_s
        since, start = event.ts, t
        if win.lapse is not None and t - win.lapse[1] < keep:
            # The contrary run was shorter than what would have confirmed it: flicker, so
            # the change keeps its first verdict.
            since = win.lapse[0]
            start = since.timestamp()
        win.lapse = None
        win.pending_since = since
        self.schedule(_FLIP, win.window_id, datetime.fromtimestamp(max(t, start + delay), self.tz))

    def _flip(self, window_id: str, when: datetime) -> None:
        win = self.windows[window_id]
        win.stable = win.raw
        win.since = win.pending_since
        win.pending_since = None
        win.lapse = None
        for hook in self.hooks("presence_changed"):
            hook(win, when)

    def _roster(self, event: ev.StaffRoster, t: float) -> None:
        win = self.window(event.window_id, event.hall_id)
        win.staff_id = event.staff_id
        win.department_id = event.department_id
        self.dept_windows.setdefault(event.department_id, set()).add(event.window_id)
        st = self.staff_state(event.staff_id)
        st.roster = event
        st.breaks = [b for b in st.breaks if b[1] >= event.shift_start]
        st.breaks.extend((b.start, b.end) for b in event.breaks)
        for hook in self.hooks("roster"):
            hook(event, st)

    def _attendance(self, event: ev.StaffClockIn | ev.StaffClockOut | ev.StaffBreak, t: float) -> None:
        st = self.staff_state(event.staff_id)
        if isinstance(event, ev.StaffClockIn):
            st.clock_in = event.ts
        elif isinstance(event, ev.StaffClockOut):
            st.clock_out = event.ts
        else:
            st.breaks.append((event.ts, event.until))
        for hook in self.hooks("attendance"):
            hook(event, st)
