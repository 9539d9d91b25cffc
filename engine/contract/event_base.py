"""What every event shares: the ``Event`` base Struct and the constrained field types.

A module of its own so that the event families (:mod:`engine.contract.events`,
:mod:`engine.contract.events_tendering`, :mod:`engine.contract.events_floor`) can each import it without
importing one another; :mod:`engine.contract.events` gathers them into one tagged union and owns
decoding. Import events from :mod:`engine.contract.events`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

__all__ = [
    "EARLIEST",
    "INSTANT_PATTERN",
    "LATEST",
    "MAX_COUNT",
    "MAX_DAYS",
    "MAX_OFFSET",
    "MAX_YUAN",
    "CaseType",
    "Channel",
    "Confidence",
    "Count",
    "Event",
    "Id",
    "Instant",
    "Text",
    "Yuan",
    "instant_error",
]

#: The plausible window of every instant in an event, on its local date. Decoding cannot
#: know which years a user's calendar covers, so the window is fixed and wide; an instant
#: inside it that the calendar does not cover is the engine's ``out_of_calendar``.
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
#: Real UTC offsets run from -12:00 to +14:00; ISO 8601 allows up to ±23:59.
MAX_OFFSET = timedelta(hours=14)
#: A trillion yuan: above any single tender or fee, far below where float sums lose cents.
MAX_YUAN = 1e12
#: Working-day limits (promised days, step limits): ten years of 365 days.
MAX_DAYS = 3650
#: Counts (people in a queue, bids opened).
MAX_COUNT = 1_000_000

Id = Annotated[str, Meta(min_length=1, max_length=128)]
Text = Annotated[str, Meta(max_length=1024)]
Yuan = Annotated[float, Meta(ge=0, le=MAX_YUAN)]
Count = Annotated[int, Meta(ge=0, le=MAX_COUNT)]
Confidence = Annotated[float, Meta(ge=0, le=1)]
Channel = Literal["window", "online"]
CaseType = Literal["instant", "promised"]
#: An instant as text: a year 2000-2100 and an offset within ±14:00 (for JSON Schema users).
INSTANT_PATTERN = r"^(20\d\d|2100)-.*(Z|z|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)$"
#: Timezone-aware, checked by msgspec; the window and the offset are checked after decoding
#: (:func:`instant_error`), since ``Meta`` cannot bound datetimes. The pattern says the same
#: to JSON Schema users: a year 2000-2100 and an offset within ±14:00.
Instant = Annotated[
    datetime,
    Meta(
        tz=True,
        description="ISO 8601 with offset; local date 2000-01-01..2100-12-31, offset within ±14:00",
        extra_json_schema={"pattern": INSTANT_PATTERN},
    ),
]


def instant_error(t: datetime) -> str | None:
    """Why ``t`` is not a plausible instant, or None: a year test and an offset test."""
    if not EARLIEST.year <= t.year <= LATEST.year:
        return f"{t.isoformat()} is outside the plausible window {EARLIEST}..{LATEST}"
    off = t.utcoffset()
    if off is None or not -MAX_OFFSET <= off <= MAX_OFFSET:
        return f"{t.isoformat()} has a UTC offset beyond ±14:00"
    return None


class Event(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    tag_field="kind",
    forbid_unknown_fields=True,
    omit_defaults=True,
):
    """Fields every event has.

    ``event_id`` is the idempotency key: a second event with the same id is a duplicate
    and is ignored by the engine and the service. ``ts`` is event time, the instant the
    happening took place according to the source system.
    """

    event_id: Id
    ts: Instant
