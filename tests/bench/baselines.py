"""Baselines measured in the same run as the thing they are compared with.

Timings on shared machines are noisy, so every figure in ``tests/bench`` is reported as a
ratio to one of these, measured moments before or after on the same machine.
"""

from __future__ import annotations

import numpy as np
import simpy

__all__ = ["bare_mmc", "scheduled_events"]


def scheduled_events(env: simpy.Environment) -> int:
    """How many kernel events an environment has scheduled so far.

    SimPy numbers every scheduled event from one counter; reading it once after the run
    costs nothing during the run, unlike wrapping ``step``.
    """
    return next(env._eid)  # type: ignore[attr-defined]


def bare_mmc(*, c: int, rho: float, customers: int, seed: int) -> int:
    """A bare SimPy M/M/c queue; returns the number of kernel events it scheduled."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=c)
    mean_service = 1.0
    mean_gap = mean_service / (c * rho)
    gaps = rng.exponential(mean_gap, customers)
    services = rng.exponential(mean_service, customers)

    def customer(i: int):  # type: ignore[no-untyped-def]
        with servers.request() as req:
            yield req
            yield env.timeout(services[i])

    def source():  # type: ignore[no-untyped-def]
        for i in range(customers):
            yield env.timeout(gaps[i])
            env.process(customer(i))

    env.process(source())
    env.run()
    return scheduled_events(env)
