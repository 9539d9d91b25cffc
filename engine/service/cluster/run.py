"""Entry point of the cluster's processes: ``python -m engine.service.cluster.run ROLE --dir D [--index I]``.

Why one entry point with a role: the supervisor starts every Python process of the cluster
the same way, and a process reads everything else from ``D/config.json``.

An ingest process listens on two sockets: the cluster's shared port, opened with
``SO_REUSEPORT`` so that the kernel spreads connections over every live ingest process
(a killed one simply stops getting new connections), and its own port, for health checks.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys

from engine.service.cluster.layout import ClusterConfig, load_config

__all__ = ["main"]

logger = logging.getLogger(__name__)


def _socket(host: str, port: int, *, shared: bool) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((host, port))
    s.listen(2048)
    s.setblocking(False)
    return s


def _ingest(config: ClusterConfig, index: int) -> None:
    import uvicorn

    from engine.service.cluster.ingest_app import create_ingest_app

    sockets = [
        _socket(config.host, config.port, shared=True),
        _socket(config.host, config.ingest_ports[index], shared=False),
    ]
    server = uvicorn.Server(
        uvicorn.Config(
            create_ingest_app(config, index),
            loop="uvloop",
            http="httptools",
            access_log=False,
            log_level="warning",
            timeout_graceful_shutdown=3,
            lifespan="on",
        )
    )
    server.run(sockets=sockets)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m engine.service.cluster.run")
    p.add_argument("role", choices=["supervisor", "ingest", "worker"])
    p.add_argument("--dir", required=True)
    p.add_argument("--index", type=int, default=0)
    args = p.parse_args(argv)
    fmt = f"%(asctime)s {args.role}-{args.index} %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format=fmt)
    logging.getLogger("nats").setLevel(logging.CRITICAL)  # reconnects are routine here; ours say enough
    if args.role == "supervisor":
        from engine.service.cluster.supervisor import run_supervisor

        return run_supervisor(args.dir)
    config = load_config(args.dir)
    if args.role == "ingest":
        _ingest(config, args.index)
        return 0
    from engine.service.cluster.worker import run_worker

    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(run_worker(config, args.index))
    return 0


if __name__ == "__main__":
    sys.exit(main())
