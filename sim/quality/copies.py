"""Records lost and records sent twice: what the exchange drops and what it resends.

Why two ways to duplicate: a resend repeats the original ``event_id`` (the engine's
idempotency catches it, if the original is still remembered), a re-export under a fresh
key does not (the engine sees two records of one happening).
"""

from __future__ import annotations

import msgspec

from engine.contract.events import Event

__all__ = ["copy_of", "new_copy_id"]


def new_copy_id(event_id: str) -> str:
    """The id a re-export gives a copy (within the contract's 128 characters)."""
    return f"{event_id[:123]}~dup"


def copy_of(event: Event, *, new_id: bool) -> Event:
    """The duplicate ``event`` as delivered: the same record, under a new id when re-exported."""
    return msgspec.structs.replace(event, event_id=new_copy_id(event.event_id)) if new_id else event
