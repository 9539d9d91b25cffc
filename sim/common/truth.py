"""Ground truth: what really happened in the simulated world.

The engine never reads this module or its files; ``reports`` matches alerts against it.
Each record is one *episode*: a violation (``lookalike=False``) or a look-alike negative
(``lookalike=True``) that resembles the violation kinds listed in ``confuses`` but must not
be flagged as them. ``onset`` is the first instant at which the violation existed (for
an overdue case: the deadline; for a logic violation: the time of the offending record);
``end`` is when it stopped (case closed, episode over) or ``None`` if still open at the end
of the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Literal

import msgspec

from engine.contract.jsonl import read_records, write_records

__all__ = ["LOOKALIKE_KINDS", "VIOLATION_KINDS", "Episode", "read_truth", "write_truth"]

#: Violation kinds of the approval world (later families add theirs).
VIOLATION_KINDS: tuple[str, ...] = (
    "deadline_at_risk",  # still open when less than the warning lead of working time remains
    "overdue",  # promised limit exceeded (working time, legal suspensions excluded)
    "severely_overdue",  # overdue by at least the severe threshold of working days
    "step_overdue",  # one workflow step exceeded its own limit
    "skipped_step",
    "steps_out_of_order",
    "decision_before_acceptance",
    "certificate_without_approval",
    "excess_fee",  # above the standard, or any fee on a free item
    "unauthorised_approval",
    "same_person_accept_approve",
    "backdated",
    "illegal_suspension",
)

LOOKALIKE_KINDS: tuple[str, ...] = (
    "legal_suspension",
    "fee_on_fee_item",
    "closed_just_before_deadline",
    "authorised_reassignment",
    "stated_time_within_tolerance",
)

Params = dict[str, str | int | float | bool | None]


class Episode(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    episode_id: str
    kind: str
    subject: str
    onset: datetime
    end: datetime | None = None
    lookalike: bool = False
    confuses: tuple[str, ...] = ()
    cause: Literal["injected", "natural", "lookalike"] = "injected"
    hall_id: str | None = None
    department_id: str | None = None
    staff_id: str | None = None
    params: Params = msgspec.field(default_factory=dict)


def write_truth(episodes: Iterable[Episode], path: str | Path) -> int:
    """Truth episodes as JSON Lines; returns the count."""
    return write_records(episodes, path)


def read_truth(path: str | Path) -> Iterator[Episode]:
    """Truth episodes from a JSON Lines file; errors name the file and line."""
    return read_records(path, Episode)
