"""First-come-first-served stages without SimPy: a heap of the times servers become free.

A window desk is a c-server FCFS queue: the next customer in arrival order starts at the
later of their arrival and the earliest instant a server is free. That needs no event
calendar, only a heap of ``c`` free times, which makes a simulated year of a 125-window
hall a sub-second loop, so planners can sweep staffing levels and replications freely.
:func:`simpy_waits` is the same stage as a SimPy model; the tests check the two give the
same per-customer waits on the same inputs (integer seconds keep the arithmetic exact).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np
import simpy

__all__ = ["fcfs_waits", "simpy_waits"]


def fcfs_waits(
    arrivals: Sequence[float] | np.ndarray, service: Sequence[float] | np.ndarray, c: int
) -> np.ndarray:
    """Waiting time (start of service - arrival) of each customer; arrivals non-decreasing."""
    if c < 1:
        raise ValueError("c must be >= 1")
    free = [0.0] * c
    a_list = np.asarray(arrivals, dtype=np.float64).tolist()
    s_list = np.asarray(service, dtype=np.float64).tolist()
    waits = [0.0] * len(a_list)
    replace = heapq.heapreplace
    for i, a in enumerate(a_list):
        f = free[0]
        if f > a:
            waits[i] = f - a
            replace(free, f + s_list[i])
        else:
            replace(free, a + s_list[i])
    return np.asarray(waits, dtype=np.float64)


def simpy_waits(
    arrivals: Sequence[float] | np.ndarray, service: Sequence[float] | np.ndarray, c: int
) -> np.ndarray:
    """The same stage as a SimPy model (``simpy.Resource`` with ``c`` servers)."""
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=c)
    a_list = np.asarray(arrivals, dtype=np.float64).tolist()
    s_list = np.asarray(service, dtype=np.float64).tolist()
    waits = [0.0] * len(a_list)

    def customer(i: int) -> simpy.events.ProcessGenerator:
        with desk.request() as req:
            yield req
            waits[i] = env.now - a_list[i]
            yield env.timeout(s_list[i])

    def door() -> simpy.events.ProcessGenerator:
        for i, a in enumerate(a_list):
            if a > env.now:
                yield env.timeout(a - env.now)
            env.process(customer(i))

    env.process(door())
    env.run()
    return np.asarray(waits, dtype=np.float64)
