"""Running a sweep: each seed's world once, every variant on the same streams.

One task per seed simulates the world, then scores every variant of the swept rules on it:
rules with a batch path (:data:`engine.vectorised.thresholds.BATCH_RULES`) are evaluated for all values in
one numpy pass; any other rule runs the streaming engine once per variant, with a clone of
the rule whose parameters are set through ``set_params``. Only the swept rules are enabled,
so a variant's figures are that rule's own.

Tasks are independent and deterministic, so they run on a local process pool or on a Dask
cluster and give the same results; results are re-ordered by seed before anything is
aggregated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.contract.holidays import CalendarOverride
from engine.core import Engine
from engine.replay import fixed_clock
from engine.rules import build_rules
from engine.rules.rulebook import Rulebook, load_rulebook
from engine.vectorised.thresholds import BATCH_RULES, batch_alerts
from engine.vectorised.trace import trace_case_clocks
from reports.evaluation.sweeps.grid import ENGINE, Grid, GridError, Variant, apply_settings, variants
from reports.evaluation.sweeps.score import (
    SeedResult,
    SeedScore,
    TruthIndex,
    score_arrays,
    target_for,
    working_days,
)
from sim.common.scenario import load_scenario
from sim.hall.world import SimResult, simulate

__all__ = ["SeedTask", "run_seed", "run_sweep", "score_world"]


@dataclass(frozen=True, slots=True)
class SeedTask:
    scenario: str
    rulebook: str | None
    grid: Grid
    seed: int
    batch: bool = True
    calendar: CalendarOverride | None = None


def _rulebook(task: SeedTask) -> Rulebook:
    scenario_path = Path(task.scenario)
    if task.rulebook is not None:
        return load_rulebook(task.rulebook)
    return load_rulebook(load_scenario(scenario_path, calendar=task.calendar).rulebook_path(scenario_path))


def _pool(parts: Sequence[SeedScore]) -> SeedScore:
    """Several rules of one variant pooled (counts add; latency: the first rule's median)."""
    if len(parts) == 1:
        return parts[0]
    from reports.evaluation.accuracy import prf

    tp = sum(p.tp for p in parts)
    fp = sum(p.fp for p in parts)
    fn = sum(p.fn for p in parts)
    precision, recall, f1 = prf(tp, fp, fn)
    lat = [p.latency_p50_h for p in parts if p.latency_p50_h is not None]
    return SeedScore(
        alerts=sum(p.alerts for p in parts),
        tp=tp,
        fp=fp,
        fn=fn,
        precision=precision,
        recall=recall,
        f1=f1,
        latency_p50_h=lat[0] if lat else None,
        alerts_per_day=sum(p.alerts_per_day for p in parts),
    )


def score_world(world: SimResult, book: Rulebook, grid: Grid, *, batch: bool = True) -> list[SeedScore]:
    """Score every variant of ``grid`` on one simulated world (batch path where possible)."""
    cal = world.calendar
    days = working_days(cal, world.start.date(), world.end.date())
    vs = variants(grid)
    rules = grid.rules()
    per_rule: dict[str, list[SeedScore]] = {}
    trace = None
    for rule in rules:
        target = target_for(rule, grid.score)
        truth = TruthIndex.build(world.truth, target.truth, cal)
        params = [{**_defaults(book, rule), **v.get(rule, {})} for v in vs]

        def score(
            subjects: Sequence[str],
            ts: np.ndarray | Callable[[int], float],
            idx: np.ndarray,
            t: TruthIndex = truth,
            early: str = target.early,
        ) -> SeedScore:
            return score_arrays(subjects, ts, idx, t, early=early, tolerance_s=grid.tolerance_s, days=days)

        if batch and rule in BATCH_RULES:
            if trace is None:
                trace = trace_case_clocks(world.events, book, calendar=cal, reference=world.end)
            b = batch_alerts(rule, params, trace)
            subject_of = [f"case:{c}" for c in trace.case_ids]
            out: list[SeedScore] = []
            for v in range(len(vs)):
                rows = b.of(v)
                due = b.due[rows]

                def instant(i: int, due: np.ndarray = due) -> float:
                    return cal.from_index(float(due[i]), latest=True).timestamp()

                out.append(score([subject_of[c] for c in b.case[rows].tolist()], instant, due))
            per_rule[rule] = out
        else:
            per_rule[rule] = [_score_streaming(world, book, rule, p, score) for p in params]
    return [_pool([per_rule[r][v] for r in rules]) for v in range(len(vs))]


def _defaults(book: Rulebook, rule: str) -> dict[str, object]:
    """The rulebook's own parameters of ``rule`` (the grid overrides the swept ones)."""
    for r in build_rules(book.with_enabled(rule)):
        return r.get_params()
    return {}


def _score_streaming(
    world: SimResult,
    book: Rulebook,
    rule: str,
    params: dict[str, object],
    score: Callable[[Sequence[str], np.ndarray | Callable[[int], float], np.ndarray], SeedScore],
) -> SeedScore:
    only = book.with_enabled(rule)
    rules = [r.clone().set_params(**params) for r in build_rules(only)]
    engine = Engine(only, calendar=world.calendar, rules=rules, clock=fixed_clock(world.end))
    alerts = engine.process_many(world.events)
    alerts.extend(engine.finish())
    alerts = [a for a in alerts if a.rule == rule]
    to_index = world.calendar.to_index
    ts = np.array([a.ts.timestamp() for a in alerts], dtype=np.float64)
    idx = np.array([to_index(a.ts) for a in alerts], dtype=np.float64)
    return score([a.subject for a in alerts], ts, idx)


def run_seed(task: SeedTask) -> SeedResult:
    """Simulate one seed and score every variant on it (the unit of parallel work).

    A grid naming engine settings, or a scenario with ``data_quality:``, is scored on the
    stream as delivered, every rule the grid scores at once
    (:mod:`supsim.experiments.sweep_delivered`); otherwise each swept rule on its own.
    """
    scenario = load_scenario(task.scenario, calendar=task.calendar)
    book = _rulebook(task)
    if task.grid.source_clock and scenario.data_quality is None:
        raise GridError(
            f"grid: `$.source_clock` - {task.scenario} has no data_quality: section (no source clock)"
        )
    world = simulate(scenario, seed=task.seed)
    if task.grid.engine_settings() or scenario.data_quality is not None:
        from supsim.experiments.sweep_delivered import score_delivered

        scores = score_delivered(scenario, world, book, task.grid, seed=task.seed)
        return SeedResult(seed=task.seed, scores=tuple(scores))
    return SeedResult(seed=task.seed, scores=tuple(score_world(world, book, task.grid, batch=task.batch)))


def run_sweep(
    scenario: str | Path,
    grid: Grid,
    *,
    seeds: Sequence[int],
    workers: int = 1,
    dask_address: str | None = None,
    rulebook: str | Path | None = None,
    batch: bool = True,
    calendar: CalendarOverride | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Variant], list[SeedResult]]:
    """Run every seed (locally, on a process pool, or on a Dask cluster); results by seed.

    ``calendar`` (``--holidays`` / ``--beyond-range``) reaches every worker with its task;
    ``progress(done, total)`` is called as each seed finishes (in any order).
    """
    tell = progress or (lambda done, total: None)
    book = None if rulebook is None else str(rulebook)
    if grid.engine_settings():  # a setting the rulebook cannot take fails before any seed runs
        task0 = SeedTask(str(scenario), book, grid, seeds[0] if seeds else 0, batch, calendar)
        base = _rulebook(task0)
        for variant in variants(grid):
            apply_settings(base, variant.get(ENGINE, {}), where="grid")
    tasks = [SeedTask(str(scenario), book, grid, s, batch, calendar) for s in seeds]
    results: list[SeedResult] = []
    tell(0, len(tasks))
    if dask_address is not None:
        results = _run_dask(tasks, dask_address, tell)
    elif workers > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(max_workers=min(workers, len(tasks))) as pool:
            for future in as_completed([pool.submit(run_seed, t) for t in tasks]):
                results.append(future.result())
                tell(len(results), len(tasks))
    else:
        for t in tasks:
            results.append(run_seed(t))
            tell(len(results), len(tasks))
    results.sort(key=lambda r: r.seed)
    return variants(grid), results


def _run_dask(tasks: list[SeedTask], address: str, tell: Callable[[int, int], None]) -> list[SeedResult]:
    try:
        from dask.distributed import Client
    except ModuleNotFoundError as exc:  # the command line names the extra from exc.name
        raise ModuleNotFoundError(
            f"a Dask sweep needs the [dask] extra: pip install 'supsim[dask]' ({exc})", name=exc.name
        ) from None
    client = Client(address) if address != "local" else Client(processes=False)
    try:
        from dask.distributed import as_completed as dask_completed

        results = []
        for future in dask_completed(client.map(run_seed, tasks, pure=False)):
            results.append(future.result())
            tell(len(results), len(tasks))
        return results
    finally:
        client.close()
