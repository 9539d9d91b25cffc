"""The capacity search: the largest load level a deployment carries, in few bounded steps.

Why doubling then bisection: a step of a load test costs a fresh service and tens of
seconds, so the search must not walk level by level. Doubling from 1 finds, in
``log2(answer)`` steps, a level that passes and one twice as large that fails; bisecting
between them narrows the answer to within ``tolerance`` (relative) of the truth. A step
that is *invalid* (the load generator, not the deployment, was the limit) ends the search:
nothing above it can be judged on this machine.

Why ``retries``: on a host shared with other work, one scheduler stall of a few hundred
milliseconds decides the p99 of a short step. With ``retries`` a failing level is run
again and passes if any run passes (best of ``1 + retries``); every run is listed, so a
level that passed only on its second run is visible in the result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

__all__ = ["Outcome", "search_capacity"]

Outcome = Literal["pass", "fail", "invalid"]


def search_capacity(
    run: Callable[[int], Outcome],
    *,
    start: int = 1,
    max_level: int = 1024,
    tolerance: float = 0.125,
    max_steps: int = 16,
    retries: int = 0,
) -> tuple[int, list[tuple[int, Outcome]]]:
    """The largest level ``run`` passes (0 if none) and the steps taken, in order.

    Doubling starts at ``start``; if ``start`` fails, the bisection searches below it.
    Assumes monotonicity (a level that fails makes every higher one fail). ``run`` is
    called at most ``max_steps`` times; the bisection stops once ``hi - lo`` is at most
    ``max(1, tolerance × lo)``.
    """
    steps: list[tuple[int, Outcome]] = []

    def step(level: int) -> Outcome:
        for _ in range(1 + max(retries, 0)):
            outcome = run(level)
            steps.append((level, outcome))
            if outcome != "fail" or len(steps) >= max_steps:
                break
        return outcome

    lo, hi = 0, 0
    level = max(start, 1)
    while level <= max_level and len(steps) < max_steps:
        outcome = step(level)
        if outcome == "invalid":
            return lo, steps
        if outcome == "fail":
            hi = level
            break
        lo = level
        level *= 2
    if hi == 0:  # never failed: the answer is at least the last level tried
        return lo, steps
    while hi - lo > max(1.0, tolerance * lo) and len(steps) < max_steps:
        mid = (lo + hi) // 2
        outcome = step(mid)
        if outcome == "invalid":
            break
        if outcome == "pass":
            lo = mid
        else:
            hi = mid
    return lo, steps
