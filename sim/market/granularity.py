"""Price granularity: the units bids are written in, and what rounding alone does to them.

Why: the collusion screens and the price-pattern rule were built on continuous prices, and
real bids are not continuous. A bidder quotes to a unit that grows with the job (nobody
prices a 30-million-yuan road to the fen), some tenders take bids as a discount rate from the
control price on a fixed grid (下浮率, e.g. steps of 0.5 %), ascending sales take bids in fixed
increments (加价幅度), and some bidders round to a "nice" number. On a coarse lattice ties are
common and equally spaced bids appear by chance alone — the honest look-alike a price-pattern
rule must not flag (``docs/bidding.md``).

A tender's :class:`Quote` is the lattice its bids lie on: bids are ``origin + k × unit`` for
integers ``k``. Amount quoting has origin 0 and a unit that is a power of ten near
``control × fraction``; rate quoting has origin = the control price and unit = control ×
step; an ascending sale has origin = the reserve and unit = its increment. Nice-number
bidders use ``nice_factor × unit`` (amount quoting only).

The draws come from a generator of their own and the same number of them is made for every
tender and bid, so switching granularity on changes the written prices and nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from sim.market.scenario import Granularity

__all__ = ["CENT", "Quote", "draw_quote", "regular_run", "snap", "tied"]

CENT = 0.01


@dataclass(frozen=True, slots=True)
class Quote:
    """The lattice of one tender's bids: ``origin + k × unit``."""

    mode: str  # "cent", "amount", "rate" or "increment"
    unit: float
    origin: float = 0.0
    #: The coarser unit nice-number bidders use (amount quoting), else ``unit``.
    nice: float = 0.0


def _pow10(x: float) -> float:
    return float(10.0 ** round(math.log10(x))) if x > 0 else CENT


def draw_quote(spec: Granularity | None, control: float, ascending: bool, rng: np.random.Generator) -> Quote:
    """The lattice of a tender with control (or reserve) price ``control``."""
    if spec is None:
        return Quote("cent", CENT)
    coarse, rate_draw = (float(x) for x in rng.random(2))
    frac = float(spec.unit_fractions[int(rng.integers(0, len(spec.unit_fractions)))])
    step = float(spec.rate_steps[int(rng.integers(0, len(spec.rate_steps)))])
    if coarse >= spec.share:
        return Quote("cent", CENT)
    if ascending:
        return Quote("increment", max(_pow10(control * spec.increment), CENT), origin=control)
    if rate_draw < spec.rate_share:
        return Quote("rate", control * step, origin=control)
    unit = max(_pow10(control * frac), CENT)
    return Quote("amount", unit, nice=unit * spec.nice_factor)


def snap(price: float, quote: Quote, *, nice: bool = False, ceiling: float | None = None) -> float:
    """``price`` on the tender's lattice (nearest point), never above ``ceiling``.

    An ascending bid never goes under the reserve (``origin``)."""
    unit = quote.nice if nice and quote.nice > 0 else quote.unit
    k = round((price - quote.origin) / unit)
    if quote.mode == "increment":
        k = max(k, 0)
    out = quote.origin + k * unit
    if ceiling is not None and out > ceiling:
        out -= unit * math.ceil((out - ceiling) / unit - 1e-9)
    return round(out, 2)


def tied(prices: Sequence[float]) -> bool:
    """Whether two bids are identical."""
    return len(set(prices)) < len(prices)


def regular_run(prices: Sequence[float], unit: float, min_bids: int = 4) -> bool:
    """Whether ``min_bids`` consecutive sorted bids lie on equal positive steps (within a unit).

    What a ring pricing by formula leaves, and what rounding alone also produces: the truth
    records honest tenders where it happens as look-alikes of ``collusion.price_pattern``."""
    p = sorted(prices)
    steps = [b - a for a, b in pairwise(p)]
    run = 1
    for i in range(1, len(steps)):
        same = steps[i] > 0 and steps[i - 1] > 0 and abs(steps[i] - steps[i - 1]) <= unit + 1e-6
        run = run + 1 if same else 1
        if run + 1 >= min_bids:
            return True
    return False
