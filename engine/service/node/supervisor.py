"""Start the N processes of a node, restart one that dies, stop them all on SIGTERM or Ctrl-C.

Why a parent that only watches: each process is a complete service that opens its own log
and sockets, so the parent holds no state and a restart is the same start as the first.
A killed process leaves the others serving their halls (their acknowledged events are in
their own logs); the node is unready (``/readyz`` names the missing process) until it is
back. Children get ``PR_SET_PDEATHSIG`` (Linux), so a parent killed with ``-9`` does not
leave them behind.
"""

from __future__ import annotations

import ctypes
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

__all__ = ["run_node"]

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the parent dies (Linux; elsewhere a no-op)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def run_node(
    child_argv: Sequence[Sequence[str]], *, restart_delay_s: float = 1.0, poll_s: float = 0.2
) -> int:
    """Run one child per ``child_argv`` until SIGTERM/SIGINT; a child that exits is started again.

    Returns 0 after a requested stop. A child that exits within a second of its start twice
    in a row (a bad config, a port taken) stops the node with its exit code: restarting it
    would only repeat the failure.
    """
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    old = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    procs: list[subprocess.Popen[bytes]] = []
    started: list[float] = []
    quick: list[int] = []
    code = 0
    try:
        for argv in child_argv:
            procs.append(subprocess.Popen(list(argv), preexec_fn=_die_with_parent))
            started.append(time.monotonic())
            quick.append(0)
        while not stopping:
            time.sleep(poll_s)
            for i, proc in enumerate(procs):
                if stopping or proc.poll() is None:
                    continue
                lived = time.monotonic() - started[i]
                quick[i] = quick[i] + 1 if lived < 1.0 else 0
                if quick[i] >= 2:
                    logger.error(
                        "process %d of the node exited with %s twice at start; stopping", i, proc.returncode
                    )
                    code = proc.returncode or 1
                    stopping = True
                    break
                logger.warning("process %d of the node exited with %s; restarting it", i, proc.returncode)
                time.sleep(restart_delay_s)
                procs[i] = subprocess.Popen(list(child_argv[i]), preexec_fn=_die_with_parent)
                started[i] = time.monotonic()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 10
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.error("process %d did not stop within 10 s; killing it", proc.pid)
                proc.kill()
                proc.wait(5)
        for s, handler in old.items():
            signal.signal(s, handler)
    return code
