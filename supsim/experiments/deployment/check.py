"""The sizing's self-check: a scaled-down network, every hall simulated, against the prediction.

What it checks: the two steps of the sizing that are estimates — (1) a hall's peak taken
as its stratum's sampled mean, and (2) the load spread evenly over processes — on a small
network built like the big one: each level cut to ``fraction`` of its halls (at least
one), halls chosen by a stable hash, so the mix of levels is the network's. Every hall of
it is simulated and its own busiest minute measured; the engine (the same ``Engine`` a
cluster worker runs per hall) is timed over each hall's stream. The scaled network is
dealt over the full plan's processes (its ingest processes, workers and partitions), the
workers' halls exactly as the cluster deals them (``crc32(hall) mod partitions``,
partition ``p`` to worker ``p mod workers``), so each process carries about ``fraction``
of its full-scale load; per process the predicted peak (its halls' stratum means) is set
beside the measured one (its halls' own busiest minutes, and the busiest minute of all of
them together), and for workers the events the engines processed per CPU-second.

What it does not check: it runs in this process, not through a NATS cluster. The ingest
processes' and NATS servers' own costs and the latencies under load are covered by the
capacity figure itself (measured on the deployment) and by the cluster bench, not here;
an ingest process's measured load assumes the kernel spreads connections evenly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec

from engine.service.cluster.layout import partition_of_key
from sim.network.layout import HallSpec
from sim.network.scenario_types import NetworkScenario
from supsim.experiments.deployment.load import (
    WINDOW_S,
    HallLoad,
    NetworkLoad,
    measure_halls,
    pick,
    predicted_peaks,
)
from supsim.experiments.deployment.sizing import Sizing

__all__ = ["CheckResult", "ProcessCheck", "run_check", "scaled_network"]


class ProcessCheck(msgspec.Struct, frozen=True, kw_only=True):
    """One process of the scaled deployment: predicted and measured peak, engine CPU."""

    role: str
    index: int
    halls: int
    predicted_events_per_s: float
    #: the sum of its halls' own busiest minutes (what the prediction estimates)
    measured_events_per_s: float
    #: the busiest minute of all its halls together
    measured_coincident_events_per_s: float
    #: events its halls' engines processed per CPU-second: the rate one core of engines could
    #: take, to set beside the capacity figure (workers only)
    engine_events_per_cpu_s: float | None = None


class CheckResult(msgspec.Struct, frozen=True, kw_only=True):
    fraction: float
    halls: int
    halls_per_level: dict[str, int]
    events: int
    predicted_peak_events_per_s: float
    measured_peak_events_per_s: float
    measured_coincident_events_per_s: float
    engine_us_per_event: float
    #: the full plan's processes, on which the scaled network is dealt
    ingest: int
    workers: int
    partitions: int
    processes: tuple[ProcessCheck, ...]


def scaled_network(net: NetworkScenario, halls: Sequence[HallSpec], fraction: float) -> list[HallSpec]:
    """``fraction`` of each level's halls (at least one), chosen by a stable hash, in network order."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    chosen: set[str] = set()
    for level in net.network.levels:
        mine = [h for h in halls if h.level == level.level]
        if mine:
            n = max(1, round(len(mine) * fraction))
            chosen.update(h.hall_id for h in pick(mine, n, net.seed))
    return [h for h in halls if h.hall_id in chosen]


def _coincident(loads: Sequence[HallLoad]) -> float:
    total: dict[int, int] = {}
    for load in loads:
        for minute, n in load.minutes.items():
            total[minute] = total.get(minute, 0) + n
    return max(total.values(), default=0) / WINDOW_S


def run_check(
    net: NetworkScenario,
    halls: Sequence[HallSpec],
    load: NetworkLoad,
    sizing: Sizing,
    *,
    fraction: float,
    rulebook: str,
    workers: int,
    progress: Callable[[int, int], None] | None = None,
) -> CheckResult:
    """Build and simulate the scaled network, deal it over the plan's processes, compare."""
    scaled = scaled_network(net, halls, fraction)
    predicted = dict(predicted_peaks(net, scaled, load))
    loads = measure_halls(net, scaled, workers=workers, rulebook=rulebook, progress=progress)
    n_workers, n_ingest, partitions = sizing.workers.count, sizing.ingest.count, sizing.partitions
    owned: dict[int, list[HallLoad]] = {w: [] for w in range(n_workers)}
    for hl in loads:
        owned[partition_of_key(hl.hall_id, partitions) % n_workers].append(hl)
    total_predicted = sum(predicted.values())
    total_measured = sum(hl.peak_events_per_s for hl in loads)
    total_coincident = _coincident(loads)
    rows = [
        ProcessCheck(
            role="ingest",
            index=i,
            halls=len(scaled),
            predicted_events_per_s=total_predicted / n_ingest,
            measured_events_per_s=total_measured / n_ingest,
            measured_coincident_events_per_s=total_coincident / n_ingest,
        )
        for i in range(n_ingest)
    ]
    for w, mine in owned.items():
        events = sum(hl.events for hl in mine)
        cpu = sum(hl.engine_cpu_s for hl in mine)
        rows.append(
            ProcessCheck(
                role="worker",
                index=w,
                halls=len(mine),
                predicted_events_per_s=sum(predicted[hl.hall_id] for hl in mine),
                measured_events_per_s=sum(hl.peak_events_per_s for hl in mine),
                measured_coincident_events_per_s=_coincident(mine),
                engine_events_per_cpu_s=events / cpu if cpu > 0 else None,
            )
        )
    events = sum(hl.events for hl in loads)
    cpu = sum(hl.engine_cpu_s for hl in loads)
    per_level = {lv.level: sum(1 for h in scaled if h.level == lv.level) for lv in net.network.levels}
    return CheckResult(
        fraction=fraction,
        halls=len(scaled),
        halls_per_level={level: n for level, n in per_level.items() if n},
        events=events,
        predicted_peak_events_per_s=total_predicted,
        measured_peak_events_per_s=total_measured,
        measured_coincident_events_per_s=total_coincident,
        engine_us_per_event=1e6 * cpu / events if events else 0.0,
        ingest=n_ingest,
        workers=n_workers,
        partitions=partitions,
        processes=tuple(rows),
    )
