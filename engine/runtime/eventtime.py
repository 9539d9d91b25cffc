"""Who stamped an event, and the events held because they claim a time nobody else has seen yet.

Why sources: a clock that jumps ahead stays ahead, so a second event from the *same* clock
says nothing about whether the first one's time is real. Only another clock can confirm a
jump. :func:`source_of` names the clock behind each event, per family:

==============================  ==========================================================
family                          source (one clock)
==============================  ==========================================================
approval cases, item catalogue  the department's business system, ``dept:<hall>/<department>``
and staff authorisations        (each department runs its own vertical system, 垂直系统);
                                a joint review's records: the lead department's system
``source.heartbeat``            the system it names, ``source:<source_id>``
cameras and audio               the camera, ``camera:<hall>/<camera>``
attendance, rosters, breaks     the hall's attendance system, ``attendance:<hall>``
queue tickets and calls         the hall's queue-number machine, ``queue:<hall>``
complaints                      the hall's complaints platform, ``complaints:<hall>``
inspections                     the same platform (it records the inspections), ``complaints:<hall>``
tender published/opened/award   the tender's own record at the trading platform, ``tender:<tender>``
bids                            the bidder's upload, ``bidder:<bidder>``
expert scores                   the expert's evaluation terminal, ``expert:<expert>``
==============================  ==========================================================

:class:`FutureHold` keeps the *candidates*: events more than ``max_future`` ahead of the
stream's time. The engine (:mod:`engine.core`) and the vectorised replay
(:mod:`engine.vectorised.trace`) both release them through this class, so they agree on
which events are applied.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable
from typing import Any

from engine.contract import events as ev

__all__ = ["FutureHold", "Held", "source_of", "subject_of"]


def _dept(e: Any) -> str:
    return f"dept:{e.hall_id}/{e.department_id}"


def _camera(e: Any) -> str:
    return f"camera:{e.hall_id}/{e.camera_id}"


def _attendance(e: Any) -> str:
    return f"attendance:{e.hall_id}"


def _queue(e: Any) -> str:
    return f"queue:{e.hall_id}"


def _complaints(e: Any) -> str:
    return f"complaints:{e.hall_id}"


def _tender(e: Any) -> str:
    return f"tender:{e.tender_id}"


_SOURCES: dict[type, Callable[[Any], str]] = {
    ev.ItemPublished: _dept,
    ev.StaffAuthorised: _dept,
    ev.SourceHeartbeat: lambda e: f"source:{e.source_id}",
    **dict.fromkeys(
        (
            ev.CaseSubmitted,
            ev.CaseAccepted,
            ev.StepStarted,
            ev.StepCompleted,
            ev.CaseSuspended,
            ev.CaseResumed,
            ev.FeeCharged,
            ev.CaseDecided,
            ev.CertificateIssued,
            ev.CaseClosed,
            *ev.JOINT_REVIEW_EVENT_TYPES,
        ),
        _dept,
    ),
    **dict.fromkeys((ev.PresenceDetected, ev.QueueCount, ev.CameraHeartbeat, ev.AudioAlert), _camera),
    **dict.fromkeys((ev.StaffClockIn, ev.StaffClockOut, ev.StaffRoster, ev.StaffBreak), _attendance),
    **dict.fromkeys((ev.QueueTicket, ev.QueueCalled), _queue),
    **dict.fromkeys(ev.COMPLAINT_EVENT_TYPES, _complaints),
    **dict.fromkeys(ev.INSPECTION_EVENT_TYPES, _complaints),
    **dict.fromkeys((ev.TenderPublished, ev.BidsOpened, ev.TenderAwarded), _tender),
    ev.BidSubmitted: lambda e: f"bidder:{e.bidder_id}",
    ev.ExpertScored: lambda e: f"expert:{e.expert_id}",
}


def source_of(event: ev.Event) -> str:
    """The clock that stamped ``event`` (see the table in the module docstring)."""
    return _SOURCES[event.__class__](event)


_SUBJECT_FIELDS = (
    ("case_id", "case"),
    ("tender_id", "tender"),
    ("camera_id", "camera"),
    ("complaint_id", "complaint"),
    ("rectification_id", "rectification"),
    ("inspection_id", "inspection"),
    ("staff_id", "staff"),
    ("item_id", "item"),
    ("source_id", "source"),
)


def subject_of(event: ev.Event) -> str | None:
    """What the event is about, as alerts name subjects (``case:C1``, ``tender:T1``...)."""
    for name, prefix in _SUBJECT_FIELDS:
        value = getattr(event, name, None)
        if value:
            return f"{prefix}:{value}"
    return None


Held = tuple[float, str, Any, str]
"""``(POSIX ts, event_id, event, source)``."""


class FutureHold:
    """Candidates sorted by ``(ts, event_id)``, and the two ways out of the hold.

    A candidate is *corroborated* by a later arrival from another source whose time lies
    within ``max_future`` of the candidate's; it is *caught up* once the stream's own time
    (the newest applied event) comes within ``max_future`` of it. Anything still held at
    the end of a stream was never confirmed.
    """

    __slots__ = ("_held", "max_future")

    def __init__(self, max_future: float) -> None:
        self.max_future = max_future
        self._held: list[Held] = []

    def __len__(self) -> int:
        return len(self._held)

    def hold(self, item: Held) -> None:
        insort(self._held, item, key=_order)

    def floor(self) -> float:
        """No arrival earlier than this can corroborate a candidate (``inf`` when none is held)."""
        held = self._held
        return held[0][0] - self.max_future if held else float("inf")

    def corroborated(self, ts: float, source: str) -> list[Held]:
        """Remove and return the candidates an arrival at ``ts`` from ``source`` confirms."""
        held = self._held
        lo = bisect_left(held, ts - self.max_future, key=_ts)
        hi = bisect_right(held, ts + self.max_future, key=_ts)
        hits = [h for h in held[lo:hi] if h[3] != source]
        if hits:
            self._held = held[:lo] + [h for h in held[lo:hi] if h[3] == source] + held[hi:]
        return hits

    def caught_up(self, newest: float) -> list[Held]:
        """Remove and return the candidates no longer ``max_future`` ahead of ``newest``."""
        held = self._held
        end = bisect_right(held, newest + self.max_future, key=_ts)
        if not end:
            return []
        out = held[:end]
        del held[:end]
        return out

    def drain(self) -> list[Held]:
        """Remove and return every candidate (the end of a stream)."""
        out, self._held = self._held, []
        return out


def _order(h: Held) -> tuple[float, str]:
    return h[0], h[1]


def _ts(h: Held) -> float:
    return h[0]
