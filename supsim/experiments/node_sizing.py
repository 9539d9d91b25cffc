"""Engine sizing: how many engine nodes a network of halls needs at peak.

Inputs a planner can defend: a *measured* per-node throughput (events per second, read
from a benchmark or load-test result file), the peak event rate of one hall (measured on a
simulated stream: the busiest minute), the number of halls, and a headroom share kept free
for bursts and failover. Nodes = ceil(halls × peak per hall / (throughput × (1 − headroom))).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine.contract.events import Event

__all__ = ["engine_nodes", "peak_rate_per_hall", "read_throughput"]


def _find(obj: Any, keys: tuple[str, ...]) -> float | None:
    if isinstance(obj, dict):
        for k in keys:
            v = obj.get(k)
            if isinstance(v, int | float):
                return float(v)
        for v in obj.values():
            found = _find(v, keys)
            if found is not None:
                return found
    elif isinstance(obj, list):
        for v in obj:
            found = _find(v, keys)
            if found is not None:
                return found
    return None


def read_throughput(path: str | Path) -> float:
    """Events per second per node from a result file (the first ``events_per_s``-like field)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    value = _find(data, ("events_per_s", "engine_events_per_s", "throughput_eps", "events_per_second"))
    if value is None or value <= 0:
        raise ValueError(f"{path}: no positive events_per_s field found")
    return value


def peak_rate_per_hall(events: Iterable[Event], *, window_s: int = 60) -> float:
    """The busiest ``window_s`` of any hall, in events per second."""
    counts: Counter[tuple[str, int]] = Counter()
    for e in events:
        hall = getattr(e, "hall_id", None)
        if hall is not None:
            counts[(hall, int(e.ts.timestamp()) // window_s)] += 1
    return max(counts.values(), default=0) / window_s


def engine_nodes(*, halls: int, peak_per_hall: float, node_eps: float, headroom: float) -> int:
    if not 0 <= headroom < 1:
        raise ValueError("headroom must be in [0, 1)")
    return max(1, math.ceil(halls * peak_per_hall / (node_eps * (1.0 - headroom))))
