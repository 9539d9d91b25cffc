"""The end of a capacity run's warm-up: when the deployment has applied the reference data.

Why a gate and not a fixed delay: a capacity run (``--from-busiest``) first sends each
hall's catalogue and staff authorisations, which the rules need. Their volume grows with the
number of halls (787 events a ``city_hall``), and applying them takes the service longer
than any fixed pause: with 50 halls a 3-second warm-up left the judged requests queued
behind it (p99 7.7 s), which measured the warm-up, not the peak. So the judged window opens
only once

* every warm-up send of this process is acknowledged (a 202 comes after the commit, so the
  events are then applied), and
* ``GET /v1/stats`` shows an empty ingest queue and at least the plan's warm-up events stored
  (this covers the other Locust processes, whose acknowledgements this one cannot see; the
  master, which replays nothing, waits on this condition alone),

or when ``max_s`` has passed (bounded: a deployment that never drains still gets its judged
window, and its latency then shows the backlog). Every process judges the same condition,
so their judged windows open within one poll interval of each other.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["WarmupGate", "drained", "warmup_events"]

logger = logging.getLogger(__name__)


def warmup_events(plan: Any) -> int:
    """Events the plan sends before its judged window (0 without a warm-up)."""
    if plan is None or not getattr(plan, "warmup_s", 0.0):
        return 0
    return sum(s.n for src in plan.sources for s in src.sends if s.at < plan.warmup_s)


def drained(stats: Mapping[str, Any], warm_events: int) -> bool:
    """True when ``/v1/stats`` shows the warm-up applied: queue empty, enough events stored."""
    return int(stats.get("queue_events", 1)) == 0 and int(stats.get("events_stored", 0)) >= warm_events


class WarmupGate:
    """Counts this process's sources through their warm-up, then waits for the deployment.

    ``fetch`` returns the parsed ``/v1/stats`` (or raises on any error, which counts as
    "not yet"); ``sleep`` and ``clock`` are injected so that the gate runs under gevent in
    Locust and with a fake clock in tests.
    """

    def __init__(
        self,
        sources: int,
        warm_events: int,
        *,
        max_s: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        poll_s: float = 0.2,
    ) -> None:
        self.left = sources
        self.warm_events = warm_events
        self.max_s = max_s
        self.poll_s = poll_s
        self._sleep = sleep
        self._clock = clock
        self.opened_at: float | None = None
        self.timed_out = False

    def source_done(self) -> None:
        """One of this process's sources has all its warm-up sends acknowledged (or gave up)."""
        self.left = max(self.left - 1, 0)

    def wait(self, fetch: Callable[[], Mapping[str, Any]]) -> float:
        """Block until the judged window may open; returns (and records) that instant."""
        deadline = self._clock() + self.max_s
        while self._clock() < deadline:
            if self.left == 0:
                try:
                    if drained(fetch(), self.warm_events):
                        break
                except Exception:  # a refused or slow stats call: poll again
                    logger.debug("warm-up stats poll failed; polling again", exc_info=True)
            self._sleep(self.poll_s)
        else:
            self.timed_out = True
        self.opened_at = self._clock()
        return self.opened_at
