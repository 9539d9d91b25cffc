"""The cluster check's per-process table: predicted against measured events, rates and CPU per event.

Why per process: the sizing predicts a load per ingest process, worker and NATS server; the
check counts what each process of the local cluster carried (workers exactly, by the
cluster's own deal of halls to partitions) and reads its CPU from ``/proc``, less what it
burns idle, so the CPU per event can be carried to the full-scale plan (:func:`extrapolate`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import msgspec

from engine.service.cluster.layout import partition_of_key
from supsim.experiments.deployment.sizing import Sizing

__all__ = ["ClusterProcess", "compare_processes", "cpu_seconds", "extrapolate"]


class ClusterProcess(msgspec.Struct, frozen=True, kw_only=True):
    """One process of the local cluster: what it should carry, what it carried, its CPU."""

    role: str
    index: int
    halls: int
    #: distinct events (the stream keeps one copy of an event id): exact for workers (the deal),
    #: an even share for ingest processes, every event for NATS servers
    predicted_events: float
    measured_events: int | None
    #: the plan's predicted peak for this process's halls (or share), times the compression
    predicted_events_per_s: float
    #: measured events over the replay's wall-clock seconds
    measured_events_per_s: float | None
    #: CPU seconds from just before the replay until the workers had consumed everything
    cpu_s: float | None
    #: CPU per second of the same process idle (polling, status reports), measured before the replay
    idle_cpu_per_s: float | None = None
    #: ``cpu_s`` less the idle rate over the same wall-clock time: what the events cost
    busy_cpu_s: float | None = None
    #: ``busy_cpu_s`` per event carried
    cpu_us_per_event: float | None = None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` from ``/proc/PID/stat``; None where there is no such file."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rate(events: float | None, seconds: float) -> float | None:
    return None if events is None or seconds <= 0 else events / seconds


def _per_event(cpu: float | None, events: float | None) -> float | None:
    return None if cpu is None or not events else 1e6 * cpu / events


def compare_processes(
    hall_events: Mapping[str, int],
    predicted_peak: Mapping[str, float],
    *,
    nats: int,
    ingest: int,
    workers: int,
    partitions: int,
    compression: float,
    load_s: float,
    measured_ingest: Mapping[int, int | None],
    measured_workers: Mapping[int, int | None],
    cpu: Mapping[tuple[str, int], float | None],
    idle_cpu_per_s: Mapping[tuple[str, int], float | None] | None = None,
    run_s: float = 0.0,
) -> list[ClusterProcess]:
    """The table: per process predicted and measured events, rates at the compression, CPU per event.

    Workers' predicted events are their halls' (``crc32(hall) mod partitions``, partition
    ``mod workers``); ingest processes' an even share; every NATS server stores every event (R3).
    A process with no measurement (gone, restarted) shows None, not a guess. ``cpu`` covers
    ``run_s`` wall-clock seconds; less ``idle_cpu_per_s`` over them, it is what the events cost.
    """
    idle = idle_cpu_per_s or {}

    def busy(key: tuple[str, int]) -> tuple[float | None, float | None, float | None]:
        c, i = cpu.get(key), idle.get(key)
        return c, i, None if c is None or i is None else max(0.0, c - i * run_s)

    total = sum(hall_events.values())
    peak = sum(predicted_peak.values())
    owned: dict[int, list[str]] = {w: [] for w in range(workers)}
    for hall in hall_events:
        owned[partition_of_key(hall, partitions) % workers].append(hall)
    rows = []
    for i in range(nats):
        c, idle_rate, b = busy(("nats", i))
        rows.append(
            ClusterProcess(
                role="nats", index=i, halls=len(hall_events), predicted_events=total, measured_events=None,
                predicted_events_per_s=peak * compression, measured_events_per_s=None, cpu_s=c,
                idle_cpu_per_s=idle_rate, busy_cpu_s=b, cpu_us_per_event=_per_event(b, total),
            )
        )  # fmt: skip
    for i in range(ingest):
        got, (c, idle_rate, b) = measured_ingest.get(i), busy(("ingest", i))
        rows.append(
            ClusterProcess(
                role="ingest", index=i, halls=len(hall_events), predicted_events=total / ingest,
                measured_events=got, predicted_events_per_s=peak * compression / ingest,
                measured_events_per_s=_rate(got, load_s), cpu_s=c, idle_cpu_per_s=idle_rate, busy_cpu_s=b,
                cpu_us_per_event=_per_event(b, got),
            )
        )  # fmt: skip
    for w, mine in owned.items():
        got, (c, idle_rate, b) = measured_workers.get(w), busy(("worker", w))
        rows.append(
            ClusterProcess(
                role="worker", index=w, halls=len(mine), predicted_events=sum(hall_events[h] for h in mine),
                measured_events=got,
                predicted_events_per_s=sum(predicted_peak.get(h, 0.0) for h in mine) * compression,
                measured_events_per_s=_rate(got, load_s), cpu_s=c, idle_cpu_per_s=idle_rate, busy_cpu_s=b,
                cpu_us_per_event=_per_event(b, got),
            )
        )  # fmt: skip
    return rows


def extrapolate(rows: Sequence[ClusterProcess], sizing: Sizing) -> dict[str, dict[str, float]]:
    """Per role: the plan's full-scale load per process × the CPU per event measured here → core share.

    Assumes a process's CPU per event does not change with its rate, and cores like these; a
    role with a process whose idle rate or CPU could not be read is left out rather than guessed.
    """
    full = {
        "ingest": sizing.ingest.load_per_process_events_per_s,
        "worker": sizing.workers.load_per_process_events_per_s,
        "nats": sizing.nats.load_per_process_events_per_s,
    }
    out: dict[str, dict[str, float]] = {}
    for role, rate in full.items():
        mine = [r for r in rows if r.role == role]
        events = sum(r.predicted_events if role == "nats" else (r.measured_events or 0) for r in mine)
        cpu = sum(r.busy_cpu_s or 0.0 for r in mine)
        if not cpu or not events or any(r.busy_cpu_s is None for r in mine):
            continue
        us = 1e6 * cpu / events
        out[role] = {"full_scale_events_per_s": rate, "cpu_us_per_event": us, "core_share": rate * us / 1e6}
    return out
