"""The peak load of a network of halls, estimated from a sample of its own halls.

Why a sample and not a constant: a network's load is set by its halls' sizes, levels and
cameras (a camera city hall emits about 90 times the events of a township hall), all drawn
per hall from the scenario's templates and seed. Simulating all 1,700 halls of a province
to size a deployment would take a quarter of an hour; a few halls per kind of hall take a
minute and carry the same per-hall figures.

Why strata by level *and* cameras: cameras multiply a hall's events, and a level's camera
share can be small (one township hall in ten). A uniform sample of a level could miss its
camera halls and understate the load; sampling each (level, cameras) group on its own
cannot. Which halls have cameras is read from each hall's drawn shape, which costs nothing
(no simulation).

What is measured per sampled hall: the events of its simulated stream per minute of event
time, reference data excluded (the catalogue and staff authorisations, all stamped at the
start of the horizon: a one-off load when a hall joins, which the capacity search sends
as its warm-up, not live traffic); its **peak** is its busiest minute in events per second.
A stratum's peak per hall is the mean over its sampled halls (the largest is kept too).
The network's peak is the sum over strata of halls × that mean: the sum of every hall's
own busiest minute, which is at least the network's busiest single minute (halls do not
all peak in the same minute) — the safe side for sizing. The coincident peak (the busiest
minute of the weighted sum of the sampled halls' minute series) is reported beside it.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor

import msgspec

from engine.contract import events as ev
from sim.network.halls import draw_shape, hall_scenario
from sim.network.layout import HallSpec, hall_rng, stable_hash
from sim.network.scenario_types import NetworkScenario

__all__ = [
    "HallLoad",
    "NetworkLoad",
    "StratumLoad",
    "estimate_load",
    "measure_halls",
    "measure_one",
    "minute_counts",
    "pick",
    "predicted_peaks",
    "stratify",
]

#: Seconds per bucket of the peak: the busiest minute.
WINDOW_S = 60
#: Reference data (the catalogue and staff authorisations), all stamped at the start of the
#: horizon: sent once when a hall joins (the capacity search's warm-up), not live load.
REFERENCE = (ev.ItemPublished, ev.StaffAuthorised)


class HallLoad(msgspec.Struct, frozen=True, kw_only=True):
    """One simulated hall: its events, its busiest minute and its per-minute counts."""

    hall_id: str
    level: str
    cameras: bool
    events: int
    peak_events_per_s: float
    #: CPU seconds the engine took over the hall's whole stream (the self-check only; else 0).
    engine_cpu_s: float = 0.0
    #: events per minute of event time, keyed by minute since the epoch (kept out of JSON).
    minutes: dict[int, int] = {}


class StratumLoad(msgspec.Struct, frozen=True, kw_only=True):
    """Halls of one level with (or without) cameras: how many, which were sampled, their peak."""

    level: str
    cameras: bool
    halls: int
    sampled: tuple[str, ...]
    events_per_sampled_hall: float
    peak_per_hall_mean: float
    peak_per_hall_max: float

    @property
    def peak_events_per_s(self) -> float:
        return self.halls * self.peak_per_hall_mean


class NetworkLoad(msgspec.Struct, frozen=True, kw_only=True):
    """The network's estimated peak: per stratum, the sum of hall peaks and the coincident peak."""

    network: str
    halls: int
    days: int
    sample_per_stratum: int
    strata: tuple[StratumLoad, ...]
    coincident_peak_events_per_s: float

    @property
    def peak_events_per_s(self) -> float:
        return sum(s.peak_events_per_s for s in self.strata)

    @property
    def busiest_hall_events_per_s(self) -> float:
        return max((s.peak_per_hall_max for s in self.strata), default=0.0)

    def levels(self) -> list[tuple[str, int, float]]:
        """Per level, in network order: (level, halls, peak events/s summed over its halls)."""
        out: dict[str, tuple[int, float]] = {}
        for s in self.strata:
            n, eps = out.get(s.level, (0, 0.0))
            out[s.level] = (n + s.halls, eps + s.peak_events_per_s)
        return [(level, n, eps) for level, (n, eps) in out.items()]


def stratify(net: NetworkScenario, halls: Iterable[HallSpec]) -> dict[tuple[str, bool], list[HallSpec]]:
    """Halls by (level, cameras), levels in network order, halls in network order within each.

    The camera flag is the hall's own drawn shape (the same draw ``supsim run`` makes).
    """
    groups: dict[tuple[str, bool], list[HallSpec]] = {}
    for spec in halls:
        shape = draw_shape(net.templates[spec.template], hall_rng(net.seed, spec.hall_id))
        groups.setdefault((spec.level, shape.cameras), []).append(spec)
    order = {level.level: k for k, level in enumerate(net.network.levels)}
    return dict(sorted(groups.items(), key=lambda kv: (order[kv[0][0]], not kv[0][1])))


def pick(halls: Sequence[HallSpec], n: int, seed: int) -> list[HallSpec]:
    """``n`` of ``halls`` chosen by a stable hash of the seed and hall id, kept in network order."""
    if n >= len(halls):
        return list(halls)
    ranked = sorted(range(len(halls)), key=lambda i: stable_hash(f"plan:{seed}:{halls[i].hall_id}"))
    chosen = set(ranked[:n])
    return [h for i, h in enumerate(halls) if i in chosen]


def minute_counts(timestamps: Iterable[float]) -> dict[int, int]:
    """Events per minute of event time (minute since the epoch → count)."""
    return dict(Counter(int(ts) // WINDOW_S for ts in timestamps))


def measure_one(task: tuple[NetworkScenario, HallSpec, str | None]) -> HallLoad:
    """Simulate one hall; with a rulebook file (the self-check), time the engine over its stream."""
    from engine.core import Engine
    from engine.rules.rulebook import load_rulebook
    from sim.hall.world import simulate

    net, spec, rulebook = task
    scenario, shape = hall_scenario(net, spec)
    world = simulate(scenario, seed=spec.seed)
    minutes = minute_counts(e.ts.timestamp() for e in world.events if not isinstance(e, REFERENCE))
    engine_s = 0.0
    if rulebook is not None:
        engine = Engine(load_rulebook(rulebook), calendar=world.calendar)
        t0 = time.process_time()
        for i in range(0, len(world.events), 20_000):
            engine.process_many(world.events[i : i + 20_000])
        engine.finish()
        engine_s = time.process_time() - t0
    return HallLoad(
        hall_id=spec.hall_id,
        level=spec.level,
        cameras=shape.cameras,
        events=len(world.events),
        peak_events_per_s=max(minutes.values(), default=0) / WINDOW_S,
        engine_cpu_s=engine_s,
        minutes=minutes,
    )


def measure_halls(
    net: NetworkScenario,
    specs: Sequence[HallSpec],
    *,
    workers: int,
    rulebook: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[HallLoad]:
    """:func:`measure_one` for every hall, on ``workers`` processes; results in ``specs`` order.

    ``rulebook``: time the engine (with that rulebook file) over each hall's stream too.
    """
    tasks = [(net, spec, rulebook) for spec in specs]
    done: list[HallLoad] = []
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            done.append(measure_one(task))
            if progress is not None:
                progress(len(done), len(tasks))
        return done
    ctx = multiprocessing.get_context("spawn")  # as the network run: workers start clean
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=ctx) as pool:
        for load in pool.map(measure_one, tasks):
            done.append(load)
            if progress is not None:
                progress(len(done), len(tasks))
    return done


def estimate_load(
    net: NetworkScenario,
    halls: Sequence[HallSpec],
    *,
    sample: int,
    workers: int,
    progress: Callable[[int, int], None] | None = None,
) -> NetworkLoad:
    """The peak load of ``halls`` of ``net`` from ``sample`` simulated halls per stratum."""
    groups = stratify(net, halls)
    chosen = {key: pick(group, sample, net.seed) for key, group in groups.items()}
    flat = [spec for group in chosen.values() for spec in group]
    loads = {load.hall_id: load for load in measure_halls(net, flat, workers=workers, progress=progress)}
    strata: list[StratumLoad] = []
    coincident: dict[int, float] = {}
    for (level, cameras), group in groups.items():
        mine = [loads[spec.hall_id] for spec in chosen[(level, cameras)]]
        weight = len(group) / len(mine)
        for load in mine:
            for minute, n in load.minutes.items():
                coincident[minute] = coincident.get(minute, 0.0) + weight * n
        strata.append(
            StratumLoad(
                level=level,
                cameras=cameras,
                halls=len(group),
                sampled=tuple(load.hall_id for load in mine),
                events_per_sampled_hall=sum(load.events for load in mine) / len(mine),
                peak_per_hall_mean=sum(load.peak_events_per_s for load in mine) / len(mine),
                peak_per_hall_max=max(load.peak_events_per_s for load in mine),
            )
        )
    return NetworkLoad(
        network=net.name,
        halls=len(halls),
        days=net.days,
        sample_per_stratum=sample,
        strata=tuple(strata),
        coincident_peak_events_per_s=max(coincident.values(), default=0.0) / WINDOW_S,
    )


def predicted_peaks(
    net: NetworkScenario, halls: Sequence[HallSpec], load: NetworkLoad
) -> list[tuple[str, float]]:
    """Every hall's predicted peak: its stratum's sampled mean, in network order."""
    mean = {(s.level, s.cameras): s.peak_per_hall_mean for s in load.strata}
    by_hall = {spec.hall_id: mean[key] for key, group in stratify(net, halls).items() for spec in group}
    return [(spec.hall_id, by_hall[spec.hall_id]) for spec in halls]
