"""95 % intervals for the mean of a few replications, kept inside the quantity's range.

Sweeps, calibration and staffing plans replicate a run over a handful of seeds (three to
five, often) and report each figure as the mean with a Student-t interval,
``mean ± t(n-1) · s / sqrt(n)``. The t interval is symmetric about the mean, so a recall of
0.97 over three seeds came out as ``[0.920, 1.021]`` and a wait p95 of 0.66 minutes as
``[-0.24, 1.56]``: bounds the quantity cannot take. Here the t interval is cut to the
quantity's range:

* ``"real"`` — no bound (a latency is negative when a warning comes early): the t interval;
* ``"nonnegative"`` — waits, counts, alerts per day, a utilisation (above 1 when the
  demand outruns the staff): the t interval with its lower end raised to 0;
* ``"proportion"`` — rates and shares in [0, 1]: the t interval cut to [0, 1];
* ``"agreement"`` — an agreement index in [-1, 1], such as the adjusted Rand index of the
  recovered bidding rings (1 when they match the true rings, near 0 for chance): the t
  interval cut to [-1, 1].

Why cutting is sound: the true mean lies in the range, so it lies in the cut interval
exactly when it lies in the t interval; the cut interval covers as often as the t interval
does, and no more is claimed. Why not the other usual cures, with three replications:

* a t interval on the logit (rates) or log (non-negative) scale about the mean, mapped
  back: the t quantile with two degrees of freedom is 4.3, and the transform magnifies it
  near the bound, the side the data crowd against. Recall ``[1, 1, 0.9125]`` gets
  ``[0.28, 0.9996]`` (the t interval: ``[0.845, 1.096]``), waits ``[0.1, 0.5, 1.4]`` an upper
  bound of 8.0 minutes (t: 2.3), and with a zero among the values the log scale has no
  answer at all;
* a percentile bootstrap of the mean: three values have ten distinct resample means, and
  the interval is the smallest to the largest replication (``[0.9125, 1]`` above), about a
  third of the t interval's width, claiming more than three seeds know. A staffing plan
  reads the upper bound as the side to defend, so it must not shrink.

Every interval contains the mean, collapses to ``(m, m)`` when the replications agree, is
deterministic (no random draws), and is ``None`` with fewer than two values, where there is
no spread to estimate. Values outside the stated range are an error naming the quantity,
not something to clip: a rate above 1 is a bug upstream.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats

__all__ = ["LEVEL", "RANGES", "Interval", "ValueRange", "mean_interval", "t_interval"]

#: Confidence level of every interval the reports print.
LEVEL = 0.95

Interval = tuple[float, float]
ValueRange = Literal["real", "nonnegative", "proportion", "agreement"]

#: Lowest and highest value of each range.
RANGES: dict[str, tuple[float, float]] = {
    "real": (-math.inf, math.inf),
    "nonnegative": (0.0, math.inf),
    "proportion": (0.0, 1.0),
    "agreement": (-1.0, 1.0),
}


def _values(values: Sequence[float] | NDArray[np.float64], what: str) -> NDArray[np.float64]:
    xs = np.asarray(values, dtype=np.float64)
    if xs.ndim != 1:
        raise ValueError(f"{what}: expected a flat list of replications, got shape {xs.shape}")
    if xs.size == 0:
        raise ValueError(f"{what}: no values to average")
    bad = np.flatnonzero(~np.isfinite(xs))
    if bad.size:
        raise ValueError(f"{what}: replication {int(bad[0]) + 1} is {xs[bad[0]]}, not a finite number")
    return xs


def t_interval(
    values: Sequence[float] | NDArray[np.float64], *, level: float = LEVEL, what: str = "values"
) -> Interval | None:
    """Student-t interval of the mean, for a quantity with no bound (``None`` below two values)."""
    if not 0 < level < 1:
        raise ValueError(f"{what}: level must be in (0, 1), got {level}")
    xs = _values(values, what)
    if xs.size < 2:
        return None
    mean = float(xs.mean())
    half = float(stats.t.ppf(0.5 + level / 2, xs.size - 1) * xs.std(ddof=1) / math.sqrt(xs.size))
    return mean - half, mean + half


def mean_interval(
    values: Sequence[float] | NDArray[np.float64],
    value_range: ValueRange,
    *,
    level: float = LEVEL,
    what: str = "values",
) -> tuple[float, Interval | None]:
    """The mean of ``values`` and its t interval cut to ``value_range`` (module doc).

    ``what`` names the quantity in the error raised for a value outside the range.
    """
    if value_range not in RANGES:
        raise ValueError(f"{what}: unknown value range {value_range!r} (one of {', '.join(RANGES)})")
    xs = _values(values, what)
    low, high = RANGES[value_range]
    bad = np.flatnonzero((xs < low) | (xs > high))
    if bad.size:
        span = f"[{low:g}, {high:g}]" if math.isfinite(high) else f"[{low:g}, inf)"
        raise ValueError(
            f"{what}: replication {int(bad[0]) + 1} is {xs[bad[0]]:g}, outside the {value_range} range {span}"
        )
    mean = float(xs.mean())
    ci = t_interval(xs, level=level, what=what)
    if ci is None:
        return mean, None
    lo, hi = max(ci[0], low), min(ci[1], high)
    # Against a last-bit rounding of the mean past a range edge: the mean stays inside.
    return mean, (min(lo, mean), max(hi, mean))
