"""``supsim cluster up|down|status|chaos``: the distributed deployment on a local NATS JetStream cluster.

Why a companion ``chaos`` command rather than a flag of ``loadtest``: a chaos run must know
the cluster's processes (to kill them and watch them come back) and must wait for the
asynchronous workers before it compares alerts; Locust's open-model latency verdict means
little while processes are being killed. ``supsim loadtest --host <ingest URL>`` still
drives the cluster like any deployment (same API), for latency and throughput.

Everything binds 127.0.0.1. The cluster's extras: ``pip install 'supsim[cluster]'``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path

import msgspec

from supsim.cli.extras import require

__all__ = ["register"]


def _up(args: argparse.Namespace) -> int:
    require("nats", "uvicorn", "starlette", "cloudpickle")
    from engine.service.cluster.supervisor import up

    state = up(
        args.dir, nats=args.nats, ingest=args.ingest, workers=args.workers, port=args.port,
        partitions=args.partitions, tokens=args.tokens, rulebook=args.rulebook, worker_lag_s=args.worker_lag,
    )  # fmt: skip
    d = Path(args.dir)
    roles = ", ".join(f"{r} ×{len(state.pids(r))}" for r in ("nats", "ingest", "worker"))
    print(f"supsim cluster: {roles} up; ingest {state.ingest_url}")
    print(f"  processes: {d / 'cluster.json'}   logs: {state.log_dir}")
    print(f"  tokens: {args.tokens or d / 'tokens.yaml'}   stop: supsim cluster down --dir {args.dir}")
    return 0


def _down(args: argparse.Namespace) -> int:
    from engine.service.cluster.supervisor import down

    killed = down(args.dir)
    print(f"supsim cluster: stopped{f' ({killed} process(es) killed)' if killed else ''}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from engine.service.cluster.layout import load_state
    from engine.service.cluster.supervisor import pid_alive

    state = load_state(args.dir)
    alive = pid_alive(state.supervisor_pid)
    print(f"supervisor {state.supervisor_pid}: {'running' if alive else 'gone'}; ingest {state.ingest_url}")
    for p in state.processes:
        ports = " ".join(f"{k}={v}" for k, v in p.ports.items())
        up = "up" if pid_alive(p.pid) else "down"
        print(f"  {p.role:<7}{p.index:>2}  pid {p.pid:<8} {up:<5} restarts {p.restarts}  {ports}")
    return 0 if alive else 1


def _chaos(args: argparse.Namespace) -> int:
    require("nats", "httpx")
    from engine.rules.rulebook import load_rulebook
    from engine.service.cluster.chaos import parse_chaos, run_chaos
    from loadtests.replay_plan import replicate, source_of
    from sim.common.scenario import load_scenario
    from sim.hall.world import simulate

    kills = parse_chaos(args.spec)  # a bad spec fails before the simulation
    scenario_path = Path(args.scenario)
    scenario = load_scenario(scenario_path)
    seed = scenario.seed if args.seed is None else args.seed
    world = simulate(scenario, seed=seed)
    events = world.events[: args.events] if args.events else world.events
    sources: dict[str, list[object]] = {}
    for copy in range(args.halls):
        for e in replicate(events, copy):
            sources.setdefault(source_of(e)[0], []).append(e)
    book = load_rulebook(args.rulebook or scenario.rulebook_path(scenario_path))
    report = asyncio.run(
        run_chaos(args.dir, sources, kills, duration_s=args.duration, batch=args.batch, rulebook=book)  # type: ignore[arg-type]
    )
    out = Path(args.out) if args.out else Path(args.dir) / "chaos.json"
    data = msgspec.to_builtins(report)
    data["ok"] = report.ok
    out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(
        f"events acknowledged {report.events_acknowledged:,} of {report.events_planned:,} "
        f"({report.resends} resends); lost {report.lost_events}; "
        f"stored duplicates {report.stored_duplicates}\n"
        f"alerts live {report.alerts_live:,}, in-process {report.alerts_reference:,}: missing "
        f"{report.alerts_missing}, extra {report.alerts_extra}, differing {report.alerts_differing}"
    )
    for k in report.kills:
        print(
            f"  kill -9 {k.role} {k.index} (pid {k.pid}) at {k.at_s:.1f} s: "
            f"restarted after {k.restarted_s} s, "
            f"whole after {k.recovered_s} s, first ack of a later batch after {k.first_ack_after_s} s"
        )
    print(f"{'PASS' if report.ok else 'FAIL'}; report {out}")
    return 0 if report.ok else 1


def _guarded(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A cluster or chaos-spec error as one line on stderr, exit 2 (no traceback)."""

    def run(args: argparse.Namespace) -> int:
        from engine.service.cluster.supervisor import ClusterError  # light: no optional module

        try:
            return fn(args)
        except ClusterError as exc:  # a ChaosError too
            print(f"supsim cluster: error: {exc}", file=sys.stderr)
            return 2

    return run


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``cluster`` (``up``, ``down``, ``status``, ``chaos``) to the ``supsim`` command line."""
    p = subparsers.add_parser("cluster", help="the distributed deployment on a local NATS JetStream cluster")
    sub = p.add_subparsers(dest="cluster_command", required=True, metavar="ACTION")
    u = sub.add_parser("up", help="start NATS servers, ingest processes and workers on 127.0.0.1")
    u.add_argument("--dir", required=True, help="cluster folder (config, cluster.json, data, logs)")
    u.add_argument("--nats", type=int, default=3, help="NATS servers (default 3; streams are R3 from 3)")
    u.add_argument("--ingest", type=int, default=1, help="ingest processes behind the one port (default 1)")
    u.add_argument("--workers", type=int, default=2, help="engine workers (default 2)")
    u.add_argument("--port", type=int, default=None, help="ingest port (default: a free one)")
    u.add_argument(
        "--partitions", type=int, default=8, help="hall partitions, fixed for the cluster (default 8)"
    )
    u.add_argument("--tokens", default=None, help="token YAML (default: demo tokens in DIR/tokens.yaml)")
    u.add_argument("--rulebook", default=None, help="rulebook YAML (default: the shipped default)")
    u.add_argument(
        "--worker-lag", type=float, default=10.0,
        help="seconds after which a worker whose status is older, or that is behind the stream, shows as "
        "lagging on the network board (default 10)",
    )  # fmt: skip
    u.set_defaults(func=_guarded(_up))
    d = sub.add_parser("down", help="stop the cluster of --dir")
    d.add_argument("--dir", required=True)
    d.set_defaults(func=_guarded(_down))
    s = sub.add_parser("status", help="list the cluster's processes")
    s.add_argument("--dir", required=True)
    s.set_defaults(func=_guarded(_status))
    c = sub.add_parser("chaos", help="replay a scenario while killing processes; check loss and alerts")
    c.add_argument("scenario", help="scenario YAML file")
    c.add_argument("--dir", required=True, help="folder of a running cluster (supsim cluster up)")
    c.add_argument(
        "--spec", default="nats@4,ingest@8,worker@12", help="kills, e.g. nats@4,ingest:0@8,worker:1@12"
    )
    c.add_argument("--duration", type=float, default=15.0, help="seconds over which the replay is spread")
    c.add_argument("--halls", type=int, default=4, help="copies of the scenario's halls (default 4)")
    c.add_argument("--events", type=int, default=None, help="only the first N events of the stream")
    c.add_argument("--batch", type=int, default=50, help="events per request (default 50)")
    c.add_argument("--rulebook", default=None, help="the cluster's rulebook (default: the scenario's)")
    c.add_argument("--seed", type=int, default=None)
    c.add_argument("--out", default=None, help="report file (default DIR/chaos.json)")
    c.set_defaults(func=_guarded(_chaos))
