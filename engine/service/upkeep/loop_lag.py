"""How late the event loop runs what is due: the wait a request has before its handler starts.

Why: the server's request histogram (``supsim_ingest_request_seconds``) starts when a
handler is entered. Near the capacity of a core, requests that have arrived wait in the
event loop first, behind the callbacks already queued. At 80 % of the probed durable rate
(single-event POSTs, one process on one core) the clients' p99 was 105–817 ms while that
histogram's p99 stayed at or under 30 ms, so the wait was invisible to an operator.

What it does: a task asks to wake every ``every_s`` and records how late it woke. The wake
is a callback queued behind whatever else is ready, so its lateness is the queueing delay a
request arriving at the same instant would see before the loop reads it. The cost is one
timer callback per tick (20 a second by default). The longest lag is kept too; a node's
merge takes the longest of its processes.
"""

from __future__ import annotations

import asyncio
import contextlib

from engine.service.metrics import Histogram

__all__ = ["LAG_BUCKETS", "LoopLag"]

#: Upper bounds (seconds) of the lag histogram's buckets.
LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class LoopLag:
    """The event loop's lateness, sampled every ``every_s`` seconds while started."""

    def __init__(self, every_s: float = 0.05) -> None:
        if every_s <= 0:
            raise ValueError(f"every_s must be positive, got {every_s}")
        self.every_s = every_s
        self.lag = Histogram(LAG_BUCKETS)
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin sampling on the running loop (a second call does nothing)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def observe(self, late_s: float) -> None:
        late_s = max(0.0, late_s)
        self.lag.observe(late_s)
        self.longest = max(self.longest, late_s)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.every_s
            await asyncio.sleep(self.every_s)
            self.observe(loop.time() - due)

    def render(self) -> str:
        """The probe's Prometheus series."""
        lines = [
            "# HELP supsim_event_loop_lag_seconds How late the event loop woke a task due every tick.",
            "# TYPE supsim_event_loop_lag_seconds histogram",
        ]
        self.lag.render("supsim_event_loop_lag_seconds", lines)
        lines += [
            "# HELP supsim_event_loop_lag_longest_seconds The longest such lateness since the start.",
            "# TYPE supsim_event_loop_lag_longest_seconds gauge",
            f"supsim_event_loop_lag_longest_seconds {self.longest:.6f}",
        ]
        return "\n".join(lines) + "\n"
