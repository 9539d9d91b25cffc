"""Waiting in tests: every wait has a deadline and fails with a message that says what never happened.

Why: a test that polls ``while not ready: sleep()`` hangs the whole suite when the thing it
waits for is broken, and the run dies at the CI timeout with no hint of which test or which
condition. These helpers poll until a condition holds or a deadline passes, then fail the
test naming the condition and the time allowed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

__all__ = ["wait_ready", "wait_until", "wait_until_async"]


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, poll: float = 0.01) -> None:
    """Poll ``condition`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)


async def wait_until_async(
    condition: Callable[[], bool], *, timeout: float, what: str, poll: float = 0.01
) -> None:
    """:func:`wait_until` inside an event loop (sleeps without blocking the loop)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(poll)


def wait_ready(client: TestClient, *, timeout: float = 20.0) -> None:
    """Wait until the in-process service answers ``/readyz`` with 200 (its log replayed)."""
    wait_until(
        lambda: client.get("/readyz").status_code == 200,
        timeout=timeout,
        what="the service to report ready on /readyz",
    )
