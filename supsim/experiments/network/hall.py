"""The unit of parallel work of a network run: one partition of halls, one hall at a time.

A worker (a pool process or a Dask worker) gets a :class:`PartitionTask`: the decoded
network, the halls of one partition, the rulebook file and the run folder. For each hall
it builds the hall scenario from its template (:func:`sim.network.halls.hall_scenario`),
simulates it with the ordinary hall world, runs one engine over it, scores it with the
same evaluation as ``supsim run`` on a hall, appends its events, truth and alerts to the
partition's files and keeps only the hall's :class:`~reports.evaluation.network.HallRecord`.
So a worker holds one hall at a time, and what travels back is a few kilobytes per hall.

Wall-clock times and memory go into :class:`HallTiming` and the result, never into the
records, so the records (and every file made from them) are byte-identical between runs.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

import msgspec

from engine.contract.alerts import Alert
from engine.core import Engine
from engine.rules.rulebook import Rulebook, load_rulebook
from reports.evaluation.network import HallRecord, hall_record
from sim.network.halls import hall_scenario
from sim.network.layout import HallSpec
from sim.network.scenario_types import NetworkScenario
from supsim.experiments.network.store import HallSlice, PartitionWriter, partition_dir

__all__ = ["HallTiming", "PartitionResult", "PartitionTask", "run_hall", "run_partition"]

_CHUNK = 20_000


class PartitionTask(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    network: NetworkScenario
    halls: tuple[HallSpec, ...]
    rulebook: str
    out_dir: str


class HallTiming(msgspec.Struct, frozen=True, kw_only=True):
    """Where one hall's wall-clock time went (seconds) and how much it produced."""

    hall_id: str
    level: str
    events: int
    simulate_s: float
    engine_s: float
    evaluate_s: float
    write_s: float


class PartitionResult(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    records: tuple[HallRecord, ...]
    slices: tuple[HallSlice, ...]
    timings: tuple[HallTiming, ...]
    #: Peak resident memory of the process that ran the partition so far (kB).
    max_rss_kb: int


def run_hall(
    net: NetworkScenario, spec: HallSpec, book: Rulebook, writer: PartitionWriter, partition: int
) -> tuple[HallRecord, HallSlice, HallTiming]:
    """Simulate, detect, score and write one hall; return its record, file slice and timing."""
    from reports.evaluation.run import evaluate
    from sim.hall.world import simulate

    scenario, shape = hall_scenario(net, spec)
    t0 = time.perf_counter()
    world = simulate(scenario, seed=spec.seed)
    t1 = time.perf_counter()
    engine = Engine(book, calendar=world.calendar)
    alerts: list[Alert] = []
    for i in range(0, len(world.events), _CHUNK):
        alerts.extend(engine.process_many(world.events[i : i + _CHUNK]))
    alerts.extend(engine.finish())
    alerts.sort(key=lambda a: (a.ts, a.alert_id))
    t2 = time.perf_counter()
    evaluation = evaluate(
        world.events, alerts, world.truth, calendar=world.calendar, seed=spec.seed, bootstrap=0
    )
    discipline = None
    if scenario.cameras is not None:
        from reports.evaluation.discipline import evaluate_discipline

        discipline = evaluate_discipline(
            alerts, world.truth, calendar=world.calendar, section=book.rules.discipline
        )
    t3 = time.perf_counter()
    where = writer.write_hall(world.events, world.truth, alerts)
    t4 = time.perf_counter()
    record = hall_record(
        ids={
            "hall_id": spec.hall_id,
            "name": spec.name,
            "level": spec.level,
            "parent": spec.parent,
            "city": spec.city,
            "template": spec.template,
        },
        shape=msgspec.structs.asdict(shape),
        partition=partition,
        evaluation=evaluation,
        discipline=discipline,
        engine_stats=engine.stats,
    )
    timing = HallTiming(
        hall_id=spec.hall_id,
        level=spec.level,
        events=len(world.events),
        simulate_s=t1 - t0,
        engine_s=t2 - t1,
        evaluate_s=t3 - t2,
        write_s=t4 - t3,
    )
    return record, where, timing


def run_partition(task: PartitionTask) -> PartitionResult:
    """Run every hall of one partition into its folder (see the module docstring)."""
    book = load_rulebook(task.rulebook)
    records: list[HallRecord] = []
    slices: list[HallSlice] = []
    timings: list[HallTiming] = []
    with PartitionWriter(partition_dir(Path(task.out_dir), task.index)) as writer:
        for spec in task.halls:
            record, where, timing = run_hall(task.network, spec, book, writer, task.index)
            records.append(record)
            slices.append(where)
            timings.append(timing)
    return PartitionResult(
        index=task.index,
        records=tuple(records),
        slices=tuple(slices),
        timings=tuple(timings),
        max_rss_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    )
