"""``impair``: the world's perfect approval stream in, the stream the engine receives out.

Why after the world: impairments change what the platform *receives*, never what happened,
so the world's events and violation truth stay exactly as the clean run has them, and the
same scenario with and without ``data_quality:`` differs only in delivery. The delivered
stream is in *arrival* order (what an exchange server's log shows); each record keeps its
own (possibly shifted) ``ts``.

Per approval event of a department named in a source system, in this order:

1. ``missing``: dropped with the kind's probability (nothing else applies).
2. ``backfill``: with ``rate``, typed in ``delay_hours`` later; the entry, not the happening,
   then travels to the engine. Its ``ts`` is the typed time (``stamp: stated``, no clock
   involved) or the entry as the system's clock stamps it (``stamp: entry``).
3. ``clock_skew``: otherwise the system's clock stamps ``ts`` (skew + drift).
4. ``sync_delay`` then ``outage``: held until the next sync instant, and through an outage.
5. ``beyond_horizon``: an arrival after the end of the run is not in the stream.
6. ``duplicate``: with ``rate``, a copy written ``delay_minutes`` after the original arrived
   travels the same way (steps 4-5); kept only if it arrives within the run.

Before steps 2-6, after step 1, the content (:mod:`sim.quality.content`): ``old_catalogue`` (a
case's item named by the previous catalogue's code, decided per case at its first record) and
``status_mapping`` (a decision or closing code mapped to the opposite); the record then goes on
as above, and a copy repeats the content of the record it copies.

Randomness: one generator from the scenario's seed under its own spawn key
(:data:`QUALITY_STREAM`, away from the world's children), one child per source system in
the order listed, and per system one child per family, each drawing a fixed number of
values per eligible event, so changing one rate does not reshuffle another family's draws.
Events of departments not named, reference data and heartbeats arrive untouched, at ``ts``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec
import numpy as np

from engine.contract.events import Event
from sim.common.sections.quality import APPROVAL_KINDS, DataQuality, SourceSystem
from sim.quality.backfill import stamp_entry
from sim.quality.clock import clock_shift_s
from sim.quality.content import ITEM_KINDS, STATUS_KINDS, with_old_item, with_wrong_status
from sim.quality.copies import copy_of
from sim.quality.delivery import Delivery, draw_outages
from sim.quality.records import IMPAIRMENT_KINDS, Impairment, ImpairmentKind

__all__ = ["QUALITY_STREAM", "Delivered", "impair", "quality_rng"]

#: Spawn key of the layer's generator under the scenario seed: far from the world's children
#: (0-5), so adding the section changes none of the world's draws.
QUALITY_STREAM = 1000

_APPROVAL = frozenset(APPROVAL_KINDS)


def quality_rng(seed: int) -> np.random.Generator:
    """The layer's own generator for a scenario seed."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(QUALITY_STREAM,)))


@dataclass(frozen=True, slots=True)
class Delivered:
    """The stream as received (arrival order), each event's arrival, and the impairment truth."""

    events: list[Event]
    arrivals: list[datetime]
    impairments: list[Impairment]
    stats: dict[str, int] = field(default_factory=dict)


class _System:
    """One source system's delivery path and its pre-drawn values, one per eligible event."""

    def __init__(self, spec: SourceSystem, rng: np.random.Generator, start: datetime, end: datetime) -> None:
        r_out, r_miss, r_back, r_dup = rng.spawn(4)
        self.spec = spec
        self.delivery = Delivery(spec.sync, draw_outages(spec.outages, start, end, r_out), start)
        self._rngs = (r_miss, r_back, r_dup)
        # spawned after the first four, so a system without content errors draws as before
        self._content = rng.spawn(2)
        #: case id -> whether this system names its item by the old catalogue's code
        self.old_case: dict[str, bool] = {}

    def draw(self, n: int) -> None:
        r_miss, r_back, r_dup = self._rngs
        self.u_miss = r_miss.random(n).tolist()
        back = self.spec.backfill
        self.u_back = r_back.random(n).tolist()
        median, sigma = (1.0, 0.0) if back is None else (back.delay_hours.median, back.delay_hours.sigma)
        self.back_h = r_back.lognormal(math.log(median), sigma, n).tolist()
        dup = self.spec.duplicates
        self.u_dup = r_dup.random(n).tolist()
        self.u_new = r_dup.random(n).tolist()
        lo, hi = (0.0, 0.0) if dup is None else (dup.delay_minutes.min, dup.delay_minutes.max)
        self.dup_min = r_dup.uniform(lo, hi, n).tolist()
        r_cat, r_map = self._content
        self.u_cat = r_cat.random(n).tolist() if self.spec.old_catalogue is not None else []
        self.u_map = r_map.random(n).tolist() if self.spec.status_mapping is not None else []

    def content(self, e: Event, tag: str, k: int) -> tuple[Event, list[tuple[str, float]]]:
        """``e`` as this system's exchange words it, and the content errors made (see
        :mod:`sim.quality.content`). A case's catalogue version is decided at its first record
        this system sends, and holds for all of them."""
        notes: list[tuple[str, float]] = []
        old = self.spec.old_catalogue
        if old is not None:
            case: str = getattr(e, "case_id")  # noqa: B009 - every approval event has one
            if case not in self.old_case:
                self.old_case[case] = self.u_cat[k] < old.rate
            if self.old_case[case] and tag in ITEM_KINDS:
                e = with_old_item(e, old.suffix)
                notes.append(("old_catalogue", 0.0))
        mapping = self.spec.status_mapping
        if mapping is not None and tag in STATUS_KINDS and self.u_map[k] < mapping.rate:
            wrong = with_wrong_status(e)
            if wrong is not None:
                e = wrong
                notes.append(("status_mapping", 0.0))
        return e, notes


def impair(
    section: DataQuality, events: Sequence[Event], *, seed: int, start: datetime, end: datetime
) -> Delivered:
    """Deliver ``events`` (time-ordered, as the world made them) through ``section``'s systems."""
    children = quality_rng(seed).spawn(len(section.systems))
    systems = [_System(s, r, start, end) for s, r in zip(section.systems, children, strict=True)]
    by_dept: dict[tuple[str | None, str], _System] = {}
    for system in systems:
        for dept in system.spec.departments:
            by_dept[(system.spec.hall, dept)] = system
    owner: list[_System | None] = []
    count: Counter[int] = Counter()
    for e in events:
        mine: _System | None = None
        if type(e).__struct_config__.tag in _APPROVAL:
            case: Any = e
            hall: str = case.hall_id
            dept = case.department_id.removeprefix(f"{hall}-")  # the world's ids: <hall>-<dept>
            mine = by_dept.get((hall, dept)) or by_dept.get((None, dept))
        owner.append(mine)
        if mine is not None:
            count[id(mine)] += 1
    for system in systems:
        system.draw(count[id(system)])

    run = _Run(start, end)
    position: Counter[int] = Counter()
    for e, own in zip(events, owner, strict=True):
        if own is None:
            run.out.append((e.ts, e.ts, e.event_id, 0, e))
            continue
        k = position[id(own)]
        position[id(own)] += 1
        run.one(e, own, k)
    run.out.sort(key=lambda row: row[:4])
    impairments = sorted(run.records, key=lambda r: (r.ts, r.event_id, IMPAIRMENT_KINDS.index(r.impairment)))
    stats = {f"impaired.{kind}": n for kind, n in sorted(Counter(r.impairment for r in impairments).items())}
    stats.update(
        events_in=len(events), events_out=len(run.out), impaired_events=len({r.event_id for r in impairments})
    )
    return Delivered(
        events=[row[4] for row in run.out],
        arrivals=[row[0] for row in run.out],
        impairments=impairments,
        stats=dict(sorted(stats.items())),
    )


class _Run:
    """The delivered rows ``(arrival, ts, event_id, copy, event)`` and the records, as they are made."""

    def __init__(self, start: datetime, end: datetime) -> None:
        self.start, self.end = start, end
        self.out: list[tuple[datetime, datetime, str, int, Event]] = []
        self.records: list[Impairment] = []

    def one(self, e: Event, system: _System, k: int) -> None:
        spec = system.spec
        tag: str = type(e).__struct_config__.tag  # type: ignore[assignment]
        if system.u_miss[k] < spec.missing.get(tag, 0.0):  # type: ignore[call-overload]
            self._record(e, system, "missing", stated=None, arrival=None, amount=0.0)
            return
        worded, notes = system.content(e, tag, k)
        delivered, written = worded, e.ts
        back = spec.backfill
        if back is not None and system.u_back[k] < back.rate:
            written = e.ts + timedelta(seconds=round(system.back_h[k] * 3600))
            if back.stamp == "entry":
                shift = round(clock_shift_s(spec.clock, written, self.start))
                delivered = stamp_entry(worded, written + timedelta(seconds=shift))
            notes.append(("backfill", (written - e.ts).total_seconds()))
        elif (shift := round(clock_shift_s(spec.clock, e.ts, self.start))) != 0:
            delivered = _with_ts(worded, e.ts + timedelta(seconds=shift))
            notes.append(("clock_skew", float(shift)))
        arrival = self._travel(system, written, notes)
        if arrival is None:
            self._flush(e, system, delivered, None, notes)
            return
        self.out.append((arrival, delivered.ts, delivered.event_id, 0, delivered))
        self._flush(e, system, delivered, arrival, notes)
        dup = spec.duplicates
        if dup is not None and system.u_dup[k] < dup.rate:
            copy = copy_of(delivered, new_id=system.u_new[k] < dup.new_id_share)
            again = self._travel(system, arrival + timedelta(seconds=round(system.dup_min[k] * 60)), [])
            if again is not None:
                self.out.append((again, copy.ts, copy.event_id, 1, copy))
                self._record(
                    e,
                    system,
                    "duplicate",
                    stated=copy.ts,
                    arrival=again,
                    amount=(again - arrival).total_seconds(),
                    copy_id=copy.event_id,
                )

    def _travel(self, system: _System, written: datetime, notes: list[tuple[str, float]]) -> datetime | None:
        """Arrival of a record written at ``written`` (None: after the run); notes the waits."""
        synced = system.delivery.after_sync(written)
        if synced > written:
            notes.append(("sync_delay", (synced - written).total_seconds()))
        arrival = system.delivery.after_outage(synced)
        if arrival > synced:
            notes.append(("outage", (arrival - synced).total_seconds()))
        if arrival > self.end:
            notes.append(("beyond_horizon", (arrival - self.end).total_seconds()))
            return None
        return arrival

    def _flush(
        self,
        e: Event,
        system: _System,
        delivered: Event,
        arrival: datetime | None,
        notes: list[tuple[str, float]],
    ) -> None:
        for kind, amount in notes:
            self._record(e, system, kind, stated=delivered.ts, arrival=arrival, amount=amount)  # type: ignore[arg-type]

    def _record(
        self,
        e: Event,
        system: _System,
        kind: ImpairmentKind,
        *,
        stated: datetime | None,
        arrival: datetime | None,
        amount: float,
        copy_id: str | None = None,
    ) -> None:
        x: Any = e
        self.records.append(
            Impairment(
                event_id=e.event_id,
                impairment=kind,
                system=system.spec.name,
                event_kind=type(e).__struct_config__.tag,  # type: ignore[arg-type]
                hall_id=x.hall_id,
                department_id=x.department_id,
                case_id=x.case_id,
                ts=e.ts,
                stated=stated,
                arrival=arrival,
                amount_s=float(amount),
                copy_id=copy_id,
            )
        )


def _with_ts(e: Event, ts: datetime) -> Event:
    return msgspec.structs.replace(e, ts=ts)
