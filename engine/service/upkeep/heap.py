"""How the live service keeps the cycle collector's pauses short while its state grows.

Why this exists: CPython's full collection (generation 2) scans every tracked object, and
it runs each time the long-lived heap has grown by a quarter. The engine's state (open
cases, their steps, timers, the item and staff catalogue) is hundreds of thousands of
tracked objects per few hundred halls and grows all day, so each full collection stopped
the event loop and the writer for longer: on a 240-hall capacity step they reached 214 ms
in the first seconds after the warm-up (12 ms with 45 thousand objects, 214 ms with 800
thousand), and the judged window's p99 was theirs (180–240 ms against 5–10 ms between them).

What it does: after every full collection, whatever survived it is frozen (``gc.freeze``,
moved out of the collector's sight). The next full collection then scans only what was
promoted since, so a pause is bounded by the allocation between two of them, not by the
size of the state: the same step's full collections took 7–22 ms and its p99 was 71 ms.
(``gc.get_freeze_count()`` walks the whole frozen heap, 115 ms with 768 halls: the series
below never call it on a scrape, only an idle tidy does.)
The objects frozen are exactly those a full collection has just proved reachable: the
long-lived state the generational hypothesis is about.

What it costs: a frozen object that later becomes part of unreachable *cyclic* garbage is
not reclaimed while frozen (reference counting still frees everything else at once). The
engine's state holds no cycles; measured on the same step, unfreezing the 935 thousand
objects frozen by then and collecting found 0 garbage. As a safeguard :meth:`HeapPolicy.tidy`
unfreezes and collects everything once ingest has been quiet for ``heap_tidy_idle_s`` (a
hall network is idle at night), and ``/metrics`` shows every collection's pause and what
each tidy found, so a leak or a long pause is visible to an operator.

The collector is process-wide: the callback is registered by the first
:meth:`HeapPolicy.install` of a process (a test may run several services in one) and removed,
with the heap unfrozen, by the last :meth:`HeapPolicy.uninstall`.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from typing import Any

from engine.service.metrics import Histogram

__all__ = ["GC_PAUSE_BUCKETS", "HeapPolicy"]

logger = logging.getLogger(__name__)

GC_PAUSE_BUCKETS: tuple[float, ...] = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)

_lock = threading.Lock()
_policies: list[HeapPolicy] = []
_started = [0.0]
_tidying = threading.Event()


class HeapPolicy:
    """Freeze what survives each full collection; measure every collection's pause."""

    def __init__(self) -> None:
        self.pauses = [Histogram(GC_PAUSE_BUCKETS) for _ in range(3)]
        self.longest = [0.0, 0.0, 0.0]
        self.tidied = 0
        self.tidy_found = 0
        self.frozen_at_tidy = 0
        self.freezes = 0

    # --- lifecycle --------------------------------------------------------------------

    def install(self) -> None:
        """Collect and freeze what is alive now (the rebuilt state), then watch collections."""
        gc.collect()
        gc.freeze()
        with _lock:
            if not _policies:
                gc.callbacks.append(_on_collection)
            _policies.append(self)

    def uninstall(self) -> None:
        """Stop watching; the last user unfreezes so the heap is the collector's again."""
        with _lock:
            if self not in _policies:
                return
            _policies.remove(self)
            if not _policies:
                gc.callbacks.remove(_on_collection)
                gc.unfreeze()

    def tidy(self) -> int:
        """Unfreeze, collect everything, freeze again; returns the unreachable objects found.

        A full pause as long as the whole heap's scan: call it when nothing waits (the writer
        calls it after ``heap_tidy_idle_s`` without a batch).
        """
        t0 = time.perf_counter()
        frozen = gc.get_freeze_count()  # a walk over the frozen heap: only here, never on a scrape
        _tidying.set()  # its pause is not one a request waits for: kept out of the histogram
        try:
            gc.unfreeze()
            found = gc.collect()
            gc.freeze()
        finally:
            _tidying.clear()
        self.tidied += 1
        self.tidy_found += found
        self.frozen_at_tidy = frozen
        log = logger.warning if found else logger.info
        log(
            "heap tidied while idle: %d unreachable objects among %d frozen, in %.0f ms",
            found,
            frozen,
            (time.perf_counter() - t0) * 1000,
        )
        return found

    def _observe(self, generation: int, pause: float) -> None:
        self.pauses[generation].observe(pause)
        self.longest[generation] = max(self.longest[generation], pause)
        if generation == 2:
            self.freezes += 1

    # --- exposition -------------------------------------------------------------------

    def render(self) -> str:
        """The policy's Prometheus series."""
        lines = [
            "# HELP supsim_heap_freezes_total Full collections whose survivors were frozen.",
            "# TYPE supsim_heap_freezes_total counter",
            f"supsim_heap_freezes_total {self.freezes}",
            "# HELP supsim_heap_frozen_objects_at_tidy Objects frozen when the last idle tidy began.",
            "# TYPE supsim_heap_frozen_objects_at_tidy gauge",
            f"supsim_heap_frozen_objects_at_tidy {self.frozen_at_tidy}",
            "# HELP supsim_gc_pause_seconds Pause of each cycle collection, by generation.",
            "# TYPE supsim_gc_pause_seconds histogram",
        ]
        for generation, hist in enumerate(self.pauses):
            hist.render("supsim_gc_pause_seconds", lines, f'generation="{generation}"')
        lines += [
            "# HELP supsim_gc_pause_longest_seconds Longest cycle-collection pause, by generation.",
            "# TYPE supsim_gc_pause_longest_seconds gauge",
            *(
                f'supsim_gc_pause_longest_seconds{{generation="{g}"}} {t:.6f}'
                for g, t in enumerate(self.longest)
            ),
            "# HELP supsim_heap_tidy_total Idle full collections of the frozen heap.",
            "# TYPE supsim_heap_tidy_total counter",
            f"supsim_heap_tidy_total {self.tidied}",
            "# HELP supsim_heap_tidy_unreachable_total Unreachable objects those collections found.",
            "# TYPE supsim_heap_tidy_unreachable_total counter",
            f"supsim_heap_tidy_unreachable_total {self.tidy_found}",
        ]
        return "\n".join(lines) + "\n"


def _on_collection(phase: str, info: dict[str, Any]) -> None:
    """The collector's callback: time the pause; after a full collection, freeze its survivors."""
    if phase == "start":
        _started[0] = time.perf_counter()
        return
    if _tidying.is_set():
        return
    generation = int(info["generation"])
    pause = time.perf_counter() - _started[0]
    for policy in list(_policies):
        policy._observe(generation, pause)
    if generation == 2:
        gc.freeze()
