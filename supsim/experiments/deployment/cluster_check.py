"""The sizing's self-check through a local cluster: the scaled network's peak replayed, per process.

Why a second check beside :mod:`~supsim.experiments.deployment.check`: that one times the
engine in this process and deals halls on paper; this one sends the same kind of scaled
network through real ingest processes, NATS servers (R3) and workers, so a process's
events are counted by the process itself and its CPU read from ``/proc``. The deal is the
cluster's own (``crc32(hall) mod partitions``, partition ``p`` to worker ``p mod workers``),
so the events each worker must consume are known exactly before the replay and compared
with what the workers report in the ``STATUS`` bucket; the ingest processes share the
connections as the kernel spreads them, so their even share is only an expectation.

What is replayed: the halls of :func:`~supsim.experiments.deployment.check.scaled_network`
simulated over the network's first day; each hall's reference data (catalogue, staff,
stamped at the start of the horizon) first, as a hall joining would send it, then every
event of ``minutes`` minutes of event time from the busiest minute of all the halls
together, sent at ``compression`` times event time. The loss and alert checks are the
chaos run's (:func:`engine.service.cluster.chaos.run_chaos`, without kills). The replay is built
in :mod:`~supsim.experiments.deployment.cluster_replay`, the per-process table in
:mod:`~supsim.experiments.deployment.cluster_processes`; this module runs the check and renders it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from engine.contract import events as ev
from sim.network.layout import HallSpec
from sim.network.scenario_types import NetworkScenario
from supsim.experiments.deployment.cluster_processes import (
    ClusterProcess,
    compare_processes,
    cpu_seconds,
    extrapolate,
)
from supsim.experiments.deployment.cluster_replay import build_replay
from supsim.experiments.deployment.load import REFERENCE, WINDOW_S, NetworkLoad
from supsim.experiments.deployment.sizing import Sizing
from supsim.experiments.deployment.table import table

__all__ = [
    "ClusterCheckOptions",
    "ClusterCheckResult",
    "cluster_shape",
    "render_cluster_check",
    "run_cluster_check",
]


class ClusterCheckOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How to run the check through a cluster (``supsim plan deployment --check-cluster``)."""

    fraction: float
    minutes: int
    compression: float
    #: the cluster's directory: started there and stopped after, unless ``started_here`` is False
    directory: Path
    started_here: bool


class ClusterCheckResult(msgspec.Struct, frozen=True, kw_only=True):
    fraction: float
    halls: int
    minutes: int
    compression: float
    window_start: float
    events: int
    #: events with distinct ids per hall: what the stream stores and the workers consume
    distinct_events: int
    reference_events: int
    nats: int
    ingest: int
    workers: int
    partitions: int
    #: the plan's own counts, when the local cluster has fewer (what these cores can hold)
    plan_ingest: int
    plan_workers: int
    started_here: bool
    load_s: float
    settle_s: float
    acknowledged: int
    #: batches sent again after a refusal or a missing acknowledgement (their stored part is a duplicate)
    resends: int
    consumed: int
    lost: int
    stored_duplicates: int
    alerts_live: int
    alerts_reference: int
    alerts_missing: int
    alerts_extra: int
    alerts_differing: int
    processes: tuple[ClusterProcess, ...]
    #: per role: the plan's full-scale load per process (events/s), the measured CPU µs per
    #: event, and their product as a share of one core
    extrapolation: dict[str, dict[str, float]]

    @property
    def ok(self) -> bool:
        """Nothing lost, every acknowledged event consumed once, the alerts the in-process engines'."""
        return (
            self.acknowledged == self.events
            and self.consumed == self.distinct_events
            and not (self.lost or self.stored_duplicates)
            and not (self.alerts_missing or self.alerts_extra or self.alerts_differing)
            and all(p.measured_events == p.predicted_events for p in self.processes if p.role == "worker")
        )


def cluster_shape(sizing: Sizing, cores: int) -> tuple[int, int]:
    """(ingest, workers): the plan's counts, each capped at ``cores`` (three NATS servers run beside them)."""
    cap = max(1, cores)
    return min(sizing.ingest.count, cap), min(sizing.workers.count, cap)


Counts = tuple[dict[int, int], dict[int, int], dict[tuple[str, int], float | None]]


async def _stats(client: Any, url: str, timeout: float = 30.0) -> dict[str, Any]:
    """``GET url``, asked again while the process answers 503 (it could not reach NATS yet), bounded."""
    deadline = time.monotonic() + timeout
    while True:
        r = await client.get(url)
        if r.status_code != 503 or time.monotonic() > deadline:
            r.raise_for_status()
            return dict(r.json())
        await asyncio.sleep(0.2)


async def _snapshot(directory: Path) -> Counts:
    """Events accepted per ingest process, consumed per worker (STATUS), CPU per process, right now."""
    import httpx

    from engine.service.auth import load_tokens
    from engine.service.cluster.layout import load_config, load_state

    config = load_config(directory)
    token = next(s.token for s in load_tokens(config.tokens) if s.role == "admin")
    headers = {"Authorization": f"Bearer {token}"}
    ingest: dict[int, int] = {}
    workers: dict[int, int] = {}
    async with httpx.AsyncClient(timeout=10, headers=headers) as client:
        for i, port in enumerate(config.ingest_ports):
            stats = await _stats(client, f"http://{config.host}:{port}/v1/stats")
            ingest[i] = int(stats["ingest"]["accepted"]) + int(stats["ingest"]["duplicates"])
            if i == 0:
                for name, status in stats.get("workers", {}).items():
                    index = int(name.rpartition(".")[2])
                    workers[index] = sum(int(p["events"]) for p in status["partitions"].values())
    cpu = {(p.role, p.index): cpu_seconds(p.pid) for p in load_state(directory).processes}
    return ingest, workers, cpu


def _delta(after: Mapping[Any, Any], before: Mapping[Any, Any]) -> dict[Any, Any]:
    return {k: None if v is None or before.get(k) is None else v - before[k] for k, v in after.items()}


def run_cluster_check(
    net: NetworkScenario,
    halls: Sequence[HallSpec],
    load: NetworkLoad,
    sizing: Sizing,
    *,
    fraction: float,
    minutes: int,
    compression: float,
    rulebook: str,
    directory: Path,
    started_here: bool,
    workers: int = 1,
    cores: int | None = None,
    batch: int = 50,
    idle_s: float = 5.0,
) -> ClusterCheckResult:
    """Replay the scaled network's peak through the cluster in ``directory`` (started here unless not).

    With ``started_here`` ``directory`` is emptied, a cluster started in it with three NATS
    servers and the plan's counts capped by :func:`cluster_shape`, and stopped afterwards (its
    logs stay); else it must be running (``supsim cluster up``), must not have seen these
    events before (the stream would drop them as resends), and is left running. Each process's
    idle CPU rate is measured over ``idle_s`` before the replay, to tell the events' cost from
    the polling every process does anyway.
    """
    from engine.rules.rulebook import load_rulebook
    from engine.service.cluster.chaos import run_chaos
    from engine.service.cluster.layout import load_config
    from engine.service.cluster.supervisor import down, up

    if not compression > 0:
        raise ValueError(f"compression must be positive, got {compression:g}")
    replay = build_replay(net, halls, load, fraction=fraction, minutes=minutes, workers=workers)
    start = replay.window_start

    def due(e: ev.Event) -> float:
        return 0.0 if isinstance(e, REFERENCE) else (e.ts.timestamp() - start) / compression

    if started_here:
        # The check's own cluster starts empty: a stream that held these events from a previous
        # run would drop them as resends and the workers would consume nothing.
        if directory.exists():
            shutil.rmtree(directory)
        n_ingest, n_workers = cluster_shape(sizing, cores or os.cpu_count() or 1)
        up(directory, nats=3, ingest=n_ingest, workers=n_workers, partitions=sizing.partitions,
           rulebook=rulebook, attached=True, timeout=90)  # fmt: skip
    try:
        config = load_config(directory)
        book = load_rulebook(config.rulebook) if config.rulebook else None
        before = asyncio.run(_snapshot(directory))
        t_idle = time.monotonic()
        time.sleep(idle_s)
        rest = asyncio.run(_snapshot(directory))
        t_run = time.monotonic()
        idle_wall = t_run - t_idle
        report = asyncio.run(
            run_chaos(directory, replay.sources, [], duration_s=minutes * WINDOW_S / compression,
                      batch=batch, rulebook=book, settle_timeout=120, due=due,
                      give_up_s=60 + minutes * WINDOW_S / compression)
        )  # fmt: skip
        after = asyncio.run(_snapshot(directory))
        run_s = time.monotonic() - t_run
    finally:
        if started_here and (directory / "cluster.json").exists():
            down(directory)
    measured_ingest, measured_workers, cpu = (
        _delta(after[0], rest[0]),
        _delta(after[1], rest[1]),
        _delta(after[2], rest[2]),
    )
    idle = {k: None if v is None else v / idle_wall for k, v in _delta(rest[2], before[2]).items()}
    hall_events = {hall: len({e.event_id for e in events}) for hall, events in replay.sources.items()}
    rows = compare_processes(
        hall_events, replay.predicted_peak, nats=config.nats, ingest=config.ingest, workers=config.workers,
        partitions=config.partitions, compression=compression, load_s=report.load_s,
        measured_ingest=measured_ingest, measured_workers=measured_workers, cpu=cpu, idle_cpu_per_s=idle,
        run_s=run_s,
    )  # fmt: skip
    consumed = sum(v or 0 for v in measured_workers.values())
    return ClusterCheckResult(
        fraction=fraction, halls=len(replay.sources), minutes=minutes, compression=compression,
        window_start=start, events=report.events_planned, distinct_events=sum(hall_events.values()),
        reference_events=replay.reference_events,
        nats=config.nats, ingest=config.ingest, workers=config.workers, partitions=config.partitions,
        plan_ingest=sizing.ingest.count, plan_workers=sizing.workers.count, started_here=started_here,
        load_s=report.load_s, settle_s=report.settle_s, acknowledged=report.events_acknowledged,
        resends=report.resends,
        consumed=consumed, lost=report.lost_events, stored_duplicates=report.stored_duplicates,
        alerts_live=report.alerts_live, alerts_reference=report.alerts_reference,
        alerts_missing=report.alerts_missing, alerts_extra=report.alerts_extra,
        alerts_differing=report.alerts_differing, processes=tuple(rows),
        extrapolation=extrapolate(rows, sizing),
    )  # fmt: skip


def render_cluster_check(c: ClusterCheckResult) -> list[str]:
    """The terminal report of the check through the cluster."""
    from datetime import UTC, datetime

    at = datetime.fromtimestamp(c.window_start, UTC).strftime("%Y-%m-%d %H:%M UTC")
    where = "started here" if c.started_here else "given by --cluster-dir"
    capped = (
        f" (the plan's {c.plan_ingest} ingest process(es) and {c.plan_workers} worker(s) capped to what "
        "this machine's cores can hold)"
        if c.started_here and (c.ingest, c.workers) != (c.plan_ingest, c.plan_workers)
        else ""
    )
    lines = [
        "",
        f"check through a local cluster ({where}): {c.nats} NATS servers (R3), {c.ingest} ingest "
        f"process(es), {c.workers} worker(s), {c.partitions} partitions{capped}",
        f"  replayed: {c.halls} halls ({c.fraction:g} of each level, first day), their reference data "
        f"({c.reference_events:,} events) then {c.minutes} min of event time from the busiest minute "
        f"({at}), at {c.compression:g}× event time: {c.events:,} events in {c.load_s:.1f} s, settled "
        f"in {c.settle_s:.1f} s",
        f"  checks: acknowledged {c.acknowledged:,} of {c.events:,} ({c.resends} batch(es) resent), consumed "
        f"by the workers {c.consumed:,} of {c.distinct_events:,} distinct event ids, lost {c.lost}, stored "
        f"twice {c.stored_duplicates}; alerts live {c.alerts_live:,} = in-process {c.alerts_reference:,} "
        f"(missing {c.alerts_missing}, extra {c.alerts_extra}, differing {c.alerts_differing}): "
        f"{'ok' if c.ok else 'FAILED'}",
    ]

    def num(x: float | None, fmt: str) -> str:
        return "" if x is None else format(x, fmt)

    rows = [
        [
            f"{p.role} {p.index}", f"{p.halls:,}", num(p.predicted_events, ",.0f"),
            num(p.measured_events, ","), num(p.predicted_events_per_s, ",.1f"),
            num(p.measured_events_per_s, ",.1f"), num(p.cpu_s, ".2f"), num(p.idle_cpu_per_s, ".3f"),
            num(p.busy_cpu_s, ".2f"), num(p.cpu_us_per_event, ",.0f"),
        ]
        for p in c.processes
    ]  # fmt: skip
    headers = ["process", "halls", "predicted events", "measured", "predicted peak ev/s",
               "measured mean ev/s", "CPU s", "idle CPU/s", "CPU s above idle", "µs/event"]  # fmt: skip
    lines += ["  " + row for row in table(headers, rows)]
    lines.append(
        "  predicted events: distinct event ids of a worker's halls (exact, the cluster's deal), an even "
        "share per ingest process (the kernel spreads connections; measured: what it published, resends "
        "included), every event per NATS server; predicted peak: the plan's "
        f"(stratum means) × {c.compression:g}; measured mean: over the replay's wall-clock seconds; CPU "
        "above idle: less the process's idle rate (polling, status reports, measured before the replay)"
    )
    for role, x in c.extrapolation.items():
        lines.append(
            f"  extrapolation, {role}: the plan's {x['full_scale_events_per_s']:,.1f} events/s per process "
            f"at full scale × {x['cpu_us_per_event']:,.0f} µs CPU per event above idle measured here = "
            f"{x['core_share']:.2%} of one of these cores (if CPU per event holds at that rate)"
        )
    return lines
