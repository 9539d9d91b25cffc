"""Start, watch and stop a local cluster: NATS servers, ingest processes and engine workers.

``up`` writes ``D/config.json`` (ports, counts, tokens) and starts one supervisor process,
which starts every other process, creates the streams, writes ``D/cluster.json`` (role, pid
and ports of every process, the ingest URL) and restarts any process that dies, as an init
system would on a real host: a chaos test kills a process and measures how long the
cluster takes to be whole again. ``down`` asks the supervisor to stop everything.

Every wait has a deadline and names what never happened. Children get ``PR_SET_PDEATHSIG``
(Linux), so a supervisor killed with ``-9`` does not leave servers behind; ``down`` also
kills any pid still listed in ``cluster.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from functools import partial
from pathlib import Path

from engine.service.auth import TokenSpec, load_tokens
from engine.service.cluster.layout import (
    ClusterConfig,
    ClusterState,
    ProcessEntry,
    load_config,
    load_state,
    save_config,
    save_state,
)

__all__ = ["ClusterError", "Supervisor", "down", "free_ports", "is_cluster_process", "pid_alive", "up"]

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


class ClusterError(RuntimeError):
    """The cluster could not be started or stopped; the message says what and where its log is."""


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """``n`` distinct free ports of ``host`` (held open together, so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((host, 0))
            socks.append(s)
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def is_cluster_process(pid: int) -> bool:
    """True if ``pid`` runs a process of a cluster (guards against a pid reused since)."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"engine.service.cluster.run" in cmd or b"nats-server" in cmd


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status) == 200
    except Exception:
        return False


def wait_for(condition: Callable[[], bool], timeout: float, what: str, poll: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise ClusterError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)


class Supervisor:
    """Runs in its own process: owns the children, restarts the ones that die."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.dir = Path(config.dir)
        self.logs = self.dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.procs: dict[tuple[str, int], subprocess.Popen[bytes]] = {}
        self.entries: dict[tuple[str, int], ProcessEntry] = {}
        self.stopping = False
        self.ready = False

    def _command(self, role: str, index: int) -> list[str]:
        if role == "nats":
            from engine.service.cluster.jetstream import nats_server_binary, server_config

            conf = self.dir / "nats" / f"n{index}.conf"
            conf.parent.mkdir(parents=True, exist_ok=True)
            conf.write_text(server_config(self.config, index), encoding="utf-8")
            return [nats_server_binary(), "-c", str(conf)]
        module = "engine.service.cluster.run"
        return [sys.executable, "-m", module, role, "--dir", str(self.dir), "--index", str(index)]

    def _ports(self, role: str, index: int) -> dict[str, int]:
        c = self.config
        if role == "nats":
            return {
                "client": c.nats_ports[index],
                "route": c.route_ports[index],
                "monitor": c.monitor_ports[index],
            }
        if role == "ingest":
            return {"shared": c.port, "own": c.ingest_ports[index]}
        return {}

    def start(self, role: str, index: int) -> None:
        key = (role, index)
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[3])
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        with (self.logs / f"{role}-{index}.log").open("ab") as log:
            proc = subprocess.Popen(
                self._command(role, index), stdout=log, stderr=log, env=env, preexec_fn=_die_with_parent
            )
        self.procs[key] = proc
        old = self.entries.get(key)
        self.entries[key] = ProcessEntry(
            role=role, index=index, pid=proc.pid, ports=self._ports(role, index),
            restarts=old.restarts + 1 if old else 0, started=time.time(),
        )  # fmt: skip
        self.save()

    def save(self) -> None:
        state = ClusterState(
            ingest_url=self.config.ingest_url,
            supervisor_pid=os.getpid(),
            ready=self.ready,
            processes=sorted(self.entries.values(), key=lambda e: (e.role, e.index)),
            log_dir=str(self.logs),
        )
        save_state(self.dir, state)

    def _streams(self, timeout: float) -> None:
        from engine.service.cluster.jetstream import connect, ensure_streams

        async def go() -> None:
            nc = await connect(self.config.nats_urls, name="supsim-supervisor", timeout=timeout)
            try:
                deadline = time.monotonic() + timeout
                while True:
                    try:
                        await ensure_streams(nc.jetstream(timeout=5), self.config)
                        return
                    except Exception as exc:  # no meta leader yet
                        if time.monotonic() > deadline:
                            raise ClusterError(f"creating the streams failed: {exc!r}") from exc
                        await asyncio.sleep(0.3)
            finally:
                await nc.close()

        asyncio.run(go())

    def boot(self, timeout: float = 60.0) -> None:
        c = self.config
        for i in range(c.nats):
            self.start("nats", i)
        for i in range(c.nats):
            url = f"http://{c.host}:{c.monitor_ports[i]}/healthz"
            wait_for(partial(_http_ok, url), timeout, f"NATS server {i} (log {self.logs}/nats-{i}.log)")
        self._streams(timeout)
        for i in range(c.workers):
            self.start("worker", i)
        for i in range(c.ingest):
            self.start("ingest", i)
        for i in range(c.ingest):
            url = f"http://{c.host}:{c.ingest_ports[i]}/readyz"
            wait_for(partial(_http_ok, url), timeout, f"ingest process {i} (log {self.logs}/ingest-{i}.log)")
        self.ready = True
        self.save()
        logger.info("cluster ready at %s", c.ingest_url)

    def watch(self) -> None:
        """Restart whatever dies, until SIGTERM."""
        while not self.stopping:
            for (role, index), proc in list(self.procs.items()):
                code = proc.poll()
                if code is not None and not self.stopping:
                    logger.warning("%s %d (pid %d) exited with %s; restarting", role, index, proc.pid, code)
                    self.start(role, index)
            time.sleep(0.05)

    def stop(self, grace: float = 8.0) -> None:
        self.stopping = True
        self.ready = False
        for roles in (("ingest", "worker"), ("nats",)):
            group = [p for (r, _), p in self.procs.items() if r in roles and p.poll() is None]
            for p in group:
                p.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + grace
            for p in group:
                try:
                    p.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        self.save()


def run_supervisor(directory: str) -> int:
    config = load_config(directory)
    sup = Supervisor(config)

    def on_term(signum: int, frame: object) -> None:
        sup.stopping = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    try:
        sup.boot()
        sup.watch()
    except Exception:
        logger.exception("the cluster supervisor failed")
        return 1
    finally:
        sup.stop()
    return 0


def up(
    directory: str | Path,
    *,
    nats: int = 3,
    ingest: int = 1,
    workers: int = 2,
    port: int | None = None,
    partitions: int = 8,
    tokens: str | Path | None = None,
    rulebook: str | None = None,
    snapshot_every_s: float = 5.0,
    worker_lag_s: float = 10.0,
    timeout: float = 90.0,
    attached: bool = False,
) -> ClusterState:
    """Start a cluster in ``directory``; returns its state once every process is ready.

    ``attached`` ties the supervisor's life to the caller's (tests): it dies with it.
    """
    if not worker_lag_s > 0:
        raise ClusterError(f"--worker-lag must be a positive number of seconds, got {worker_lag_s:g}")
    d = Path(directory).resolve()
    d.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError, ValueError):
        if pid_alive(load_state(d).supervisor_pid):
            raise ClusterError(f"a cluster already runs in {d}; `supsim cluster down --dir {d}` first")
    tokens_path = Path(tokens).resolve() if tokens else d / "tokens.yaml"
    if tokens is None and not tokens_path.exists():
        from engine.service.config import write_tokens

        write_tokens(
            [
                TokenSpec(token=secrets.token_urlsafe(24), role="admin", name="cluster admin"),
                TokenSpec(token=secrets.token_urlsafe(24), role="supervisor", name="cluster supervisor"),
            ],
            tokens_path,
        )
    load_tokens(tokens_path)  # a bad file fails here, naming itself
    ports = free_ports(3 * nats + ingest + (0 if port else 1))
    n = nats
    config = ClusterConfig(
        dir=str(d), port=port or ports.pop(), nats=n, ingest=ingest, workers=workers, partitions=partitions,
        nats_ports=ports[0:n], route_ports=ports[n : 2 * n], monitor_ports=ports[2 * n : 3 * n],
        ingest_ports=ports[3 * nats : 3 * nats + ingest], tokens=str(tokens_path),
        rulebook=str(Path(rulebook).resolve()) if rulebook else None, snapshot_every_s=snapshot_every_s,
        worker_lag_s=worker_lag_s,
    )  # fmt: skip
    save_config(config)
    (d / "cluster.json").unlink(missing_ok=True)
    logs = d / "logs"
    logs.mkdir(exist_ok=True)
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[3])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    with (logs / "supervisor.log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "engine.service.cluster.run", "supervisor", "--dir", str(d)],
            stdout=log, stderr=log, env=env, start_new_session=not attached,
            preexec_fn=_die_with_parent if attached else None,
        )  # fmt: skip

    def ready() -> bool:
        if proc.poll() is not None:
            tail = (logs / "supervisor.log").read_text(errors="replace").splitlines()[-15:]
            raise ClusterError(f"the supervisor exited with {proc.returncode}:\n" + "\n".join(tail))
        try:
            return load_state(d).ready
        except (FileNotFoundError, ValueError):
            return False

    try:
        wait_for(ready, timeout, f"the cluster in {d} to be ready (logs in {logs})")
    except ClusterError:
        down(d)
        raise
    return load_state(d)


def down(directory: str | Path, timeout: float = 30.0) -> int:
    """Stop the cluster of ``directory``; returns how many processes had to be killed."""
    d = Path(directory)
    try:
        state = load_state(d)
    except FileNotFoundError:
        raise ClusterError(f"no cluster in {d} (no cluster.json)") from None
    if pid_alive(state.supervisor_pid) and is_cluster_process(state.supervisor_pid):
        os.kill(state.supervisor_pid, signal.SIGTERM)
        try:
            wait_for(lambda: not pid_alive(state.supervisor_pid), timeout, "the supervisor to stop")
        except ClusterError:
            logger.warning("the supervisor did not stop within %g s; killing it", timeout)
            with contextlib.suppress(ProcessLookupError):
                os.kill(state.supervisor_pid, signal.SIGKILL)
    killed = 0
    for entry in load_state(d).processes:
        if pid_alive(entry.pid) and is_cluster_process(entry.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(entry.pid, signal.SIGKILL)
                killed += 1
    return killed
