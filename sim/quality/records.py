"""Truth about impairments: which record was impaired, how, and by how much.

Kept apart from the violation truth (:mod:`sim.common.truth`) because it answers another
question: not "what went wrong in the hall" but "what went wrong on the way to the engine".
The evaluator reads both to tell a false alarm or a miss caused by the data from one caused
by misconduct or by the rule itself. A run writes these records to ``impairments.jsonl``
only when its scenario has a ``data_quality:`` section, so other runs' files are unchanged.

One record per (event, impairment): an event delayed by its sync window and then by an
outage has two. Times: ``ts`` is the true instant of the happening; ``stated`` the ``ts`` the
delivered record carries; ``arrival`` when it reached the engine (``None``: never).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Literal

import msgspec

from engine.contract.jsonl import read_records, write_records

__all__ = ["IMPAIRMENT_KINDS", "Impairment", "ImpairmentKind", "read_impairments", "write_impairments"]

ImpairmentKind = Literal[
    "missing",  # never sent
    "clock_skew",  # ts shifted by the source system's clock (skew + drift); amount = shift
    "backfill",  # typed in by hand later; amount = delay between the happening and its entry
    "sync_delay",  # held on the exchange server until the next sync; amount = wait
    "outage",  # held through an exchange-server outage, then sent in its burst; amount = wait
    "duplicate",  # a second copy delivered; amount = copy's arrival - original's arrival
    "beyond_horizon",  # would have arrived after the end of the run: not in the stream
    "old_catalogue",  # the item named by the previous catalogue version's code; amount 0
    "status_mapping",  # a status code (decision, outcome) mapped to the opposite; amount 0
]
IMPAIRMENT_KINDS: tuple[str, ...] = ImpairmentKind.__args__  # type: ignore[attr-defined]


class Impairment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One impairment of one approval event (see the module docstring for the times)."""

    event_id: str
    impairment: ImpairmentKind
    system: str
    event_kind: str
    hall_id: str
    department_id: str
    case_id: str
    ts: datetime
    stated: datetime | None
    arrival: datetime | None
    #: By how much, in seconds (the shift, delay or wait; 0 for ``missing``).
    amount_s: float
    #: ``duplicate`` only: the copy's event id (the original's, or a new one).
    copy_id: str | None = None


def write_impairments(records: Iterable[Impairment], path: str | Path) -> int:
    """Impairment records as JSON Lines; returns the count."""
    return write_records(records, path)


def read_impairments(path: str | Path) -> Iterator[Impairment]:
    """Impairment records from a JSON Lines file; errors name the file and line."""
    return read_records(path, Impairment)
