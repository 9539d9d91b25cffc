"""What the cluster check sends: the scaled network's first day, simulated, cut to its busiest minutes.

Each hall's reference data (catalogue, staff, stamped at the start of the horizon) comes first,
as a hall joining would send it, then every event of ``minutes`` minutes of event time from
the busiest minute of all the halls together (:mod:`~supsim.experiments.deployment.cluster_check`
sends it and checks what arrived).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import msgspec

from engine.contract import events as ev
from sim.network.halls import hall_scenario
from sim.network.layout import HallSpec
from sim.network.scenario_types import NetworkScenario
from supsim.experiments.deployment.check import scaled_network
from supsim.experiments.deployment.load import REFERENCE, WINDOW_S, NetworkLoad, predicted_peaks

__all__ = ["Replay", "build_replay"]


class Replay(msgspec.Struct, frozen=True, kw_only=True):
    """What is sent: per hall its events in order, and the window of event time they come from."""

    sources: dict[str, list[ev.Event]]
    #: epoch seconds of the window's first minute (the busiest minute of all halls together)
    window_start: float
    minutes: int
    reference_events: int
    #: each hall's predicted peak (its stratum's sampled mean), events/s
    predicted_peak: dict[str, float]


def _simulate_hall(task: tuple[NetworkScenario, HallSpec]) -> tuple[str, list[ev.Event]]:
    from sim.hall.world import simulate

    net, spec = task
    scenario, _ = hall_scenario(net, spec)
    return spec.hall_id, list(simulate(scenario, seed=spec.seed).events)


def build_replay(
    net: NetworkScenario,
    halls: Sequence[HallSpec],
    load: NetworkLoad,
    *,
    fraction: float,
    minutes: int,
    workers: int = 1,
) -> Replay:
    """Simulate the scaled network's first day and keep its reference data and busiest ``minutes``."""
    if minutes < 1:
        raise ValueError(f"minutes must be >= 1, got {minutes}")
    day = msgspec.structs.replace(net, days=1)
    scaled = scaled_network(day, halls, fraction)
    tasks = [(day, spec) for spec in scaled]
    if workers > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(max_workers=min(workers, len(tasks))) as pool:
            streams = dict(pool.map(_simulate_hall, tasks))
    else:
        streams = dict(map(_simulate_hall, tasks))
    per_minute: dict[int, int] = {}
    for events in streams.values():
        for e in events:
            if not isinstance(e, REFERENCE):
                m = int(e.ts.timestamp()) // WINDOW_S
                per_minute[m] = per_minute.get(m, 0) + 1
    busiest = max(per_minute, key=lambda m: (per_minute[m], -m), default=0)
    start, end = busiest * WINDOW_S, (busiest + minutes) * WINDOW_S
    sources: dict[str, list[ev.Event]] = {}
    reference = 0
    for spec in scaled:
        ref = [e for e in streams[spec.hall_id] if isinstance(e, REFERENCE)]
        live = [
            e
            for e in streams[spec.hall_id]
            if not isinstance(e, REFERENCE) and start <= e.ts.timestamp() < end
        ]
        reference += len(ref)
        sources[spec.hall_id] = ref + live
    return Replay(
        sources=sources,
        window_start=float(start),
        minutes=minutes,
        reference_events=reference,
        predicted_peak=dict(predicted_peaks(net, scaled, load)),
    )
