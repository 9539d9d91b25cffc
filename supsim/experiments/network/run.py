"""``supsim run NETWORK.yaml``: a network of halls, in parallel partitions, streamed to disk.

The plan is made in this process and is small: the network's layout (one
:class:`~sim.network.layout.HallSpec` per hall, optionally a sample of them), cut into
partitions of ``partition_halls`` halls in network order. The partitions are a property
of the scenario file, not of the machine, and every hall's seed comes from the network
seed and its unit path, so the outputs are byte-identical whatever the number of workers
or the order partitions finish in. Workers (a process pool, or a Dask cluster with
``--dask``) run :func:`supsim.experiments.network.hall.run_partition`; each writes its own
partition folder and sends back one record per hall, which this process adds to a
:class:`~reports.evaluation.network.NetworkAggregator`. Nothing here ever holds events.

The run folder::

    network.json        the plan: provenance, the halls run, the partitions
    halls.jsonl         one line per hall, network order: its record and its lines in the partition files
    metrics.json        accuracy and KPIs of the network, per level and per unit (city)
    summary.md          the same as tables
    timings.json        wall-clock and memory (the only file that differs between runs)
    parts/NNNNN/        events.jsonl.gz, truth.jsonl.gz, alerts.jsonl.gz of one partition
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from engine.contract.holidays import CalendarOverride
from engine.rules.rulebook import load_rulebook
from reports.evaluation.network import HallRecord, NetworkAggregator, NetworkReport
from sim.network.layout import HallSpec, layout_halls, sample_halls
from sim.network.scenario import load_network
from supsim import __version__
from supsim.experiments.network.hall import HallTiming, PartitionResult, PartitionTask, run_partition
from supsim.experiments.network.store import HallSlice
from supsim.experiments.progress import Progress
from supsim.experiments.run_folder import write_json

__all__ = ["HallLine", "NetworkRunResult", "plan_partitions", "run_network"]

logger = logging.getLogger(__name__)


class HallLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line of ``halls.jsonl``: a hall's record and where its lines are."""

    hall: HallRecord
    files: HallSlice


@dataclass
class NetworkRunResult:
    out_dir: Path
    report: NetworkReport
    table: str
    files: list[str] = field(default_factory=list)
    timings: dict[str, object] = field(default_factory=dict)

    @property
    def timing_line(self) -> str:
        t = self.timings
        return (
            f"{t.get('halls', 0)} halls in {t.get('partitions', 0)} partitions on {t.get('workers', 1)} "
            f"worker(s): {t.get('wall_s', 0.0):.1f} s, peak memory {t.get('peak_rss_mb', 0.0):,.0f} MB"
        )


def plan_partitions(halls: list[HallSpec], size: int) -> list[tuple[HallSpec, ...]]:
    """Consecutive groups of ``size`` halls in network order (the last may be shorter)."""
    return [tuple(halls[i : i + size]) for i in range(0, len(halls), size)]


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


class _MemoryWatch:
    """Samples the resident memory of this process and its children (Linux ``/proc``).

    ``getrusage`` gives the peak of one process at a time; the target of a network run is the
    peak of the whole tree (the planner plus every worker), so it is sampled, every
    ``interval`` seconds. Off Linux the sampled peak stays 0 and only ``getrusage`` is reported.
    """

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-watch", daemon=True)
        self._page_kb = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4

    def _rss_kb(self, pid: int) -> int:
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                return int(fh.read().split()[1]) * self._page_kb
        except (OSError, ValueError, IndexError):
            return 0

    def sample(self) -> int:
        pids = [os.getpid(), *(p.pid for p in multiprocessing.active_children() if p.pid is not None)]
        total = sum(self._rss_kb(pid) for pid in pids)
        self.peak_kb = max(self.peak_kb, total)
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> _MemoryWatch:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _run_pool(tasks: list[PartitionTask], workers: int) -> Iterator[PartitionResult]:
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield run_partition(task)
        return
    ctx = multiprocessing.get_context("spawn")  # no inherited threads or state: the same in every worker
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=ctx) as pool:
        futures = [pool.submit(run_partition, task) for task in tasks]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:  # a failed hall or Ctrl-C: do not run the partitions still queued
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _run_dask(tasks: list[PartitionTask], address: str) -> Iterator[PartitionResult]:
    try:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed
    except ModuleNotFoundError as exc:  # the command line names the extra from exc.name
        raise ModuleNotFoundError(
            f"a network run on Dask needs the [dask] extra: pip install 'supsim[dask]' ({exc})", name=exc.name
        ) from None
    client = Client(address) if address != "local" else Client(processes=False)
    try:
        futures = client.map(run_partition, tasks, pure=False)
        for future in dask_completed(futures):
            yield future.result()
    finally:
        client.close()


def _unit_labels(halls: list[HallSpec]) -> dict[str, str]:
    """Group keys in network order (the root hall's own id, then each second-level unit),
    from the whole layout, so that a sample's groups keep their units' names."""
    return {spec.hall_id: spec.unit for spec in halls if spec.city is None or spec.city == spec.hall_id}


def run_network(
    path: Path,
    *,
    seed: int | None = None,
    out_dir: Path | None = None,
    rulebook: Path | None = None,
    workers: int = 1,
    dask_address: str | None = None,
    halls: int | None = None,
    days: int | None = None,
    progress: bool = True,
    calendar: CalendarOverride | None = None,
    on_partition: Callable[[PartitionResult], None] | None = None,
) -> NetworkRunResult:
    """Run a network scenario (see the module docstring); write and return its results.

    ``halls`` runs a uniform sample of that many halls (each exactly as in the whole
    network); ``days`` shortens the horizon (tests, quick looks); ``on_partition`` sees
    every partition's result as it arrives (the tests use it to watch memory).
    """
    from reports.render.tables.network import render_network_markdown, render_network_table

    t_start = time.perf_counter()
    net = load_network(path, calendar=calendar)
    if seed is not None:
        net = msgspec.structs.replace(net, seed=seed)
    if days is not None:
        net = msgspec.structs.replace(net, days=days)
    rulebook_path = rulebook if rulebook is not None else path.parent / net.rulebook
    load_rulebook(rulebook_path)  # a bad rulebook fails before anything runs
    every = layout_halls(net)
    specs = sample_halls(every, halls, net.seed) if halls is not None else every
    parts = plan_partitions(specs, net.partition_halls)
    out = out_dir if out_dir is not None else Path("runs") / f"{path.stem}-seed{net.seed}"
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "parts", ignore_errors=True)  # a previous run's partitions would mislead
    plan = {
        "supsim_version": __version__,
        "scenario": net.name,
        "scenario_file": path.name,
        "scenario_sha256": _sha256(path),
        "rulebook_sha256": _sha256(rulebook_path),
        "seed": net.seed,
        "start": net.start.isoformat(),
        "days": net.days,
        "network_halls": len(every),
        "halls": len(specs),
        "sample": len(specs) < len(every),
        "partition_halls": net.partition_halls,
        "partitions": [[h.hall_id for h in part] for part in parts],
        "format": "gzip JSON Lines (parts/NNNNN/{events,truth,alerts}.jsonl.gz)",
        "layout": specs,
    }
    write_json(out / "network.json", plan)
    tasks = [
        PartitionTask(index=i, network=net, halls=part, rulebook=str(rulebook_path), out_dir=str(out))
        for i, part in enumerate(parts)
    ]
    levels = [lv.level for lv in net.network.levels]
    aggregator = NetworkAggregator(
        levels=levels,
        unit_level=levels[1] if len(levels) > 1 else None,
        unit_labels=_unit_labels(every),
    )
    results: dict[int, tuple[tuple[HallRecord, ...], tuple[HallSlice, ...]]] = {}
    timings: list[HallTiming] = []
    worker_rss = 0
    source = _run_dask(tasks, dask_address) if dask_address else _run_pool(tasks, workers)
    with (
        _MemoryWatch() as memory,
        Progress("network", unit="hall", total=len(specs), enabled=progress) as bar,
    ):
        for result in source:
            results[result.index] = (result.records, result.slices)
            timings.extend(result.timings)
            worker_rss = max(worker_rss, result.max_rss_kb)
            bar.advance(len(result.records))
            if on_partition is not None:
                on_partition(result)
    with (out / "halls.jsonl").open("wb") as fh:
        encoder = msgspec.json.Encoder()
        for index in range(len(parts)):
            records, slices = results.pop(index)
            for record, where in zip(records, slices, strict=True):
                aggregator.add(record)
                fh.write(encoder.encode(HallLine(hall=record, files=where)) + b"\n")
    report = aggregator.report(network=net.network.name)
    write_json(
        out / "metrics.json", {"scenario": net.name, "seed": net.seed, "days": net.days, "network": report}
    )
    title = f"{net.name} — seed {net.seed}, {len(specs)} halls, {net.days} days"
    (out / "summary.md").write_text(render_network_markdown(report, title=title), encoding="utf-8")
    wall = time.perf_counter() - t_start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run_timings: dict[str, object] = {
        "halls": len(specs),
        "partitions": len(parts),
        "workers": "dask" if dask_address else max(1, min(workers, len(parts))),
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(max(memory.peak_kb, own) / 1024, 1),
        "planner_max_rss_mb": round(own / 1024, 1),
        "worker_max_rss_mb": round(worker_rss / 1024, 1),
        "bytes": {name: _folder_bytes(out / "parts", name) for name in ("events", "truth", "alerts")},
        "by_level": _by_level(timings, levels),
        "halls_detail": [msgspec.structs.asdict(t) for t in sorted(timings, key=lambda t: t.hall_id)],
    }
    write_json(out / "timings.json", run_timings)
    files = ["network.json", "halls.jsonl", "metrics.json", "summary.md", "timings.json", "parts/"]
    logger.info("network %s: %d halls in %.1f s", net.name, len(specs), wall)
    return NetworkRunResult(
        out_dir=out, report=report, table=render_network_table(report), files=files, timings=run_timings
    )


def _folder_bytes(parts: Path, name: str) -> int:
    return sum(p.stat().st_size for p in parts.glob(f"*/{name}.jsonl.gz"))


def _by_level(timings: list[HallTiming], levels: list[str]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for level in levels:
        mine = [t for t in timings if t.level == level]
        if not mine:
            continue
        cpu = sum(t.simulate_s + t.engine_s + t.evaluate_s + t.write_s for t in mine)
        out[level] = {
            "halls": len(mine),
            "events": sum(t.events for t in mine),
            "simulate_s": round(sum(t.simulate_s for t in mine), 3),
            "engine_s": round(sum(t.engine_s for t in mine), 3),
            "evaluate_s": round(sum(t.evaluate_s for t in mine), 3),
            "write_s": round(sum(t.write_s for t in mine), 3),
            "seconds_per_hall": round(cpu / len(mine), 3),
        }
    return out
