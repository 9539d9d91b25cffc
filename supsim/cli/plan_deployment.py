"""``supsim plan deployment NETWORK.yaml --capacity FILE``: processes a network needs at its peak.

Why a second word under ``plan`` rather than a flag: ``supsim plan SCENARIO --target --vary``
sizes a hall's staff and keeps its command line; sizing a deployment takes a network and a
measured capacity instead. :func:`route` turns ``plan deployment`` into the hidden command
``plan-deployment`` before parsing, so both read naturally and neither constrains the other
(a scenario file called ``deployment`` is written ``./deployment``).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from supsim.experiments.deployment.cluster_check import ClusterCheckOptions

__all__ = ["COMMAND", "register", "route"]

#: The parser's name for ``plan deployment``.
COMMAND = "plan-deployment"


def route(argv: Sequence[str]) -> list[str]:
    """``argv`` with ``plan deployment`` (after any global options) as :data:`COMMAND`."""
    args = list(argv)
    first = next((k for k, a in enumerate(args) if not a.startswith("-")), None)
    if first is not None and args[first] == "plan" and args[first + 1 : first + 2] == ["deployment"]:
        args[first : first + 2] = [COMMAND]
    return args


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {value:g}")
    return value


def _headroom(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {value:g}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _compression(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value:g}")
    return value


def _cmd(args: argparse.Namespace) -> int:
    from supsim.cli.calendar import calendar_override
    from supsim.experiments.deployment.plan import plan_deployment, plan_json, render_deployment
    from supsim.experiments.progress import Progress
    from supsim.experiments.run_folder import write_json

    path = Path(args.network)
    out = Path(args.out) if args.out else Path("runs") / f"plan-deployment-{path.stem}"
    through = None
    if args.check_cluster:
        through = _cluster_options(args, out)
    elif args.cluster_dir:
        raise SystemExit("supsim: error: --cluster-dir is only used with --check-cluster")
    bars: dict[str, Progress] = {}
    with ExitStack() as stack:

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in bars:
                bars[phase] = stack.enter_context(Progress(f"deployment: {phase}", unit="hall", total=total))
            bars[phase].update_to(done, total)

        plan = plan_deployment(
            path,
            Path(args.capacity),
            nats_capacity_path=Path(args.nats_capacity) if args.nats_capacity else None,
            headroom=args.headroom,
            sample=args.sample,
            days=args.days,
            workers=args.workers if args.workers is not None else (os.cpu_count() or 1),
            check_fraction=args.check_fraction if args.check else None,
            cluster_check=through,
            calendar=calendar_override(args),
            progress=progress,
        )
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "deployment.json", plan_json(plan))
    print(render_deployment(plan))
    print(f"\noutputs in {out}/ : deployment.json")
    return 0 if plan.cluster_check is None or plan.cluster_check.ok else 1


def _cluster_options(args: argparse.Namespace, out: Path) -> ClusterCheckOptions:
    """The check through a cluster: a given one must be running, checked before any simulation."""
    from supsim.cli.extras import require
    from supsim.experiments.deployment.cluster_check import ClusterCheckOptions

    require("nats", "uvicorn", "starlette", "cloudpickle", "httpx")
    if args.cluster_dir:
        from engine.service.cluster.layout import load_state
        from engine.service.cluster.supervisor import pid_alive

        d = Path(args.cluster_dir)
        try:
            state = load_state(d)
        except (FileNotFoundError, ValueError) as exc:
            raise SystemExit(f"supsim: error: {d / 'cluster.json'}: no cluster state ({exc}); "
                             f"start one with `supsim cluster up --dir {d}`") from exc  # fmt: skip
        if not pid_alive(state.supervisor_pid):
            raise SystemExit(
                f"supsim: error: {d / 'cluster.json'}: the cluster's supervisor ({state.supervisor_pid}) "
                f"is not running; `supsim cluster up --dir {d}`"
            )
    return ClusterCheckOptions(
        fraction=args.check_fraction, minutes=args.check_minutes, compression=args.check_compression,
        directory=Path(args.cluster_dir or out / "cluster").resolve(), started_here=not args.cluster_dir,
    )  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``plan deployment`` (routed by :func:`route`) to the ``supsim`` command line."""
    p = subparsers.add_parser(
        COMMAND,
        prog="supsim plan deployment",
        description="How many ingest processes, engine workers and NATS servers a network of halls needs "
        "at its peak, with headroom and with one node lost (docs/scale.md, 'Sizing a deployment').",
    )
    p.add_argument("network", help="network scenario YAML file (a top-level `network:` key)")
    p.add_argument(
        "--capacity",
        required=True,
        metavar="FILE",
        help="measured node capacity: JSON with events_per_s_carried (the halls-per-node search) "
        "or node_events_per_s",
    )
    p.add_argument(
        "--nats-capacity",
        default=None,
        metavar="FILE",
        help="JSON with cluster_ingest_events_per_s (the cluster bench) or nats_events_per_s; "
        "default: read from --capacity if there, else the node figure",
    )
    p.add_argument(
        "--headroom", type=_headroom, default=0.3, help="share of each process kept free (default 0.3)"
    )
    p.add_argument(
        "--sample", type=_positive, default=2, help="halls simulated per level and camera flag (default 2)"
    )
    p.add_argument("--days", type=_positive, default=None, help="simulate N days instead of the scenario's")
    p.add_argument(
        "--workers", type=_positive, default=None, help="simulation processes (default: all cores)"
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="also simulate a scaled-down network and report measured vs predicted load per process",
    )
    p.add_argument(
        "--check-fraction",
        type=_fraction,
        default=0.02,
        help="share of each level's halls in the check (default 0.02 = 1/50, at least one hall a level)",
    )
    p.add_argument(
        "--check-cluster",
        action="store_true",
        help="also replay a scaled-down network's peak through a local cluster (3 NATS servers, the plan's "
        "ingest processes and workers capped at the cores) and report measured vs predicted per process",
    )
    p.add_argument(
        "--cluster-dir",
        default=None,
        metavar="D",
        help="with --check-cluster: use the running cluster of `supsim cluster up --dir D` (left running) "
        "instead of starting one in OUT/cluster",
    )
    p.add_argument(
        "--check-minutes",
        type=_positive,
        default=10,
        help="with --check-cluster: minutes of event time replayed from the busiest minute (default 10)",
    )
    p.add_argument(
        "--check-compression",
        type=_compression,
        default=10.0,
        help="with --check-cluster: events sent at this many times event time (default 10)",
    )
    p.add_argument("--out", default=None, help="output folder (default: runs/plan-deployment-<network>)")
    from supsim.cli.calendar import add_calendar_options

    add_calendar_options(p)
    p.set_defaults(func=_cmd)
