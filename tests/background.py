"""Commands a test starts in the background, as a reader would in a second terminal.

Shared by the tests that run documented commands (the tutorials, the README's tour): wait until
a started service answers, and stop every process a command started, its children included.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterable

import httpx

__all__ = ["stop_all", "wait_answers"]


def wait_answers(proc: subprocess.Popen[bytes], url: str, what: str, deadline_s: float = 60.0) -> None:
    """Poll ``url`` until it answers 200; fail naming ``what`` if ``proc`` exits or the deadline passes."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        assert proc.poll() is None, f"{what}: exited with {proc.returncode}"
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what}: {url} not ready within {deadline_s:.0f} s")


def stop_all(procs: Iterable[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process group (started with ``start_new_session=True``), SIGKILL if it lingers."""
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
