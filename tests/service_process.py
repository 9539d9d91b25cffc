"""A ``supsim serve`` process for tests: a free port of 127.0.0.1, a bounded ready wait, always stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["Server", "free_port", "serving"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A ``supsim serve`` process on a free port of 127.0.0.1; ``kill`` is SIGKILL (no clean shutdown)."""

    def __init__(
        self, config: Path, *, args: Sequence[str] = (), preexec: Callable[[], None] | None = None
    ) -> None:
        self.config = config
        self.args = list(args)  # more `supsim serve` options
        self.preexec = preexec  # run in the child before exec (e.g. a lower descriptor limit)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = config.with_name(f"serve-{self.port}.log")  # its stderr (the -v log), for failures

    def start(self, timeout: float = 30.0, *, ready: bool = True) -> None:
        """Start the process and wait for ``/readyz`` (``ready=False``: for any answer of it).

        Fails naming the cause and the log's tail.
        """
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        cmd = [sys.executable, "-m", "supsim", "-v", "serve", "--config", str(self.config),
               "--port", str(self.port), *self.args]  # fmt: skip
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd, env=env, stdout=subprocess.DEVNULL, stderr=log, preexec_fn=self.preexec
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"supsim serve exited with {self.proc.returncode}:\n{self._tail()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200 or not ready:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"supsim serve was not ready within {timeout:g} s:\n{self._tail()}")

    def _tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


@contextmanager
def serving(config: Path) -> Iterator[str]:
    """Start a service with ``config``, yield its base URL, kill it afterwards."""
    server = Server(config)
    try:
        server.start()
        yield server.url
    finally:
        server.kill()
