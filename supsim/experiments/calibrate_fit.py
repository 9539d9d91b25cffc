"""Replications of a scenario and the ``--fit`` search over its rates.

Replication ``k`` runs with seed ``scenario.seed + k``: reproducible, and the same seeds for
every candidate of a fit (common random numbers), so two candidates differ by their rates and
not by luck, and the objective is a deterministic function of the rates.

The search minimises the calibration NRMSE (:mod:`reports.evaluation.calibration.table`) over the parameters
the targets file lists under ``fit`` (a rate set to a value, or a group of rates scaled by one
factor). Misconduct is drawn per case against uniform numbers, so the objective is piecewise
constant in the rates: a gradient method would stall. We therefore start with a scrambled
Sobol design over the box (global, seeded), then polish the best point with a compass search
that steps every parameter in turn (:func:`_search`). The budget is a hard cap on simulated
candidates: the scenario as written, the search and the final put-back trials all count.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
from scipy.stats import qmc

from engine.core import Engine
from engine.replay import fixed_clock
from engine.rules.rulebook import Rulebook, load_rulebook
from reports.evaluation.calibration.metrics import Figures, run_figures, scenario_scale
from reports.evaluation.calibration.table import CalibrationResult, calibrate_figures
from reports.evaluation.calibration.targets import FitParam, Targets, TargetsError
from sim.common.hall_model import build_halls
from sim.common.scenario import Scenario, ScenarioError
from sim.common.scenario_types import ItemDef, StepDef
from sim.hall.world import simulate

__all__ = [
    "FitPathError",
    "FitResult",
    "apply_params",
    "check_fit_paths",
    "fit_scenario",
    "fixed_catalogue",
    "load_rulebook_for",
    "replicate",
    "simulate_figures",
    "write_scenario",
]


def simulate_figures(scenario: Scenario, rulebook: Rulebook, seed: int) -> Figures:
    """Simulate one replication, run the engine on it, return its figures (no bootstrap, no files)."""
    world = simulate(scenario, seed=seed)
    engine = Engine(rulebook, calendar=world.calendar, clock=fixed_clock(world.end))
    alerts = engine.process_many(world.events)
    alerts.extend(engine.finish())
    return run_figures(scenario, world.events, alerts, world.calendar)


def _one(args: tuple[Scenario, Rulebook, int]) -> Figures:
    return simulate_figures(*args)


def fixed_catalogue(scenario: Scenario) -> Scenario:
    """``scenario`` with each ``item_mix`` catalogue drawn once, from the scenario's own seed.

    Why: an ``item_mix`` draws the catalogue (which items are instant, their limits and
    popularity) from the run's seed, so replications ``seed + k`` each get another catalogue:
    over three replications a 30 % instant share came out anywhere in [0.07, 0.25], and a fit
    chased that noise. A place has one catalogue; replications should differ in arrivals,
    service and misconduct only. The catalogue is drawn exactly as ``simulate`` draws it for
    ``scenario.seed`` (so replication 0 is the scenario's own run) and carried as explicit
    items with the generated ids. This copy is built with ``msgspec.structs.replace``, which
    does not re-validate, because generated ids (``H1-D1-I001``) are not file identifiers:
    it lives in memory for the replications and is never written.
    """
    if not any(h.item_mix is not None and any(h.item_mix.counts.values()) for h in scenario.halls):
        return scenario
    r_catalogue = np.random.default_rng(scenario.seed).spawn(5)[0]  # as in ``simulate``
    models = build_halls(scenario, r_catalogue)
    halls = []
    for hall, model in zip(scenario.halls, models, strict=True):
        if hall.item_mix is None:
            halls.append(hall)
            continue
        key = {d.id: d.key for d in model.departments}
        explicit = {item.id for item in hall.items}
        generated = [
            ItemDef(
                id=item.id,
                name=item.name,
                department=key[item.department_id],
                promised_days=item.promised_days,
                fee_standard=item.fee_standard,
                steps=[StepDef(name=s.name, post=s.post, limit_days=s.limit_days) for s in item.steps],
                issues_certificate=item.issues_certificate,
                popularity=item.popularity,
            )
            for item in model.items
            if item.id not in explicit
        ]
        mix = msgspec.structs.replace(hall.item_mix, counts={})
        halls.append(msgspec.structs.replace(hall, items=[*hall.items, *generated], item_mix=mix))
    return msgspec.structs.replace(scenario, halls=halls)


def replicate(
    scenario: Scenario,
    rulebook: Rulebook,
    replications: int,
    *,
    workers: int = 1,
    pool: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Figures]:
    """Figures of ``replications`` runs with seeds ``seed, seed + 1, ...`` (in seed order).

    ``progress(done, total)`` is called as replications finish (a pool's in seed order).

    Every replication shares one catalogue (:func:`fixed_catalogue`): common random numbers
    for the place's structure, so a candidate's figures move with its rates, not its catalogue.

    ``pool`` reuses an executor (a fit runs many candidates; starting processes per candidate
    would cost more than a small scenario's run); otherwise ``workers > 1`` starts one.
    """
    fixed = fixed_catalogue(scenario)
    jobs = [(fixed, rulebook, scenario.seed + k) for k in range(replications)]
    tell = progress or (lambda done, total: None)

    def collect(figures: Iterable[Figures]) -> list[Figures]:
        out: list[Figures] = []
        for f in figures:
            out.append(f)
            tell(len(out), len(jobs))
        return out

    if pool is not None:
        return collect(pool.map(_one, jobs))
    if workers <= 1 or replications == 1:
        return collect(_one(job) for job in jobs)
    with ProcessPoolExecutor(max_workers=min(workers, replications)) as own:
        return collect(own.map(_one, jobs))


class FitPathError(LookupError):
    """A ``fit`` path that does not lead to a number in the scenario: where it stops and why."""


def _step(node: Any, part: str, walked: str) -> Any:
    """One step down a path: a mapping key, or a list index (``halls.0``)."""
    if isinstance(node, dict):
        if part not in node:
            known = ", ".join(sorted(map(str, node))) or "none"
            raise FitPathError(f"`{walked}` has no field {part!r} (fields: {known})")
        return node[part]
    if isinstance(node, list):
        if not part.isdigit():
            raise FitPathError(f"`{walked}` is a list: the next part must be an index, not {part!r}")
        if int(part) >= len(node):
            raise FitPathError(f"`{walked}` has {len(node)} entries; index {part} does not exist")
        return node[int(part)]
    raise FitPathError(f"`{walked}` is a value ({node!r}), so `{part}` cannot follow it")


def _get(tree: dict[str, Any], path: str) -> Any:
    """The value at a dotted path through mappings and lists (``halls.0.item_mix.instant_share``)."""
    node: Any = tree
    walked: list[str] = []
    for part in path.split("."):
        node = _step(node, part, ".".join(walked) or "the scenario")
        walked.append(part)
    if isinstance(node, bool) or not isinstance(node, int | float):
        raise FitPathError(f"`{path}` is {node!r}, not a number a fit can change")
    return node


def _set(tree: dict[str, Any], path: str, value: float) -> None:
    *parents, leaf = path.split(".")
    node: Any = tree
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(leaf)] = value
    else:
        node[leaf] = value


def check_fit_paths(scenario: Scenario, params: Sequence[FitParam], source: str) -> None:
    """Fail before any run, naming each ``fit`` path that does not reach a number in ``scenario``.

    Why up front: a fit runs many candidates; a misspelt path found on the first candidate
    would otherwise surface as a bare ``KeyError`` from deep inside the search.
    """
    tree = msgspec.to_builtins(scenario)
    problems: list[tuple[str, str]] = []
    for param in params:
        for j, path in enumerate(param.paths):
            try:
                _get(tree, path)
            except FitPathError as exc:
                problems.append((f"$.fit[{param.name}].paths[{j}]", f"{exc} in scenario {scenario.name!r}"))
    if problems:
        raise TargetsError(source, problems)


def apply_params(scenario: Scenario, params: Sequence[FitParam], x: Sequence[float]) -> Scenario:
    """A copy of ``scenario`` with each parameter set (``value``) or its paths scaled (``scale``).

    A path that holds a whole number (windows, posts, staff) gets the nearest whole number:
    the scenario's types would refuse ``2.37`` windows. The result is validated like a loaded
    file, so a scaled rate above 1 (or a count rounded to 0) fails loudly.
    """
    tree = msgspec.to_builtins(scenario)
    base = msgspec.to_builtins(scenario)
    for param, v in zip(params, x, strict=True):
        for path in param.paths:
            old = _get(base, path)
            new = float(v) if param.mode == "value" else float(old) * float(v)
            _set(tree, path, round(new) if _is_count(old) else round(new, 8))
    try:
        return msgspec.convert(tree, Scenario)
    except msgspec.ValidationError as exc:
        raise ScenarioError("<fitted scenario>", [("$", str(exc))]) from None


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _count_params(scenario: Scenario, params: Sequence[FitParam]) -> tuple[bool, ...]:
    """Which ``value`` parameters set only whole-number fields, so candidates snap to integers.

    Why snap the candidate and not only the written value: ``windows=2.4`` and ``windows=2.2``
    are the same scenario; snapping makes them one cache entry, so the budget is not spent
    re-running a world the search has already seen.
    """
    tree = msgspec.to_builtins(scenario)
    return tuple(p.mode == "value" and all(_is_count(_get(tree, path)) for path in p.paths) for p in params)


def _as_written(scenario: Scenario, params: Sequence[FitParam]) -> tuple[float, ...]:
    """The parameters' values in the scenario as written (``scale`` parameters: factor 1)."""
    tree = msgspec.to_builtins(scenario)
    return tuple(round(float(_get(tree, p.paths[0])), 8) if p.mode == "value" else 1.0 for p in params)


class FitResult(msgspec.Struct, frozen=True, kw_only=True):
    """What ``--fit`` found.

    ``start`` is the scenario as written (which may lie outside the search box: the box only
    bounds the search); ``best`` equals ``start`` unless ``improved``. ``kept`` names the
    parameters left at their written value because moving them did not lower the NRMSE.
    """

    names: tuple[str, ...]
    start: tuple[float, ...]
    best: tuple[float, ...]
    start_nrmse: float
    best_nrmse: float
    evaluations: int
    improved: bool
    kept: tuple[str, ...] = ()


def fit_scenario(
    scenario: Scenario,
    rulebook: Rulebook,
    targets: Targets,
    *,
    replications: int,
    budget: int = 40,
    seed: int = 0,
    workers: int = 1,
    log: Callable[[str], None] | None = None,
    source: str = "<targets>",
) -> tuple[Scenario, FitResult, CalibrationResult]:
    """Search ``targets.fit`` for the rates with the smallest NRMSE; return the fitted scenario.

    The scenario as written is the reference: its NRMSE is measured first, the search starts
    from it (clipped into the box), and the result moves away from it only where that lowers
    the NRMSE. After the search each changed parameter is tried at its written value again
    (one extra candidate per changed parameter, outside ``budget``) and kept there when the
    NRMSE does not rise, so the fitted file changes only rates that earned their change. When
    no candidate beats the start, the scenario comes back unchanged with ``improved`` false
    (and the returned table is the start's).
    """
    params = targets.fit
    if not params:
        raise ValueError("the targets file lists no `fit` parameters")
    check_fit_paths(scenario, params, source)
    scale = scenario_scale(scenario)
    cache: dict[tuple[float, ...], CalibrationResult] = {}
    clock = _Progress(budget, log)

    counts = _count_params(scenario, params)

    def evaluate(x: Sequence[float] | np.ndarray) -> CalibrationResult:
        key = tuple(
            float(round(v)) if whole else round(float(v), 8) for v, whole in zip(x, counts, strict=True)
        )
        if key not in cache:
            if len(cache) >= budget:
                raise _BudgetSpent
            candidate = apply_params(scenario, params, key)
            runs = replicate(candidate, rulebook, replications, pool=pool)
            cache[key] = calibrate_figures(candidate, targets, runs, scale=scale)
            shown = ", ".join(f"{p.name}={v:.5g}" for p, v in zip(params, key, strict=True))
            clock.done(len(cache), f"NRMSE {_nrmse(cache[key]):.4f}  {shown}")
        return cache[key]

    lo = np.array([p.min for p in params], dtype=np.float64)
    hi = np.array([p.max for p in params], dtype=np.float64)
    written = _as_written(scenario, params)
    # Candidates held back for putting changed rates back to their written values.
    reserve = min(len(params), budget // 4)
    pool: Executor | None = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
    try:
        start_res = evaluate(written)
        with contextlib.suppress(_BudgetSpent):
            _search(
                lambda x: _nrmse(evaluate(x)),
                cache,
                np.clip(np.array(written), lo, hi),
                lo,
                hi,
                budget - reserve,
                seed,
            )
        best = min(cache, key=lambda k: (_nrmse(cache[k]), k != written))
        best, kept = _keep_written(best, written, params, evaluate)
    finally:
        if pool is not None:
            pool.shutdown()
    start_nrmse, best_nrmse = _nrmse(start_res), _nrmse(cache[best])
    improved = best_nrmse < start_nrmse
    if not improved:
        best, kept = written, tuple(p.name for p in params)
    result = FitResult(
        names=tuple(p.name for p in params),
        start=written,
        best=best,
        start_nrmse=start_nrmse,
        best_nrmse=_nrmse(cache[best]),
        evaluations=len(cache),
        improved=improved,
        kept=kept,
    )
    fitted = apply_params(scenario, params, best) if improved else scenario
    return fitted, result, cache[best]


def _keep_written(
    best: tuple[float, ...],
    written: tuple[float, ...],
    params: Sequence[FitParam],
    evaluate: Callable[[tuple[float, ...]], CalibrationResult],
) -> tuple[tuple[float, ...], tuple[str, ...]]:
    """Put each changed parameter back to its written value while the NRMSE does not rise.

    The objective is piecewise constant, so a search often moves rates it does not need
    (a rate clipped into the box, a rate whose effect is noise); those keep the author's value.
    """
    current = best
    for i in range(len(params)):
        if current[i] == written[i]:
            continue
        trial = (*current[:i], written[i], *current[i + 1 :])
        try:
            if _nrmse(evaluate(trial)) <= _nrmse(evaluate(current)):
                current = trial
        except _BudgetSpent:
            break
    kept = tuple(p.name for i, p in enumerate(params) if current[i] == written[i])
    return current, kept


class _BudgetSpent(Exception):
    """Raised by the evaluator when a new candidate would exceed the budget (a hard cap)."""


class _Progress:
    """``[n/total]`` lines with the time left, estimated from the mean time per candidate so far."""

    def __init__(self, total: int, log: Callable[[str], None] | None) -> None:
        self.total, self.log, self.t0 = total, log, time.monotonic()

    def done(self, n: int, text: str) -> None:
        if self.log is None:
            return
        elapsed = time.monotonic() - self.t0
        left = elapsed / n * (self.total - n)
        width = len(str(self.total))
        timing = f"{_duration(elapsed)} elapsed, ~{_duration(left)} left"
        self.log(f"[{n:{width}d}/{self.total}] {text}  ({timing})")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _search(
    objective: Callable[[np.ndarray], float],
    cache: dict[tuple[float, ...], CalibrationResult],
    x0: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    budget: int,
    seed: int,
) -> None:
    """Sobol design over the box (a power of two, at most a third of the budget), then a compass search.

    Why a compass (coordinate pattern) search and not Powell: Powell line-searches one
    direction at a time, so a small budget is spent on the first parameter and the others
    never move. The compass search tries every parameter once per sweep (up, then down,
    by a quarter of its box), keeps any step that lowers the NRMSE, and halves the steps
    after a sweep without gain, so even a budget of a few candidates reaches all of them.
    The caller's evaluator stops the search when the budget is spent.
    """
    n_design = 2 ** int(np.log2(max(1, min(budget // 3, 4 * len(x0))))) if budget >= 6 else 0
    if n_design:
        sobol = qmc.Sobol(d=len(x0), scramble=True, seed=np.random.default_rng(seed))
        for point in qmc.scale(sobol.random(n_design), lo, hi):
            if len(cache) >= budget:
                return
            objective(point)
    # From the best so far, clipped: the scenario as written may lie outside the box, and a
    # compass step from outside clips back to the same edge point every sweep.
    x = np.clip(np.array(min(cache, key=lambda k: _nrmse(cache[k])), dtype=np.float64), lo, hi)
    fx = objective(x)
    step = (hi - lo) / 4
    while len(cache) < budget and np.any(step > 1e-3 * (hi - lo)):
        improved = False
        for sign in (1.0, -1.0):
            for i in range(len(x)):
                if len(cache) >= budget:
                    return
                trial = x.copy()
                trial[i] = float(np.clip(x[i] + sign * step[i], lo[i], hi[i]))
                if trial[i] == x[i]:
                    continue
                f = objective(trial)
                if f < fx:
                    x, fx, improved = trial, f, True
        if not improved:
            step = step / 2


def _nrmse(res: CalibrationResult) -> float:
    return float("inf") if res.nrmse is None else res.nrmse


def write_scenario(scenario: Scenario, path: Path, *, header: str) -> None:
    """Write a scenario as YAML (every field explicit) under a comment ``header``."""
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    path.write_bytes(comment.encode("utf-8") + msgspec.yaml.encode(scenario))


def load_rulebook_for(scenario: Scenario, scenario_path: Path) -> Rulebook:
    """The scenario's own rulebook, resolved against its file."""
    return load_rulebook(scenario.rulebook_path(scenario_path))
