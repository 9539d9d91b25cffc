"""``supsim plan``: size a hall's windows (and posts) against a service target.

Thin shell over :mod:`supsim.experiments.staffing_plan`: prints the sizing table and the Erlang C cross-check,
writes ``plan.json`` and ``plan.png``; with ``--engine-bench`` also sizes the engine
cluster for ``--halls`` halls from a measured per-node throughput.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import msgspec

__all__ = ["register"]


def _cmd_plan(args: argparse.Namespace) -> int:
    from sim.common.scenario import load_scenario
    from supsim.cli.calendar import calendar_override, horizon_note
    from supsim.experiments.staffing_plan import (
        level_scenario,
        mmc_crosscheck,
        parse_target,
        parse_vary,
        plot_plan,
        render_plan,
        run_plan,
    )

    scenario = load_scenario(args.scenario, calendar=calendar_override(args))
    targets = parse_target(args.target)
    key, levels = parse_vary(args.vary)
    from supsim.experiments.progress import Progress

    with Progress("plan", unit="level", total=len(levels)) as bar:
        table = run_plan(
            scenario, key, levels, targets, replications=args.replications, simpy=args.simpy,
            progress=bar.update_to,
        )  # fmt: skip
    out = Path(args.out) if args.out else Path("runs") / f"plan-{Path(args.scenario).stem}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "plan.json").write_bytes(msgspec.json.format(msgspec.json.encode(table), indent=2) + b"\n")
    plot_plan(table, targets, out / "plan.png")
    print(render_plan(table))
    if note := horizon_note(scenario):
        print(note)
    level = table.smallest if table.smallest is not None else levels[-1]
    sc = level_scenario(scenario, key, level)
    windows = {d.id: d.windows for h in sc.halls for d in h.departments}
    check = mmc_crosscheck(sc, windows, seed=scenario.seed, replications=max(args.replications, 2))
    if check is not None:
        lo, hi = check.simulated_ci_min or (math.nan, math.nan)
        inside = "inside" if lo <= check.erlang_c_wait_min <= hi else "OUTSIDE"
        print(
            f"M/M/c cross-check at {key}={level}, desk {check.department} ({check.windows} windows, "
            f"{check.lam_per_h:.1f}/h, mean service {check.mean_service_min:.1f} min): simulated mean wait "
            f"{check.simulated_wait_min:.3f} min [{lo:.3f}, {hi:.3f}] over {check.replications} "
            f"replications, Erlang C {check.erlang_c_wait_min:.3f} min ({inside} the interval)"
        )
    if args.engine_bench:
        from sim.hall.world import simulate
        from supsim.experiments.deployment.node_sizing import (
            engine_nodes,
            peak_rate_per_hall,
            read_throughput,
        )

        node_eps = read_throughput(args.engine_bench)
        peak = peak_rate_per_hall(simulate(scenario).events) + args.cameras * args.camera_eps
        nodes = engine_nodes(halls=args.halls, peak_per_hall=peak, node_eps=node_eps, headroom=args.headroom)
        print(
            f"engine sizing: peak {peak:.2f} events/s per hall (busiest minute"
            f"{f' + {args.cameras} cameras' if args.cameras else ''}), {args.halls} halls, "
            f"{node_eps:,.0f} events/s per node, {args.headroom:.0%} headroom -> {nodes} node(s)"
        )
    print(f"\noutputs in {out}/ : plan.json, plan.png")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``plan`` to the ``supsim`` command line."""
    p = subparsers.add_parser(
        "plan",
        help="size windows/posts against a wait target; `plan deployment`: a network's processes",
        epilog="supsim plan deployment NETWORK.yaml --capacity FILE sizes a network's deployment "
        "(see `supsim plan deployment --help`).",
    )
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--target", required=True, help='e.g. "wait_p90<=15min, overdue_rate<=0.5%%"')
    p.add_argument(
        "--vary", required=True, help="windows=A..B[:STEP] | windows.<dept>=A..B | posts.<post>=A..B"
    )
    p.add_argument("--replications", type=int, default=5)
    p.add_argument(
        "--simpy", action="store_true", help="replay the queues with SimPy instead of the fast path"
    )
    p.add_argument("--out", default=None, help="output folder (default: runs/plan-<scenario>)")
    p.add_argument(
        "--engine-bench", default=None, metavar="FILE", help="JSON result with events_per_s per node"
    )
    p.add_argument("--halls", type=int, default=1, help="halls in the network (engine sizing)")
    p.add_argument("--cameras", type=int, default=0, help="cameras per hall (engine sizing)")
    p.add_argument(
        "--camera-eps", type=float, default=0.2, help="events/s per camera at peak (engine sizing)"
    )
    p.add_argument(
        "--headroom", type=float, default=0.3, help="share of node capacity kept free (default 0.3)"
    )
    from supsim.cli.calendar import add_calendar_options

    add_calendar_options(p)
    p.set_defaults(func=_cmd_plan)
