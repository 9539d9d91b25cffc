"""Erlang C, the FCFS fast path against SimPy, and the M/M/c validation at CI size."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.queueing.erlang import erlang_b, erlang_c, mmc_mean_wait, mmc_wait_quantile
from sim.queueing.fcfs import fcfs_waits, simpy_waits
from sim.queueing.mmc_check import mmc_check


def test_erlang_known_values() -> None:
    # M/M/1: Wq = rho / (mu - lam)
    assert mmc_mean_wait(0.5, 1.0, 1) == pytest.approx(1.0)
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    # textbook: c=2, a=1 -> C = 1/3
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert mmc_wait_quantile(0.5, 1.0, 1, 0.4) == 0.0
    assert mmc_wait_quantile(0.5, 1.0, 1, 0.9) == pytest.approx(math.log(5) / 0.5)
    with pytest.raises(ValueError):
        erlang_c(2, 2.0)


@pytest.mark.parametrize("c", [1, 3, 8])
def test_fastpath_equals_simpy(c: int) -> None:
    rng = np.random.default_rng(c)
    arrivals = np.cumsum(rng.integers(0, 60, 3000)).astype(float)
    service = rng.integers(1, 60 * c + 30, 3000).astype(float)
    fast = fcfs_waits(arrivals, service, c)
    assert np.array_equal(fast, simpy_waits(arrivals, service, c))
    assert fast.max() > 0


def test_mmc_validation_small() -> None:
    check = mmc_check(c=20, rho=0.9, replications=10, customers=60_000, seed=3)
    # at this size the standard error is about 3 %; full size (1 %) runs in tests/bench
    assert abs(check.rel_error) < 0.08
    assert check.ci[0] < check.erlang_c_wait < check.ci[1] or abs(check.rel_error) < 0.03
    assert 0.0 <= check.coverage <= 1.0


def test_mmc_interval_stays_nonnegative_on_a_small_skewed_run() -> None:
    # three replications of 40 customers at low load: most wait 0, a few a while, so the
    # replication means are skewed and the plain t interval reached -0.31 (a wait below 0)
    check = mmc_check(c=2, rho=0.3, replications=3, customers=40, seed=4, group=3)
    assert check.ci[0] == 0.0
    assert check.ci[0] <= check.pooled_wait < check.ci[1]
    assert check.ci[1] == pytest.approx(0.5644, abs=1e-3)  # the t interval's upper end, kept
    assert check.coverage == 1.0  # the cut does not change which intervals cover Erlang C


@pytest.mark.parametrize(("replications", "group"), [(1, 1), (4, 1), (4, 5)])
def test_mmc_check_refuses_sizes_without_an_interval(replications: int, group: int) -> None:
    with pytest.raises(ValueError, match=r"mmc_check: (replications|group)"):
        mmc_check(c=2, rho=0.3, replications=replications, customers=40, group=group)
