"""How many processes of each kind carry a peak load: the arithmetic of deployment sizing.

Kept apart from the load estimate and the command so that it can be checked by hand:

* a process of a kind is assumed to carry what one node carried in the capacity search
  (one process per node, as measured), less the headroom: ``usable = figure × (1 − headroom)``;
* **ingest processes** are stateless and share the load (the kernel spreads connections):
  ``ceil(peak / usable)``;
* **engine workers** own whole halls (a hall's engine is one sequence), dealt by hash: hall
  → partition ``crc32(hall) mod P``, partition ``p`` → worker ``p mod W``, so shares are
  uneven. Starting from ``ceil(peak / usable)``, workers are added until the busiest
  worker's halls fit in ``usable`` (with ``P`` = 4 per worker of the N+1 count, at least 8);
  a warning when the busiest single hall alone exceeds ``usable`` (no number of workers
  helps then);
* **NATS servers** come in replicated groups of three (the streams are R3); a group carries
  what one R3 stream acknowledged: ``3 × ceil(peak / usable_nats)``;
* **one node lost (N+1)**: one more ingest process and one more worker, so that the
  survivors still carry the peak with the headroom; NATS needs none: an R3 group keeps its
  quorum (2 of 3) and every message with one server lost, and each server already stores
  every message of its group. (The cluster deals partitions statically today: a dead
  worker's halls wait for its restart; the spare worker pays off once partitions move.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec

from engine.service.cluster.layout import partition_of_key
from supsim.experiments.deployment.capacity import Capacity

__all__ = [
    "PARTITIONS_PER_WORKER",
    "REPLICAS",
    "Role",
    "Sizing",
    "partitions_for",
    "processes",
    "size_deployment",
    "worker_loads",
]

#: Servers per replicated group: the cluster's streams are R3.
REPLICAS = 3
#: Partitions per worker recommended for ``--partitions``.
PARTITIONS_PER_WORKER = 4


class Role(msgspec.Struct, frozen=True, kw_only=True):
    """One kind of process: how many, with one node lost, and the rate each may carry."""

    role: str
    usable_events_per_s: float
    #: at the peak: an even share (ingest, NATS group), the busiest worker's halls (workers)
    load_per_process_events_per_s: float
    count: int
    count_one_node_lost: int


class Sizing(msgspec.Struct, frozen=True, kw_only=True):
    peak_events_per_s: float
    busiest_hall_events_per_s: float
    headroom: float
    node_events_per_s: float
    nats_events_per_s: float
    nats_measured: bool
    ingest: Role
    workers: Role
    nats: Role
    nats_groups: int
    partitions: int
    warnings: tuple[str, ...]


def processes(load: float, usable: float) -> int:
    """``ceil(load / usable)``, at least 1; a quotient within 1e-9 of an integer is that integer."""
    if usable <= 0:
        raise ValueError(f"usable rate must be positive, got {usable}")
    return max(1, math.ceil(load / usable - 1e-9))


def partitions_for(workers: int) -> int:
    """The cluster partitions recommended for ``workers`` workers (at least the default 8)."""
    return max(8, PARTITIONS_PER_WORKER * workers)


def worker_loads(hall_peaks: Sequence[tuple[str, float]], workers: int, partitions: int) -> list[float]:
    """Peak load of each worker when halls are dealt as the cluster deals them.

    Hall → partition ``crc32(hall) mod partitions``, partition ``p`` → worker ``p mod workers``
    (``engine.service.cluster.layout``).
    """
    loads = [0.0] * workers
    for hall, peak in hall_peaks:
        loads[partition_of_key(hall, partitions) % workers] += peak
    return loads


def _dealt_workers(hall_peaks: Sequence[tuple[str, float]], usable: float, start: int) -> tuple[int, float]:
    """The fewest workers from ``start`` whose busiest one carries at most ``usable``, and that load.

    Stops when adding workers cannot help: one worker per hall, or the busiest worker
    carries only the busiest hall.
    """
    busiest_hall = max((p for _, p in hall_peaks), default=0.0)
    workers = start
    while True:
        busiest = max(worker_loads(hall_peaks, workers, partitions_for(workers + 1)))
        if busiest <= usable or busiest <= busiest_hall or workers >= len(hall_peaks):
            return workers, busiest
        workers += 1


def size_deployment(
    *,
    hall_peaks: Sequence[tuple[str, float]],
    capacity: Capacity,
    headroom: float,
    busiest_hall_events_per_s: float | None = None,
) -> Sizing:
    """Processes of each kind for the halls' peaks (see the module docstring for the rules).

    ``hall_peaks``: (hall id, peak events/s) of every hall; ``busiest_hall_events_per_s``
    overrides the largest of them (the largest *measured* hall, when the peaks are means).
    """
    if not 0 <= headroom < 1:
        raise ValueError(f"headroom must be in [0, 1), got {headroom}")
    peak = sum(p for _, p in hall_peaks)
    busiest_hall = (
        busiest_hall_events_per_s
        if busiest_hall_events_per_s is not None
        else max((p for _, p in hall_peaks), default=0.0)
    )
    node = capacity.node.events_per_s
    nats = capacity.nats.events_per_s if capacity.nats is not None else node
    usable, usable_nats = node * (1 - headroom), nats * (1 - headroom)
    n = processes(peak, usable)
    workers, busiest_worker = _dealt_workers(hall_peaks, usable, n)
    groups = processes(peak, usable_nats)
    warnings: list[str] = []
    if busiest_hall > usable:
        warnings.append(
            f"the busiest hall alone peaks at {busiest_hall:,.1f} events/s, above what one "
            f"worker may carry ({usable:,.1f}): a hall's engine cannot be split over workers"
        )
    if groups > 1:
        warnings.append(
            f"{groups} replicated groups: the cluster creates one EVENTS stream today; more than one "
            "group needs the stream split by partition"
        )
    if capacity.nats is None:
        warnings.append(
            "no NATS figure in the capacity file: one R3 group is assumed to carry what one node "
            "carried (the cluster bench's cluster_ingest_events_per_s would measure it)"
        )
    return Sizing(
        peak_events_per_s=peak,
        busiest_hall_events_per_s=busiest_hall,
        headroom=headroom,
        node_events_per_s=node,
        nats_events_per_s=nats,
        nats_measured=capacity.nats is not None,
        ingest=Role(
            role="ingest", usable_events_per_s=usable, load_per_process_events_per_s=peak / n,
            count=n, count_one_node_lost=n + 1,
        ),
        workers=Role(
            role="worker", usable_events_per_s=usable, load_per_process_events_per_s=busiest_worker,
            count=workers, count_one_node_lost=workers + 1,
        ),
        nats=Role(
            role="nats", usable_events_per_s=usable_nats, load_per_process_events_per_s=peak / groups,
            count=REPLICAS * groups, count_one_node_lost=REPLICAS * groups,
        ),
        nats_groups=groups,
        partitions=partitions_for(workers + 1),
        warnings=tuple(warnings),
    )  # fmt: skip
