"""Events from the hall floor: cameras and audio, staff attendance and rosters, the queue-number system.

Part of the event contract; :mod:`engine.contract.events` re-exports every name here and decodes them.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from engine.contract.event_base import Confidence, Count, Event, Id, Instant

__all__ = [
    "AudioAlert",
    "CameraEvent",
    "CameraHeartbeat",
    "PresenceDetected",
    "QueueCalled",
    "QueueCount",
    "QueueEvent",
    "QueueTicket",
    "StaffBreak",
    "StaffClockIn",
    "StaffClockOut",
    "StaffRoster",
    "TimeSpan",
]

# --- cameras and audio ------------------------------------------------------------------


class _CameraEvent(Event, frozen=True):
    hall_id: Id
    camera_id: Id


class PresenceDetected(_CameraEvent, frozen=True, tag="camera.presence"):
    """A detector's verdict that the zone is (or is no longer) occupied."""

    zone: Id
    present: bool
    confidence: Confidence
    window_id: Id | None = None


class QueueCount(_CameraEvent, frozen=True, tag="camera.queue"):
    zone: Id
    count: Count
    department_id: Id | None = None


class CameraHeartbeat(_CameraEvent, frozen=True, tag="camera.heartbeat"):
    pass


class AudioAlert(_CameraEvent, frozen=True, tag="camera.audio"):
    sound: Literal["raised_voice", "quarrel", "crying", "other"]
    confidence: Confidence
    window_id: Id | None = None


CameraEvent = PresenceDetected | QueueCount | CameraHeartbeat | AudioAlert


# --- staff attendance -------------------------------------------------------------------


class StaffClockIn(Event, frozen=True, tag="staff.clock_in"):
    hall_id: Id
    staff_id: Id
    window_id: Id | None = None


class StaffClockOut(Event, frozen=True, tag="staff.clock_out"):
    hall_id: Id
    staff_id: Id
    window_id: Id | None = None


class TimeSpan(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A half-open interval ``[start, end)`` of event time."""

    start: Instant
    end: Instant


class StaffRoster(Event, frozen=True, tag="staff.roster"):
    """One staff member's shift at a window for one day, with the scheduled rests (排班表).

    Halls publish rosters in advance; it is reference data, like ``item.published``, that
    lets a rule excuse a scheduled rest without seeing anything but the stream.
    """

    hall_id: Id
    staff_id: Id
    window_id: Id
    department_id: Id
    shift_start: Instant
    shift_end: Instant
    breaks: Annotated[tuple[TimeSpan, ...], Meta(max_length=48)] = ()


class StaffBreak(Event, frozen=True, kw_only=True, tag="staff.break"):
    """A declared temporary leave (暂离) at the window terminal, with its reason and planned end."""

    hall_id: Id
    staff_id: Id
    window_id: Id | None = None
    reason: Literal["rest", "escort", "meeting", "other"]
    until: Instant


# --- queue-number system (排队叫号) -------------------------------------------------------


class QueueTicket(Event, frozen=True, tag="queue.ticket"):
    """A walk-in took a queue number for a department (取号); numbers restart every day.

    The queue-number system is how halls see their lines: supervision platforms ingest its
    records to watch waits. ``case_id`` is set when the ticket was linked to a case at the
    machine (ID card read), absent otherwise.
    """

    hall_id: Id
    department_id: Id
    ticket: Id
    case_id: Id | None = None


class QueueCalled(Event, frozen=True, tag="queue.called"):
    """A window called a ticket and the holder came (叫号); the wait ends at ``ts``."""

    hall_id: Id
    department_id: Id
    ticket: Id
    window_id: Id
    staff_id: Id | None = None


QueueEvent = QueueTicket | QueueCalled
