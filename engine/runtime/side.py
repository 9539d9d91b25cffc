"""The side output: what the engine did not apply, and why.

A record per event set aside (late, future, duplicate, about a closed case, outside the
calendar) or per deadline timer that cannot be placed on the calendar, so that a user of
``supsim detect`` or of the service sees *which* events were not judged, not only how many.
Kept apart from :mod:`engine.core` so that the record and the coverage test it needs are one
small concept.
"""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from typing import Literal

import msgspec

from engine.contract import events as ev
from engine.contract.calendar import CalendarRangeError, WorkingCalendar

__all__ = ["SIDE_REASONS", "TIMELESS", "SideReason", "SideRecord", "covered_posix", "uncovered"]

SideReason = Literal["late", "future", "duplicate", "after_close", "out_of_calendar"]
SIDE_REASONS: tuple[SideReason, ...] = ("late", "future", "duplicate", "after_close", "out_of_calendar")


class SideRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An event that was not applied, or a timer that could not be judged, and why.

    For an event: its ``event_id``, ``kind`` and ``ts``, its hall and subject where it has
    them. For a timer (``kind`` ``"timer"``, ``event_id`` empty): the rule, the case as
    ``subject`` and, as ``ts``, the event time at which the engine found it could not
    place the deadline. ``detail`` carries the calendar's message for ``out_of_calendar``.
    """

    event_id: str
    kind: str
    ts: datetime
    reason: SideReason
    hall_id: str | None = None
    subject: str | None = None
    rule: str | None = None
    detail: str = ""


#: Reference data: applying it needs no working time, so an old catalogue entry is kept
#: even when its ``ts`` lies before the calendar's first covered year.
TIMELESS = frozenset({ev.ItemPublished, ev.StaffAuthorised})


def covered_posix(calendar: WorkingCalendar) -> tuple[float, float]:
    """POSIX bounds ``[first day 00:00, day after the last 00:00)`` of the calendar's coverage."""
    tz = calendar.tz
    try:
        first = datetime.combine(calendar.first, time(0), tzinfo=tz).timestamp()
    except (OverflowError, ValueError):
        first = -math.inf
    try:
        end = datetime.combine(calendar.last + timedelta(days=1), time(0), tzinfo=tz).timestamp()
    except (OverflowError, ValueError):
        end = math.inf
    return first, end


def uncovered(calendar: WorkingCalendar, t: datetime) -> str | None:
    """The calendar's message for an instant it cannot place, or None when it can (a fallback)."""
    try:
        calendar.to_index(t)
    except CalendarRangeError as exc:
        return str(exc)
    return None
