"""The M/M/c validation: the fast path against Erlang C, with interval coverage.

Each replication simulates ``customers`` Poisson arrivals at ``rho × c × mu`` with
exponential service through :func:`sim.queueing.fcfs.fcfs_waits`, drops a warm-up share (the
queue starts empty, Erlang C describes steady state) and records its mean wait. The
pooled mean across replications should lie within 1 % of Erlang C at full size. Groups of
replications each give a 95 % t-interval (replications, not batch means); the share of
groups whose interval covers Erlang C is reported (it should be near 95 %), not asserted.

Why a Student-t interval fits here, although waits are positive and skewed: each value is
not one wait but the mean of a replication's tens of thousands of waits, and such means are
close to normal (central limit theorem), which is what the t interval assumes and what the
coverage figure checks. A t interval on the log scale would be one for the geometric mean,
not for the mean that Erlang C gives. What the t interval can still do on a small run (a few
replications of a few dozen customers, the means then skewed) is reach below zero; its lower
end is then raised to 0, a wait's least value. The mean wait is above 0, so the cut interval
covers it exactly when the t interval does, and the coverage figure is unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from sim.queueing.erlang import mmc_mean_wait
from sim.queueing.fcfs import fcfs_waits

__all__ = ["MMcCheck", "mmc_check", "mmc_replication"]


@dataclass(frozen=True, slots=True)
class MMcCheck:
    c: int
    rho: float
    replications: int
    customers: int
    erlang_c_wait: float
    pooled_wait: float
    rel_error: float
    #: 95 % t interval of the pooled mean wait, its lower end at least 0 (module doc)
    ci: tuple[float, float]
    coverage: float  # share of 95 % intervals from groups of replications covering Erlang C


def mmc_replication(
    lam: float, mu: float, c: int, customers: int, warmup: float, rng: np.random.Generator
) -> float:
    arrivals = np.cumsum(rng.exponential(1.0 / lam, customers))
    service = rng.exponential(1.0 / mu, customers)
    waits = fcfs_waits(arrivals, service, c)
    return float(waits[int(warmup * customers) :].mean())


def mmc_check(
    *,
    c: int = 20,
    rho: float = 0.9,
    replications: int = 20,
    customers: int = 200_000,
    warmup: float = 0.1,
    seed: int = 0,
    group: int = 5,
) -> MMcCheck:
    """Run the validation; ``group`` replications form each coverage interval."""
    if replications < 2:
        raise ValueError(f"mmc_check: replications must be at least 2 for an interval, got {replications}")
    if not 2 <= group <= replications:
        raise ValueError(f"mmc_check: group must be between 2 and replications ({replications}), got {group}")
    mu = 1.0
    lam = rho * c * mu
    children = np.random.default_rng(seed).spawn(replications)
    means = np.array([mmc_replication(lam, mu, c, customers, warmup, g) for g in children])
    truth = mmc_mean_wait(lam, mu, c)
    pooled = float(means.mean())
    half = float(stats.t.ppf(0.975, replications - 1) * means.std(ddof=1) / math.sqrt(replications))
    covered = []
    for k in range(0, replications - group + 1, group):
        g = means[k : k + group]
        h = float(stats.t.ppf(0.975, group - 1) * g.std(ddof=1) / math.sqrt(group))
        covered.append(abs(float(g.mean()) - truth) <= h)
    return MMcCheck(
        c=c,
        rho=rho,
        replications=replications,
        customers=customers,
        erlang_c_wait=truth,
        pooled_wait=pooled,
        rel_error=(pooled - truth) / truth,
        ci=(max(0.0, pooled - half), pooled + half),
        coverage=float(np.mean(covered)) if covered else float("nan"),
    )
