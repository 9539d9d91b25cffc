"""What every event shares: the ``Event`` base Struct and the constrained field types.

A module of its own so that the event families (:mod:`engine.contract.events`,
:mod:`engine.contract.events_tendering`, :mod:`engine.contract.events_floor`) can each import it without
importing one another; :mod:`engine.contract.events` gathers them into one tagged union and owns
decoding. Import events from :mod:`engine.contract.events`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

__all__ = ["CaseType", "Channel", "Confidence", "Event", "Id", "Yuan"]

Id = Annotated[str, Meta(min_length=1, max_length=128)]
Yuan = Annotated[float, Meta(ge=0)]
Confidence = Annotated[float, Meta(ge=0, le=1)]
Channel = Literal["window", "online"]
CaseType = Literal["instant", "promised"]


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
    ts: datetime
