"""The ``data_quality:`` section of a hall scenario: how departments' records reach the engine.

Why a section of its own: the world records every approval step once, on time, on a true
clock, and real supervision platforms never receive that. Each department's business system
(or a shared vertical system) hands its records to the platform through an exchange server
(前置机), in batches, with its own clock, losing some records, sending others twice, and
with records typed in by hand days later (补录). A *source system* here names a group of
departments sharing those habits; the impairments themselves are applied by
:mod:`sim.quality` after the world has run, and every one of them is written to truth.

Absent section ⇒ no impairment at all: the stream, truth and alerts of a scenario without it
stay byte-identical. Durations are wall-clock (an exchange server does not keep office hours).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from sim.common.scenario_types import LogNormal, Range

__all__ = [
    "APPROVAL_KINDS",
    "Backfill",
    "ClockSpec",
    "DataQuality",
    "Duplicates",
    "OldCatalogue",
    "OutageWindow",
    "Outages",
    "SourceSystem",
    "StatusMapping",
    "SyncSpec",
]

Ident = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
Prob = Annotated[float, Meta(ge=0, le=1)]

#: The approval-event kinds a department's system sends (the tags of ``engine.contract``'s
#: ``ApprovalEvent``); only these are impaired. Reference data (catalogue, authorisations) and
#: the platform's own heartbeats are not.
ApprovalKind = Literal[
    "case.submitted",
    "case.accepted",
    "step.started",
    "step.completed",
    "case.suspended",
    "case.resumed",
    "fee.charged",
    "case.decided",
    "certificate.issued",
    "case.closed",
]
APPROVAL_KINDS: tuple[str, ...] = ApprovalKind.__args__  # type: ignore[attr-defined]

#: A week, in minutes: the longest sync interval and outage a scenario may ask for.
_WEEK_MINUTES = 7 * 24 * 60


class _Spec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of this section's Structs: immutable, keyword-only, unknown keys rejected."""


class SyncSpec(_Spec, frozen=True):
    """Batch delivery: records wait on the exchange server until the next sync instant.

    Sync instants are ``midnight of the first day + offset_minutes + k * every_minutes``; a
    record is delivered at the first one at or after it was written. ``every_minutes: 1440,
    offset_minutes: 120`` is a nightly sync at 02:00.
    """

    every_minutes: Annotated[float, Meta(gt=0, le=_WEEK_MINUTES)]
    offset_minutes: Annotated[float, Meta(ge=0, le=_WEEK_MINUTES)] = 0.0

    def __post_init__(self) -> None:
        if self.offset_minutes >= self.every_minutes:
            raise ValueError(
                f"`offset_minutes` ({self.offset_minutes}) must be below "
                f"`every_minutes` ({self.every_minutes})"
            )


class OutageWindow(_Spec, frozen=True):
    """One outage of the exchange server, given explicitly: nothing arrives from ``start`` for ``hours``."""

    start: Annotated[datetime, Meta(tz=True)]
    hours: Annotated[float, Meta(gt=0, le=_WEEK_MINUTES / 60)]


class Outages(_Spec, frozen=True):
    """Exchange-server outages: silence, then everything held back arrives in one burst at the end.

    ``windows`` are fixed outages; ``per_30_days`` more are drawn (Poisson count, start uniform
    over the run, length uniform in ``hours``) from the scenario's seed.
    """

    windows: list[OutageWindow] = []
    per_30_days: Annotated[float, Meta(ge=0, le=30)] = 0.0
    hours: Range = Range(min=1, max=8)


class ClockSpec(_Spec, frozen=True):
    """The source system's clock: off by ``skew_minutes`` at the start, drifting by ``drift_seconds_per_day``.

    The delivered record's ``ts`` is the true instant plus skew plus drift times the days since
    the start of the run. Times typed by staff (``stated_at``) are not shifted: a person reads
    the wall clock, the server stamps its own.
    """

    skew_minutes: Annotated[float, Meta(ge=-1440, le=1440)] = 0.0
    drift_seconds_per_day: Annotated[float, Meta(ge=-3600, le=3600)] = 0.0


class Duplicates(_Spec, frozen=True):
    """Records sent twice: each record with probability ``rate`` gets a copy.

    The copy is written ``delay_minutes`` (uniform) after the original reached the exchange and
    travels the same way (sync, outages). A share ``new_id_share`` of copies carries a new
    ``event_id`` (a re-export under a fresh key), the rest repeat the original's id (a resend).
    """

    rate: Prob
    new_id_share: Prob = 0.0
    delay_minutes: Range = Range(min=0, max=60)


class Backfill(_Spec, frozen=True):
    """Records typed in by hand later (补录): each with probability ``rate``, ``delay_hours`` late.

    ``stamp`` says what the export puts in ``ts``: ``stated`` (the time the clerk typed, i.e. the
    true time; the record simply arrives late) or ``entry`` (the time of entry; the true time
    goes to ``stated_at`` where the record has one, the honest look-alike of backdating).
    """

    rate: Prob
    delay_hours: LogNormal = LogNormal(median=48, sigma=0.8)
    stamp: Literal["stated", "entry"] = "stated"


class OldCatalogue(_Spec, frozen=True):
    """Item codes of the previous catalogue version (目录版本不一致): a share ``rate`` of the cases
    this system sends name their item by its old code, ``<item><suffix>``, on every record that
    names the item, a code the platform's catalogue does not know.
    """

    rate: Prob
    suffix: Annotated[str, Meta(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_.-]+$")] = "-v2019"


class StatusMapping(_Spec, frozen=True):
    """Status codes mapped wrongly by the exchange (字段映射错误): each decision and closing record
    with probability ``rate`` carries the opposite code (approve and reject, approved and
    rejected, swapped; a withdrawal is left alone).
    """

    rate: Prob


class SourceSystem(_Spec, frozen=True):
    """A business system some departments send their records through, and its habits.

    ``hall`` limits it to one hall (default: those departments in every hall). ``missing``
    maps an approval-event kind to the probability that such a record never arrives.
    """

    name: Ident
    departments: Annotated[list[Ident], Meta(min_length=1)]
    hall: Ident | None = None
    sync: SyncSpec | None = None
    outages: Outages | None = None
    clock: ClockSpec | None = None
    missing: dict[ApprovalKind, Prob] = {}
    duplicates: Duplicates | None = None
    backfill: Backfill | None = None
    old_catalogue: OldCatalogue | None = None
    status_mapping: StatusMapping | None = None


class DataQuality(_Spec, frozen=True):
    """The source systems whose records are impaired; departments not named are delivered perfectly."""

    systems: Annotated[list[SourceSystem], Meta(min_length=1)]
