"""Engine sizing: how many engine nodes a network of halls needs at peak.

Inputs a planner can defend: a *measured* per-node throughput (events per second, read
from a benchmark or load-test result file), the peak event rate of one hall (measured on a
simulated stream: the busiest minute), the number of halls, and a headroom share kept free
for bursts and failover. Nodes = ceil(halls × peak per hall / (throughput × (1 − headroom))).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from engine.contract.events import Event
from supsim.experiments.deployment.capacity import NODE_FIELDS, CapacityError, read_figure
from supsim.experiments.deployment.load import REFERENCE

__all__ = ["THROUGHPUT_FIELDS", "engine_nodes", "peak_rate_per_hall", "read_throughput"]


#: Names of a measured per-node rate in other result files (an engine bench, a load test).
THROUGHPUT_FIELDS = ("events_per_s", "engine_events_per_s", "throughput_eps", "events_per_second")


def read_throughput(path: str | Path) -> float:
    """Events per second per node from a result file.

    A node capacity (``events_per_s_carried`` of the halls-per-node search, or
    ``node_events_per_s``) wins; else the file's one ``events_per_s``-like figure. A file with
    several different figures under those names is refused, naming them.
    """
    figure = read_figure(path, NODE_FIELDS) or read_figure(path, THROUGHPUT_FIELDS)
    if figure is None:
        names = ", ".join(NODE_FIELDS + THROUGHPUT_FIELDS)
        raise CapacityError(str(path), "$", f"no events/s figure: expected one of {names}")
    return figure.events_per_s


def peak_rate_per_hall(events: Iterable[Event], *, window_s: int = 60) -> float:
    """The busiest ``window_s`` of any hall, in events per second, reference data excluded.

    The catalogue and staff authorisations are all stamped at the start of the run: a one-off
    load when a hall joins, not its live traffic (:mod:`supsim.experiments.deployment.load`).
    """
    counts: Counter[tuple[str, int]] = Counter()
    for e in events:
        hall = getattr(e, "hall_id", None)
        if hall is not None and not isinstance(e, REFERENCE):
            counts[(hall, int(e.ts.timestamp()) // window_s)] += 1
    return max(counts.values(), default=0) / window_s


def engine_nodes(*, halls: int, peak_per_hall: float, node_eps: float, headroom: float) -> int:
    if not 0 <= headroom < 1:
        raise ValueError("headroom must be in [0, 1)")
    return max(1, math.ceil(halls * peak_per_hall / (node_eps * (1.0 - headroom))))
