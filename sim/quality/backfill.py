"""Late hand backfill (补录): a record typed in days after the happening.

Why it matters: a backfilled record arrives far behind the stream, and, when the export
stamps it with its entry time, it looks like backdating (the time written on the record
lies before the time the system took it) while being honest.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from engine.contract.events import Event

__all__ = ["STATED_AT_KINDS", "stamp_entry"]

#: Event kinds whose record carries a time typed by staff (``stated_at``).
STATED_AT_KINDS = frozenset({"case.accepted", "step.completed", "case.decided"})


def stamp_entry(event: Event, entry_stamp: datetime) -> Event:
    """``event`` as exported with its entry stamp in ``ts`` and its true time in ``stated_at``.

    A ``stated_at`` the record already has (a staff member's own statement) is kept; kinds
    without the field lose the true time, as they do in such exports.
    """
    kind = type(event).__struct_config__.tag
    if kind in STATED_AT_KINDS and getattr(event, "stated_at", None) is None:
        return msgspec.structs.replace(event, ts=entry_stamp, stated_at=event.ts)
    return msgspec.structs.replace(event, ts=entry_stamp)
