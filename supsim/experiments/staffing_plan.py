"""``supsim plan``: staffing levels with replications, the smallest level meeting a target.

Each level is replicated over seeds (replications, not batch means), with 95 % intervals
(:mod:`reports.evaluation.intervals`): waits and utilisation (above 1 when demand outruns
the staff) are the mean over seeds with a Student-t interval whose lower end is raised to 0;
the overdue rate is overdue / promised cases pooled over seeds with a Wilson interval
widened for seed-to-seed dispersion, inside [0, 1]. A level *meets* the target when the
upper end of each interval (the side a planner must defend) satisfies it, so the
recommendation does not rest on a lucky mean. Window waits come from the window-stage
model (:mod:`sim.queueing.staffing`); the overdue rate and the waits for a back-office post
need the whole flow, so they run the full SimPy world, only when the target asks for the
overdue rate or a post is varied.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import msgspec
import numpy as np

from reports.evaluation.intervals import ValueRange, mean_interval
from reports.evaluation.sweeps.table import Estimate, estimate, pooled_estimate
from reports.render.plots.fonts import PlotText
from reports.render.text_table import with_header
from sim.common.scenario import Scenario
from sim.queueing.erlang import mmc_mean_wait
from sim.queueing.fcfs import fcfs_waits
from sim.queueing.staffing import desk_demand, level_metrics, with_windows

__all__ = [
    "PlanRow",
    "PlanSpecError",
    "PlanTable",
    "Target",
    "mmc_crosscheck",
    "parse_target",
    "parse_vary",
    "render_plan",
    "run_plan",
]

WAIT_METRICS = ("wait_mean", "wait_p50", "wait_p90", "wait_p95", "wait_max", "utilisation")
#: Back-office figures of a varied post (``--vary posts.<post>=...``): working minutes a case
#: waited for that post, from the step being ready (acceptance, the previous step's end or a
#: resume) to its start. The window stage does not see posts, so without these a posts plan
#: would show identical rows whenever the overdue rate is not capacity-bound.
POST_METRICS = ("post_wait_mean", "post_wait_p90")
METRICS = (*WAIT_METRICS, *POST_METRICS, "overdue_rate")
#: The range of each metric, which its interval keeps to.
METRIC_RANGES: dict[str, ValueRange] = {
    **dict.fromkeys(WAIT_METRICS, "nonnegative"),
    **dict.fromkeys(POST_METRICS, "nonnegative"),
    "overdue_rate": "proportion",
}
#: Figures written as shares (``5%`` or ``0.05``); the others are working minutes (``min``, ``h``).
SHARE_METRICS = ("overdue_rate", "utilisation")
_TERM = re.compile(r"^\s*(\w+)\s*(<=|<)\s*([0-9.]+)\s*(min|h|%)?\s*$")


@dataclass(frozen=True, slots=True)
class Target:
    metric: str
    limit: float  # minutes for waits, a fraction for rates

    def met(self, e: Estimate) -> bool:
        x = e.hi if e.hi is not None else e.mean
        return x is not None and x <= self.limit


class PlanSpecError(ValueError):
    """A ``--target`` or ``--vary`` that cannot be read; the message says what is expected."""


def parse_target(text: str) -> list[Target]:
    """``"wait_p90<=15min, overdue_rate<=0.5%"`` as targets (waits in minutes, rates as fractions)."""
    out = []
    for term in text.split(","):
        m = _TERM.match(term)
        if m is None or m[1] not in METRICS:
            raise PlanSpecError(
                f"bad target term {term.strip()!r} (metric <= value[min|h|%], metrics: {', '.join(METRICS)})"
            )
        value = float(m[3])
        unit = m[4]
        share = m[1] in SHARE_METRICS
        if unit is not None and (unit == "%") != share:
            kind = "a share, written 0.05 or 5%" if share else "a time, written in min or h"
            raise PlanSpecError(f"bad target term {term.strip()!r}: {m[1]} is {kind}")
        value = value * 60 if unit == "h" else value / 100 if unit == "%" else value
        if METRIC_RANGES[m[1]] == "proportion" and value > 1:
            raise PlanSpecError(f"bad target term {term.strip()!r}: a rate is at most 100 % (1.0)")
        out.append(Target(m[1], value))
    return out


#: Levels one ``--vary`` may ask for: each is simulated ``--replications`` times.
MAX_LEVELS = 200


def parse_vary(text: str) -> tuple[str, list[int]]:
    """``windows=10..60[:step]`` (per hall), ``windows.D01=1..6`` or ``posts.review=1..3``."""
    m = re.fullmatch(r"\s*([\w.]+)\s*=\s*(\d+)\.\.(\d+)(?::(\d+))?\s*", text)
    if m is None or not (m[1] == "windows" or m[1].startswith(("windows.", "posts."))):
        raise PlanSpecError(
            f"bad --vary {text!r} (windows=A..B[:STEP], windows.<dept>=A..B, posts.<post>=A..B)"
        )
    lo, hi, step = int(m[2]), int(m[3]), int(m[4] or 1)
    if lo > hi or step < 1:
        raise PlanSpecError(f"bad range in --vary {text!r} (A..B needs A <= B, and STEP >= 1)")
    levels = list(range(lo, hi + 1, step))
    if len(levels) > MAX_LEVELS:
        raise PlanSpecError(
            f"--vary {text!r} asks for {len(levels):,} levels; at most {MAX_LEVELS} (use :STEP)"
        )
    return m[1], levels


def level_scenario(scenario: Scenario, key: str, n: int) -> Scenario:
    """``scenario`` staffed at level ``n``; a department or post it does not have is an error
    (otherwise every level would be the same hall, and the plan's rows identical)."""
    if key == "windows":
        return with_windows(scenario, n)
    kind, name = key.split(".", 1)
    depts = [d for h in scenario.halls for d in h.departments]
    if kind == "windows":
        if not any(d.id == name for d in depts):
            raise ValueError(f"no department {name!r} (departments: {', '.join(d.id for d in depts)})")
        return with_windows(scenario, department=name, count=n)
    posts = sorted({p for d in depts for p in d.posts})
    if name not in posts:
        raise ValueError(f"no post {name!r} in any department (posts: {', '.join(posts) or 'none'})")
    return with_windows(scenario, posts={name: n})


class PlanRow(msgspec.Struct, frozen=True, kw_only=True):
    level: int
    metrics: dict[str, Estimate]
    meets: bool


class PlanTable(msgspec.Struct, frozen=True, kw_only=True):
    vary: str
    target: str
    replications: int
    rows: tuple[PlanRow, ...]
    smallest: int | None


@dataclass(frozen=True, slots=True)
class _WorldFigures:
    """One replication's whole-flow figures: overdue of promised cases (counts, which the
    overdue rate's interval pools) and the varied post's waits (empty without one)."""

    overdue: int
    promised: int
    waits: dict[str, float]


def _world_metrics(scenario: Scenario, seed: int, *, post: str | None) -> _WorldFigures:
    """Figures that need the whole flow (one SimPy world): the overdue rate's counts, and the
    waits for ``post`` when one is varied."""
    from engine.contract import events as ev
    from sim.hall.world import simulate

    world = simulate(scenario, seed=seed)
    promised = sum(1 for e in world.events if type(e) is ev.CaseAccepted and e.case_type == "promised")
    overdue = sum(1 for ep in world.truth if ep.kind == "overdue" and not ep.lookalike)
    out: dict[str, float] = {}
    if post is not None:
        ready: dict[str, datetime] = {}
        waits: list[float] = []
        for e in world.events:  # time-ordered
            kind = type(e)
            if kind in (ev.CaseAccepted, ev.StepCompleted, ev.CaseResumed):
                ready[e.case_id] = e.ts  # type: ignore[attr-defined]
            elif kind is ev.StepStarted:
                since = ready.pop(e.case_id, None)  # type: ignore[attr-defined]
                if since is not None and e.post == post:  # type: ignore[attr-defined]
                    waits.append(world.calendar.working_seconds(since, e.ts) / 60.0)
        arr = np.asarray(waits if waits else [0.0])
        out["post_wait_mean"] = float(arr.mean())
        out["post_wait_p90"] = float(np.quantile(arr, 0.9))
    return _WorldFigures(overdue=overdue, promised=promised, waits=out)


def run_plan(
    scenario: Scenario,
    key: str,
    levels: list[int],
    targets: list[Target],
    *,
    replications: int,
    simpy: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> PlanTable:
    """Every level over ``replications`` seeds; ``progress(done, total)`` after each level."""
    if replications < 1:
        raise PlanSpecError(f"--replications {replications}: give at least 1")
    seeds = [scenario.seed + r for r in range(replications)]
    demands = [desk_demand(scenario, s) for s in seeds]  # demand does not depend on staffing
    post = key.split(".", 1)[1] if key.startswith("posts.") else None
    need_world = post is not None or any(t.metric in ("overdue_rate", *POST_METRICS) for t in targets)
    if post is None and any(t.metric in POST_METRICS for t in targets):
        raise PlanSpecError("post_wait_* targets need --vary posts.<post>=A..B (the post they measure)")
    staffed = {}
    for n in levels:  # every level checked before any is simulated
        try:
            staffed[n] = level_scenario(scenario, key, n)
        except ValueError as exc:
            raise PlanSpecError(f"--vary {key}={n}: {exc}") from None
    rows = []
    for n in levels:
        sc = staffed[n]
        windows = {d.id: d.windows for h in sc.halls for d in h.departments}
        reps = [level_metrics(dem, windows, simpy=simpy) for dem in demands]
        metrics = {
            m: estimate([getattr(r, m) for r in reps], METRIC_RANGES[m], what=f"{key}={n} {m}")
            for m in WAIT_METRICS
        }
        if need_world:
            worlds = [_world_metrics(sc, s, post=post) for s in seeds]
            metrics["overdue_rate"] = pooled_estimate(
                [w.overdue for w in worlds], [w.promised for w in worlds], what=f"{key}={n} overdue_rate"
            )
            for m in worlds[0].waits:
                metrics[m] = estimate([w.waits[m] for w in worlds], METRIC_RANGES[m], what=f"{key}={n} {m}")
        meets = all(t.met(metrics[t.metric]) for t in targets)
        rows.append(PlanRow(level=n, metrics=metrics, meets=meets))
        if progress is not None:
            progress(len(rows), len(levels))
    smallest = next((r.level for r in rows if r.meets), None)
    text = ", ".join(f"{t.metric}<={t.limit:g}" for t in targets)
    return PlanTable(vary=key, target=text, replications=replications, rows=tuple(rows), smallest=smallest)


@dataclass(frozen=True, slots=True)
class Crosscheck:
    department: str
    windows: int
    lam_per_h: float
    mean_service_min: float
    simulated_wait_min: float
    erlang_c_wait_min: float
    #: 95 % interval of the simulated mean wait over the replications (None with one).
    simulated_ci_min: tuple[float, float] | None = None
    replications: int = 1


def mmc_crosscheck(
    scenario: Scenario,
    windows: dict[str, int],
    *,
    seed: int,
    customers: int = 100_000,
    replications: int = 1,
) -> Crosscheck | None:
    """The busiest desk with Poisson arrivals and exponential service at its measured rates:
    the fast path's mean wait next to Erlang C's, over ``replications`` independent runs
    (seeds ``seed``, ``seed + 1``...), with an interval when there are several."""
    dem = max(desk_demand(scenario, seed), key=lambda d: float(d.service.sum()))
    c = windows[dem.department_id]
    lam = len(dem.arrivals) / dem.span_s
    mu = 1.0 / float(dem.service.mean())
    if lam >= c * mu:
        return None
    waits = []
    for r in range(replications):
        rng = np.random.default_rng(seed + r)
        a = np.cumsum(rng.exponential(1 / lam, customers))
        w = fcfs_waits(a, rng.exponential(1 / mu, customers), c)[customers // 10 :]
        waits.append(float(w.mean()) / 60)
    mean, ci = mean_interval(waits, "nonnegative", what="M/M/c simulated mean wait")
    return Crosscheck(
        dem.department_id, c, lam * 3600, 1 / mu / 60, mean, mmc_mean_wait(lam, mu, c) / 60, ci, replications
    )


def _fmt(e: Estimate, metric: str) -> str:
    if e.mean is None:
        return "—"
    scale, unit = (100.0, "%") if metric in SHARE_METRICS else (1.0, "")
    if e.lo is None or e.hi is None:
        return f"{e.mean * scale:.2f}{unit}"
    return f"{e.mean * scale:.2f} [{e.lo * scale:.2f}, {e.hi * scale:.2f}]{unit}"


def render_plan(table: PlanTable) -> str:
    cols = [
        m
        for m in ("wait_mean", "wait_p90", "wait_p95", "utilisation", *POST_METRICS, "overdue_rate")
        if table.rows and m in table.rows[0].metrics
    ]
    rows = [
        [str(r.level), *(_fmt(r.metrics[m], m) for m in cols), "yes" if r.meets else "no"] for r in table.rows
    ]
    lines = [
        f"{table.vary}: {len(table.rows)} levels x {table.replications} replications; "
        "mean [95 % interval: t cut to >= 0; overdue rate pooled, Wilson]; waits in working minutes",
        *with_header([table.vary, *cols, "meets"], rows, right=range(len(cols) + 1)),
    ]
    if table.smallest is None:
        lines.append(f"target {table.target}: no level meets it (upper interval bounds)")
    else:
        lines.append(f"target {table.target}: smallest level meeting it: {table.vary}={table.smallest}")
    return "\n".join(lines)


def plot_plan(table: PlanTable, targets: list[Target], out: Path, *, text: PlotText | None = None) -> Path:
    """Write ``out`` (PNG): mean and p90 wait with their intervals against the varied level.

    The varied path is drawn through ``text`` (:mod:`reports.render.plots.fonts`), so a
    Chinese name never turns into boxes on a machine without a CJK font."""
    text = text if text is not None else PlotText.lookup()
    with text.fonts():
        _plot(table, targets, out, text)
    text.warn(str(out))
    return out


def _plot(table: PlanTable, targets: list[Target], out: Path, text: PlotText) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [r.level for r in table.rows]
    fig, ax = plt.subplots(figsize=(7, 4))
    for m in ("wait_mean", "wait_p90"):
        mean = [r.metrics[m].mean or 0.0 for r in table.rows]
        ests = [r.metrics[m] for r in table.rows]
        lo = [float(e.lo if e.lo is not None else e.mean or 0.0) for e in ests]
        hi = [float(e.hi if e.hi is not None else e.mean or 0.0) for e in ests]
        ax.plot(x, mean, lw=1.2, label=m)
        ax.fill_between(x, lo, hi, alpha=0.25)
    for t in targets:
        if t.metric.startswith("wait"):
            ax.axhline(t.limit, color="r", ls="--", lw=0.8, label=f"target {t.metric}")
    if table.smallest is not None:
        ax.axvline(table.smallest, color="g", ls=":", lw=1, label="smallest meeting target")
    ax.set_xlabel(text(table.vary))
    ax.set_ylabel("working minutes")
    ax.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, metadata={"Software": None})
    plt.close(fig)
