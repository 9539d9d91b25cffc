"""``supsim plan deployment``: a network's peak load, the processes that carry it, the self-check.

Ties the three steps together and renders them: the peak estimated from the network's own
halls (:mod:`~supsim.experiments.deployment.load`), the process counts
(:mod:`~supsim.experiments.deployment.sizing`) from a measured capacity
(:mod:`~supsim.experiments.deployment.capacity`), and, on request, the scaled-down check
(:mod:`~supsim.experiments.deployment.check`) or the same kind of network replayed through a
local cluster (:mod:`~supsim.experiments.deployment.cluster_check`). The JSON written holds every input that
decided a number: the scenario and seed, the halls sampled per stratum, the capacity file,
field and figure, the headroom.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from engine.contract.holidays import CalendarOverride
from sim.common.scenario import ScenarioError
from sim.network.layout import layout_halls
from sim.network.scenario import is_network_file, load_network
from supsim.experiments.deployment.capacity import Capacity, read_capacity
from supsim.experiments.deployment.check import CheckResult, run_check
from supsim.experiments.deployment.cluster_check import (
    ClusterCheckOptions,
    ClusterCheckResult,
    render_cluster_check,
    run_cluster_check,
)
from supsim.experiments.deployment.load import NetworkLoad, estimate_load, predicted_peaks
from supsim.experiments.deployment.sizing import Role, Sizing, size_deployment
from supsim.experiments.deployment.table import table as _table

__all__ = ["DeploymentPlan", "plan_deployment", "plan_json", "render_deployment"]


class DeploymentPlan(msgspec.Struct, frozen=True, kw_only=True):
    scenario: str
    scenario_file: str
    seed: int
    load: NetworkLoad
    capacity: Capacity
    sizing: Sizing
    check: CheckResult | None = None
    cluster_check: ClusterCheckResult | None = None


def plan_deployment(
    path: Path,
    capacity_path: Path,
    *,
    nats_capacity_path: Path | None = None,
    headroom: float = 0.3,
    sample: int = 2,
    days: int | None = None,
    workers: int = 1,
    check_fraction: float | None = None,
    cluster_check: ClusterCheckOptions | None = None,
    calendar: CalendarOverride | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> DeploymentPlan:
    """Estimate, size and (with ``check_fraction``) check; errors name the file and field.

    ``progress(phase, done, total)`` sees halls simulated, phase ``sample`` then ``check``.

    The capacity file is read first: a bad one fails before minutes of simulation.
    """
    capacity = read_capacity(capacity_path, nats_capacity_path)
    if not is_network_file(path):
        raise ScenarioError(
            str(path),
            [("$.network", "not a network scenario (no top-level `network:` key); see docs/scale.md")],
        )
    net = load_network(path, calendar=calendar)
    if days is not None:
        net = msgspec.structs.replace(net, days=days)
    halls = layout_halls(net)

    def step(name: str) -> Callable[[int, int], None] | None:
        return None if progress is None else (lambda done, total: progress(name, done, total))

    load = estimate_load(net, halls, sample=sample, workers=workers, progress=step("sample"))
    sizing = size_deployment(
        hall_peaks=predicted_peaks(net, halls, load),
        busiest_hall_events_per_s=load.busiest_hall_events_per_s,
        capacity=capacity,
        headroom=headroom,
    )
    check = None
    if check_fraction is not None:
        check = run_check(
            net, halls, load, sizing, fraction=check_fraction,
            rulebook=str(path.parent / net.rulebook), workers=workers, progress=step("check"),
        )  # fmt: skip
    through_cluster = None
    if cluster_check is not None:
        o = cluster_check
        through_cluster = run_cluster_check(
            net, halls, load, sizing, fraction=o.fraction, minutes=o.minutes, compression=o.compression,
            rulebook=str(path.parent / net.rulebook), directory=o.directory, started_here=o.started_here,
            workers=workers,
        )  # fmt: skip
    return DeploymentPlan(
        scenario=net.name,
        scenario_file=str(path),
        seed=net.seed,
        load=load,
        capacity=capacity,
        sizing=sizing,
        check=check,
        cluster_check=through_cluster,
    )


def plan_json(plan: DeploymentPlan) -> dict[str, Any]:
    """The plan as the JSON document written to ``deployment.json`` (derived totals included)."""
    out: dict[str, Any] = msgspec.to_builtins(plan)
    out["load"]["peak_events_per_s"] = plan.load.peak_events_per_s
    out["load"]["busiest_hall_events_per_s"] = plan.load.busiest_hall_events_per_s
    out["load"]["levels"] = [
        {"level": level, "halls": n, "peak_events_per_s": eps} for level, n, eps in plan.load.levels()
    ]
    for stratum, s in zip(out["load"]["strata"], plan.load.strata, strict=True):
        stratum["peak_events_per_s"] = s.peak_events_per_s
    if plan.cluster_check is not None:
        out["cluster_check"]["ok"] = plan.cluster_check.ok
    return out


def _role_row(name: str, r: Role) -> list[str]:
    return [
        name,
        f"{r.usable_events_per_s:,.1f}",
        f"{r.load_per_process_events_per_s:,.1f}",
        f"{r.count:,}",
        f"{r.count_one_node_lost:,}",
    ]


def _render_check(c: CheckResult) -> list[str]:
    levels = ", ".join(f"{n} {level}" for level, n in c.halls_per_level.items())
    lines = [
        "",
        f"self-check: a scaled-down network of {c.halls} halls ({c.fraction:g} of each level, at least one: "
        f"{levels}), every hall simulated ({c.events:,} events), the engine timed over each hall",
        f"  network peak: predicted {c.predicted_peak_events_per_s:,.1f} events/s, measured "
        f"{c.measured_peak_events_per_s:,.1f} (sum of the halls' busiest minutes; "
        f"{c.measured_peak_events_per_s / c.predicted_peak_events_per_s - 1:+.0%}), "
        f"busiest minute of all halls together {c.measured_coincident_events_per_s:,.1f}",
        f"  dealt over the plan's {c.ingest} ingest process(es), {c.workers} worker(s) and {c.partitions} "
        f"partitions; the engine took {c.engine_us_per_event:,.1f} µs of CPU per event",
    ]
    ingest = [p for p in c.processes if p.role == "ingest"]
    shown = [*ingest[:1], *(p for p in c.processes if p.role != "ingest")]  # ingest rows are all alike
    rows = [
        [
            f"ingest (each of {len(ingest)})" if p.role == "ingest" else f"{p.role} {p.index}",
            f"{p.halls:,}",
            f"{p.predicted_events_per_s:,.2f}",
            f"{p.measured_events_per_s:,.2f}",
            f"{p.measured_coincident_events_per_s:,.2f}",
            "" if p.engine_events_per_cpu_s is None else f"{p.engine_events_per_cpu_s:,.0f}",
        ]
        for p in shown
    ]
    headers = ["process", "halls", "predicted ev/s", "measured ev/s", "busiest minute", "engine ev/CPU-s"]
    lines += ["  " + row for row in _table(headers, rows)]
    lines.append(
        "  ingest: an even share of the network (connections spread by the kernel, not measured); "
        "workers: halls dealt by crc32(hall) mod partitions. Not covered: NATS, the ingest processes' "
        "own CPU, latencies (see docs/scale.md)."
    )
    return lines


def render_deployment(plan: DeploymentPlan) -> str:
    """The terminal report: load per level, processes per kind, assumptions, warnings, check."""
    load, s, cap = plan.load, plan.sizing, plan.capacity
    rows = [[level, f"{n:,}", f"{eps:,.1f}"] for level, n, eps in load.levels()]
    rows.append(["total", f"{load.halls:,}", f"{load.peak_events_per_s:,.1f}"])
    lines = [
        f"deployment for {plan.scenario} ({plan.scenario_file}, seed {plan.seed}): {load.halls:,} halls, "
        f"peak = the sum of each hall's busiest minute over {load.days} day(s), cameras included",
        *_table(["level", "halls", "peak events/s"], rows),
        f"busiest single minute of the network (coincident): "
        f"{load.coincident_peak_events_per_s:,.1f} events/s",
        "",
        f"sampled: {load.sample_per_stratum} hall(s) per level and camera flag, simulated over "
        f"{load.days} day(s) (reference data left out); peak = busiest minute of a hall",
        *_table(
            ["level", "cameras", "halls", "sampled", "peak/hall mean", "max", "events/hall"],
            [
                [st.level, "yes" if st.cameras else "no", f"{st.halls:,}", ", ".join(st.sampled),
                 f"{st.peak_per_hall_mean:,.2f}", f"{st.peak_per_hall_max:,.2f}",
                 f"{st.events_per_sampled_hall:,.0f}"]
                for st in load.strata
            ],
        ),
        "",
        *_table(
            ["process", "usable ev/s each", "load at peak", "count", "one node lost"],
            [_role_row("ingest", s.ingest), _role_row("engine worker", s.workers),
             _role_row(f"NATS server ({s.nats_groups} R3 group(s))", s.nats)],
        ),
        "load at peak: an even share for ingest processes and each R3 group, the busiest worker's "
        "halls for workers (halls dealt by crc32(hall) mod partitions, partition mod workers)",
        f"cluster partitions: {s.partitions} (`supsim cluster up --partitions`), 4 per worker of the "
        "N+1 count",
        "",
        f"assumptions: node capacity {cap.node.events_per_s:,.1f} events/s from {cap.node.file} "
        f"({cap.node.field}); headroom {s.headroom:.0%}; one process per node",
        "NATS: " + (
            f"{cap.nats.events_per_s:,.1f} events/s per R3 group from {cap.nats.file} ({cap.nats.field})"
            if cap.nats is not None else "not measured; the node figure stands in"
        ),
        *(f"warning: {w}" for w in s.warnings),
    ]  # fmt: skip
    if plan.check is not None:
        lines += _render_check(plan.check)
    if plan.cluster_check is not None:
        lines += render_cluster_check(plan.cluster_check)
    return "\n".join(lines)
