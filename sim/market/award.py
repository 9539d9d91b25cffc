"""How a tender is awarded: the evaluation methods of Chinese tendering and abnormally low bids.

Why more than "lowest price wins": most construction tenders in China are evaluated against a
**benchmark price** (基准价; 合理低价法, or the price part of 综合评估法). The benchmark is the
mean of the valid bids — the highest and the lowest dropped when there are five or more —
times a factor K drawn publicly at the opening (下浮系数, e.g. 0.96–0.99). Each bid loses
``benchmark_above`` points per 1 % above the benchmark and ``benchmark_below`` per 1 % below it;
the fewest points lost wins. The winner is the bid nearest to (a little under) K × the mean,
not the lowest, so awards sit a few per cent under the average bid rather than at its bottom
tail — which is how published awards average ~15 % below the control price while honest bids
keep their dispersion (``scenarios/targets/county_trading.yaml``; measured in ``docs/bidding.md``).

Both the benchmark and the lowest-price methods reject **abnormally low** bids (低于成本,
实施条例 Art. 51 (五)): a bid more than ``abnormal_low`` below the mean of the bids is taken to
be under cost unless justified, and is not considered. Procurement keeps the composite of
price (60 %, full marks to the lowest valid price) and technical score (40 %); land and
property sales are ascending (highest wins). All bids stay in the event stream: rejection is
an evaluation outcome, and regulators screen every bid submitted.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sim.market.scenario import MarketSpec

__all__ = ["METHODS", "abnormally_low", "award", "benchmark_price", "draw_method"]

METHODS = ("ascending", "lowest", "benchmark", "composite")


def draw_method(spec: MarketSpec, category: str, strategy: str | None, rng: np.random.Generator) -> str:
    """The evaluation method of one tender (and what a rigging strategy needs).

    An expert ring needs a scored evaluation (composite); an agent who leaks rival bids
    serves a lowest-price tender (the favoured firm undercuts the lowest rival)."""
    draw = float(rng.random())  # always drawn, so that the stream does not depend on the branch
    if category in ("land", "property"):
        return "ascending"
    if strategy == "expert":
        return "composite"
    if strategy == "agent":
        return "lowest"
    if category == "procurement":
        return "composite"
    return "benchmark" if draw < spec.benchmark_share else "lowest"


def abnormally_low(prices: Mapping[str, float], cut: float) -> set[str]:
    """Bidders whose price is more than ``cut`` below the mean of all bids (never all of them)."""
    if len(prices) < 3 or cut <= 0:
        return set()
    mean = float(np.mean(list(prices.values())))
    low = {f for f, p in prices.items() if p < (1 - cut) * mean}
    return low if len(low) < len(prices) else set()


def benchmark_price(prices: Mapping[str, float], factor: float) -> float:
    """K × the mean of the bids, the highest and lowest dropped when there are five or more."""
    values = sorted(prices.values())
    if len(values) >= 5:
        values = values[1:-1]
    return factor * float(np.mean(values))


def award(
    prices: Mapping[str, float],
    method: str,
    spec: MarketSpec,
    *,
    factor: float,
    tech: Mapping[str, float],
) -> tuple[str, set[str]]:
    """``(winner, bidders rejected as abnormally low)``; ties go to the smaller id."""
    if method == "ascending":
        return max(prices, key=lambda f: (prices[f], f)), set()
    rejected = abnormally_low(prices, spec.abnormal_low)
    valid = {f: p for f, p in prices.items() if f not in rejected}
    if method == "composite":
        low = min(valid.values())
        best = max(valid, key=lambda f: (0.6 * 100 * low / valid[f] + 0.4 * tech.get(f, 0.0), f))
        return best, rejected
    if method == "benchmark":
        b = benchmark_price(valid, factor)

        def lost(f: str) -> tuple[float, str]:
            dev = 100 * (valid[f] / b - 1)
            return (dev * spec.benchmark_above if dev >= 0 else -dev * spec.benchmark_below, f)

        return min(valid, key=lost), rejected
    return min(valid, key=lambda f: (valid[f], f)), rejected
