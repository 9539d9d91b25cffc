"""Erlang C: the M/M/c queue in closed form, the yardstick for the window stage.

Planners trust a simulator more when it reproduces a textbook result where one exists. For
Poisson arrivals (rate ``lam``), exponential service (rate ``mu``) and ``c`` identical
servers taking customers first come first served, the probability of waiting is Erlang's C
formula and the mean wait is ``C / (c mu - lam)``. The sum is evaluated with the stable
Erlang B recursion, so c in the hundreds does not overflow.
"""

from __future__ import annotations

import math

__all__ = ["erlang_b", "erlang_c", "mmc_mean_wait", "mmc_wait_quantile"]


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of M/M/c/c with offered load ``a = lam / mu`` (recursion in c)."""
    if c < 0 or a < 0:
        raise ValueError("c and a must be >= 0")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c (requires ``a < c``)."""
    if c < 1 or not 0 <= a < c:
        raise ValueError(f"M/M/c needs c >= 1 and 0 <= a < c (c={c}, a={a})")
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def mmc_mean_wait(lam: float, mu: float, c: int) -> float:
    """Mean time in queue (before service) of M/M/c, in the units of ``1 / mu``."""
    return erlang_c(c, lam / mu) / (c * mu - lam)


def mmc_wait_quantile(lam: float, mu: float, c: int, q: float) -> float:
    """The ``q`` quantile of the M/M/c wait: ``P(W > t) = C exp(-(c mu - lam) t)``."""
    pw = erlang_c(c, lam / mu)
    if q <= 1.0 - pw:
        return 0.0
    return -math.log((1.0 - q) / pw) / (c * mu - lam)
