"""``supsim serve``: run the reference deployment (the engine behind the HTTP service).

Why defaults that work alone: a QA engineer should get a working deployment with one
command. Without ``--config`` the service keeps its log in ``runs/service/supsim.db`` and
its demo tokens (one admin, one supervisor, random, created once) in
``runs/service/tokens.yaml``, prints them, and ``supsim loadtest`` finds them there.

Starlette and uvicorn come with the ``[live]`` extra; they are imported only when the command
runs, so the rest of the command line works without them.

Why the connection limits are set here: uvicorn bounds neither header nor body time nor
open connections; :mod:`engine.service.edge.protocol` adds them, and the soft descriptor limit
is raised to the hard one so that the connection bound, not the descriptor table, is what a
flood of connections meets first.

``--network FILE.yaml`` names the units of a network scenario on the centre's network board
(``GET /v1/board/network``): without it the board reads the tree off the hall ids alone
(they encode it), with it units have their names and levels, and a hall of the file that has
never sent an event is reported silent rather than unknown.

``--processes N`` runs N service processes, halls partitioned among them by a stable hash
(:mod:`engine.service.node`): each has its own log (``supsim-0of2.db`` … beside ``--db``),
all listen on ``--port`` (``SO_REUSEPORT``) and each on ``--peer-port`` + its index, where the
others hand it the events of its halls. Whole-node routes answer for every hall.

``--accept-log-loss`` is the operator's decision after the service reported, and refused to
become ready over, a log that holds less than it acknowledged (``/readyz`` says how much):
start once with it to go on with what the log holds.
"""

from __future__ import annotations

import argparse
import logging
import resource
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.service.centre.units import UnitTree
    from engine.service.node.layout import NodeLayout

__all__ = ["DEFAULT_DB", "DEFAULT_TOKENS", "register", "serve"]

logger = logging.getLogger(__name__)

DEFAULT_DB = "runs/service/supsim.db"
DEFAULT_TOKENS = "runs/service/tokens.yaml"


def serve(args: argparse.Namespace) -> int:
    import msgspec
    import uvicorn

    from engine.service.app import create_app
    from engine.service.config import demo_config, load_config
    from engine.service.edge.protocol import ConnectionLimits, guarded_protocol
    from supsim.cli.calendar import calendar_override

    if args.processes < 1:
        raise SystemExit(f"supsim serve: --processes must be at least 1 (got {args.processes})")
    child = args.process_index is not None
    if args.config:
        config = load_config(args.config)
        if args.db:
            config = msgspec.structs.replace(config, db=args.db)
    else:
        config = demo_config(Path(args.tokens), args.db or DEFAULT_DB)
        if not child:
            print(f"supsim serve: demo tokens (kept in {args.tokens}):")
            for spec in config.tokens:
                print(f"  {spec.role:<11} {spec.token}")
    if args.processes > 1 and not child:
        return _serve_node(args, config.db)
    if args.rulebook:
        config = msgspec.structs.replace(config, rulebook=args.rulebook)
    units = network_units(args.network) if args.network else None
    node = None
    if child:
        from engine.service.node.layout import NodeLayout, log_path

        node = NodeLayout(args.processes, args.process_index, args.host, args.port, _peer_base(args))
        config = msgspec.structs.replace(config, db=str(log_path(config.db, node.index, node.processes)))
    if (override := calendar_override(args)) is not None:
        cal = config.calendar
        cal = msgspec.structs.replace(
            cal,
            holidays=[*cal.holidays, *override.holidays],
            beyond_range=override.beyond_range or cal.beyond_range,
        )
        config = msgspec.structs.replace(config, calendar=cal)
    sockets = _bind(args, node)  # before the address is printed: a port in use is said instead
    if not child:
        print(
            f"supsim serve: log {config.db}; centre page http://{args.host}:{args.port}/ ; "
            f"ingest POST http://{args.host}:{args.port}/v1/events",
            flush=True,
        )
    logger.info(
        "starting the service on %s:%d (log %s, rulebook %s)",
        args.host, args.port, config.db, config.rulebook or "default",
    )  # fmt: skip
    limits = ConnectionLimits(
        head_timeout_s=config.head_timeout_s,
        body_timeout_s=config.body_timeout_s,
        max_head_bytes=config.max_head_bytes,
        max_connections=min(config.max_connections, _descriptors() - 64),
    )
    server_config = uvicorn.Config(
        create_app(config, accept_log_loss=args.accept_log_loss, units=units, node=node),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http=guarded_protocol(limits),
        access_log=False,
        log_level=args.log_level,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=int(max(1, config.keep_alive_s)),
        limit_concurrency=limits.max_connections + 64,
        h11_max_incomplete_event_size=config.max_head_bytes,  # if run with http="h11" instead
        backlog=256,
    )
    uvicorn.Server(server_config).run(sockets=sockets)
    logger.info("the service on %s:%d has stopped", args.host, args.port)
    return 0


def _peer_base(args: argparse.Namespace) -> int:
    return int(args.peer_port) if args.peer_port is not None else int(args.port) + 1


def _bind(args: argparse.Namespace, node: NodeLayout | None) -> list[socket.socket]:
    """The service's listening sockets, or exit naming the address that could not be had."""
    ports = [(args.port, node is not None)] + ([(node.peer_port(node.index), False)] if node else [])
    sockets = []
    for port, shared in ports:
        try:
            sockets.append(_listen(args.host, port, shared=shared))
        except OSError as exc:
            for sock in sockets:
                sock.close()
            raise SystemExit(
                f"supsim serve: cannot listen on {args.host}:{port}: {exc.strerror or exc}"
            ) from None
    return sockets


def _listen(host: str, port: int, *, shared: bool = False) -> socket.socket:
    """A listening socket; ``shared``: with ``SO_REUSEPORT``, so every process of the node binds it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(256)
    sock.set_inheritable(True)
    return sock


def _serve_node(args: argparse.Namespace, db: str) -> int:
    """Start ``--processes`` service processes (each this command with ``--process-index``)."""
    from engine.service.node.layout import NodeError, check_logs, log_path
    from engine.service.node.supervisor import run_node

    n = args.processes
    try:
        check_logs(db, n)
    except NodeError as exc:
        raise SystemExit(f"supsim serve: {exc}") from None
    base = _peer_base(args)
    print(
        f"supsim serve: {n} processes, logs {', '.join(str(log_path(db, i, n)) for i in range(n))}; "
        f"node http://{args.host}:{args.port}/ ; process i at port {base}+i; "
        f"partition map GET /v1/partitions",
        flush=True,
    )
    head = [
        sys.executable,
        "-m",
        "supsim",
        *(["-" + "v" * args.verbose] if getattr(args, "verbose", 0) else []),
        "serve",
    ]
    opts = ["--host", args.host, "--port", str(args.port), "--peer-port", str(base), "--processes", str(n),
            "--tokens", args.tokens, "--log-level", args.log_level]  # fmt: skip
    for flag, value in (("--config", args.config), ("--db", args.db), ("--rulebook", args.rulebook),
                        ("--network", args.network), ("--beyond-range", args.beyond_range)):  # fmt: skip
        if value:
            opts += [flag, value]
    for path in args.holidays:
        opts += ["--holidays", path]
    if args.accept_log_loss:
        opts.append("--accept-log-loss")
    return run_node([[*head, *opts, "--process-index", str(i)] for i in range(n)])


def network_units(path: str) -> UnitTree:
    """The units of a network scenario file, named and levelled, for the centre's network board."""
    from engine.service.centre.units import ROOT, UnitInfo, UnitTree
    from sim.network.layout import layout_halls
    from sim.network.scenario import load_network

    net = load_network(path)
    units = {
        h.hall_id: UnitInfo(name=h.unit, level=h.level, parent=h.parent or ROOT) for h in layout_halls(net)
    }
    return UnitTree(units, name=net.name)


def _descriptors() -> int:
    """Raise the soft descriptor limit to the hard one; returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=None, help="service config YAML (tokens, bounds, rulebook)")
    p.add_argument("--db", default=None, help=f"SQLite log file (default {DEFAULT_DB})")
    p.add_argument("--rulebook", default=None, help="rulebook YAML (default: the shipped default)")
    p.add_argument(
        "--network",
        default=None,
        metavar="FILE.yaml",
        help="network scenario whose units the centre's network board names (default: read off hall ids)",
    )
    p.add_argument("--tokens", default=DEFAULT_TOKENS, help="demo token file used without --config")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--processes",
        type=int,
        default=1,
        help="service processes on this node, halls partitioned among them (default 1)",
    )
    p.add_argument(
        "--peer-port",
        type=int,
        default=None,
        help="with --processes: process i also listens on this port + i (default --port + 1)",
    )
    p.add_argument("--process-index", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument(
        "--accept-log-loss",
        action="store_true",
        help="go on with a log that holds fewer events than were acknowledged (after /readyz reported it)",
    )
    p.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )
    from supsim.cli.calendar import add_calendar_options

    add_calendar_options(p)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``serve`` to the ``supsim`` command line."""
    p = subparsers.add_parser(
        "serve", help="run the live deployment: HTTP ingest, alerts, metrics, centre page"
    )
    _add_arguments(p)
    p.set_defaults(func=serve)
