"""95 % intervals for a figure replicated over a few seeds, kept inside the figure's range.

Sweeps, calibration, staffing plans and the bidding seed study replicate a run over a
handful of seeds (three to five, often). A symmetric Student-t interval,
``mean ± t(k-1) · s / sqrt(k)``, read a recall of 0.97 over three seeds as
``[0.920, 1.021]`` and a wait p95 of 0.66 minutes as ``[-0.24, 1.56]``: bounds the figure
cannot take. Two methods here, chosen by what a replication carries:

**Proportions with counts behind them** (:func:`proportion_interval`): recall = TP / (TP + FN),
precision = TP / (TP + FP), an overdue rate = overdue / promised cases, a tender recall or
false-positive rate. Each seed's *counts* carry the information; its rate alone hides
whether it rests on 4 cases or 400. The figure is the pooled proportion
``p = Σ successes / Σ trials`` and its interval the Wilson score interval on the pooled
trials, shrunk to an effective size ``N / φ`` when the seeds disagree more than binomial
sampling allows:

* Wilson stays inside [0, 1] by construction and covers near 0 and 1 (where recall and
  precision live) at about its level, where the Wald and t intervals do not: with every
  trial a success it reads ``[N / (N + z²), 1]``, not a point;
* ``φ`` is the quasi-binomial dispersion: Pearson's ``X² = Σ (s_i - n_i p)² / (n_i p (1-p))``
  over the ``k`` seeds with trials, ``φ̂ = X² / (k - 1)``. Seeds of one scenario share its
  halls, staff and rulebook, so their rates can vary more than binomially; ignoring that
  would make many trials look like certainty. With one seed, or ``p`` at 0 or 1, there
  is nothing to estimate and ``φ = 1``;
* only the excess over binomial is estimated from the seeds, with ``k - 1`` degrees of
  freedom, so it is weighted by ``(t(k-1) / z)²``: ``φ = 1 + (t/z)² · max(0, φ̂ - 1)``. The
  binomial part is known and keeps the normal quantile. Plain ``max(1, φ̂)`` trusts a
  dispersion read off three seeds as if it were known and undercovers (0.87 at p = 0.5,
  three seeds of 40 trials, intraclass correlation 0.05, 2,000 draws); the weighted excess
  covers 0.91 there and is continuous in ``φ̂`` (no jump as the seeds start to disagree). It
  tends to ``max(1, φ̂)`` as the seeds grow in number. ``tests/test_intervals.py`` measures
  the coverage with three seeds of 40 trials: 0.977 and 0.963 at p = 0.97 and 0.5
  (binomial), 0.964 and 0.928 with intraclass correlation 0.03, where Wilson on the 120
  trials ignoring the seeds covers 0.825 at p = 0.5; cut-t covers 0.918 and 0.891 at
  p = 0.97, its uncut t interval leaving [0, 1] in 83 % and 87 % of draws.

**Every other figure** (:func:`mean_interval`): the mean over seeds and its t interval cut to
the figure's range:

* ``"real"`` — no bound (a latency is negative when a warning comes early): the t interval;
* ``"nonnegative"`` — waits, counts, alerts per day, a utilisation (above 1 when the
  demand outruns the staff): the t interval with its lower end raised to 0;
* ``"proportion"`` — rates and shares without counts (a calibration figure, F1, which is not
  a proportion of trials): the t interval cut to [0, 1];
* ``"agreement"`` — an agreement index in [-1, 1], such as the adjusted Rand index of the
  recovered bidding rings: the t interval cut to [-1, 1].

Why cutting is sound: the true mean lies in the range, so it lies in the cut interval
exactly when it lies in the t interval; the cut interval covers as often as the t interval
does, and no more is claimed. For a skewed non-negative figure (a wait percentile) that is
about 0.91 with three seeds when the values' coefficient of variation is 0.66 and 0.83 when
it is 1.3 (lognormal), the misses on the upper side. The usual cures are worse with three
replications:

* a t interval on the log (waits) or logit (rates) scale, mapped back: the t quantile with
  two degrees of freedom is 4.3, and the transform magnifies it on the side the data crowd
  against. Waits ``[0.1, 0.5, 1.4]`` get an upper bound of 8.0 minutes (t: 2.3), recall
  ``[1, 1, 0.9125]`` ``[0.28, 0.9996]``, and with a zero among the values (a wait at a quiet
  desk, a level with no queue) the log scale has no answer at all;
* a percentile or BCa bootstrap of the mean: three values have ten distinct resample means,
  and the interval is the smallest to the largest replication (``[0.9125, 1]`` above),
  about a third of the t interval's width. A staffing plan reads the upper bound as the
  side to defend, so it must not shrink. With ten or more seeds a bootstrap would be
  possible, but its percentile form undercovers a skewed mean as the t interval does, and
  one method across sizes keeps the tables comparable; the t interval stays.

Both are deterministic (no random draws). :func:`mean_interval` is ``None`` with fewer than
two values (no spread to estimate); :func:`proportion_interval` is ``None`` with no trials
at all (nothing to estimate), and gives an interval for one seed (the binomial variance is
known). Values outside the stated range, negative counts or more successes than trials are
an error naming the quantity and the replication, not something to clip: a rate above 1 is
a bug upstream.

Which figure uses which: sweep precision and recall (pooled over seeds), the plan's overdue
rate, the seed study's tender recall and clean-tender false-positive rate use
:func:`proportion_interval`; sweep F1, latency, alerts per day and delivered-stream
figures, plan waits and utilisation, the M/M/c cross-check, every calibration figure
(the figures arrive as one number per run, without counts) and the ring ARI use
:func:`mean_interval`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats

__all__ = [
    "LEVEL",
    "RANGES",
    "Interval",
    "ValueRange",
    "dispersion",
    "mean_interval",
    "proportion_interval",
    "t_interval",
    "wilson_interval",
]

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


def _counts(
    successes: Sequence[int] | NDArray[np.integer], trials: Sequence[int] | NDArray[np.integer], what: str
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Per-replication counts as integer arrays, refused by name when they cannot be counts."""
    s, n = np.asarray(successes), np.asarray(trials)
    if s.ndim != 1 or s.shape != n.shape:
        raise ValueError(f"{what}: successes {s.shape} and trials {n.shape} must be flat lists of one length")
    if s.size == 0:
        raise ValueError(f"{what}: no replications")
    for name, xs in (("successes", s), ("trials", n)):
        fx = xs.astype(np.float64)
        bad = np.flatnonzero(~np.isfinite(fx) | (np.round(fx) != fx) | (fx < 0))
        if bad.size:
            raise ValueError(
                f"{what}: replication {int(bad[0]) + 1} has {xs[bad[0]]} {name}, not a count >= 0"
            )
    s, n = s.astype(np.int64), n.astype(np.int64)
    over = np.flatnonzero(s > n)
    if over.size:
        i = int(over[0])
        raise ValueError(f"{what}: replication {i + 1} has {s[i]} successes out of {n[i]} trials")
    return s, n


def dispersion(
    successes: Sequence[int] | NDArray[np.integer],
    trials: Sequence[int] | NDArray[np.integer],
    *,
    what: str = "proportion",
) -> float:
    """Pearson's ``X² / (k - 1)`` over the ``k`` replications with trials (module doc).

    About 1 when the replications differ only by binomial sampling, larger when they differ
    more. 1 when it cannot be estimated: one replication, or a pooled proportion of 0 or 1
    (every replication then agrees exactly).
    """
    s, n = _counts(successes, trials, what)
    used = n > 0
    k = int(used.sum())
    p = float(s.sum()) / float(n.sum()) if k else 0.0
    if k < 2 or p <= 0.0 or p >= 1.0:
        return 1.0
    expected = n[used] * p
    x2 = float((((s[used] - expected) ** 2) / (expected * (1.0 - p))).sum())
    return x2 / (k - 1)


def wilson_interval(p: float, n: float, *, level: float = LEVEL) -> Interval:
    """Wilson score interval of a proportion ``p`` observed on ``n`` (possibly effective) trials.

    The set of true proportions a score test at ``level`` would not reject: inside [0, 1]
    by construction, and not a point at ``p`` = 0 or 1, where the Wald interval collapses.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if not 0.0 <= p <= 1.0 or not n > 0:
        raise ValueError(f"Wilson interval needs p in [0, 1] and n > 0, got p={p}, n={n}")
    z = NormalDist().inv_cdf(0.5 + level / 2)
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z2n / (4 * n))
    lo = 0.0 if p == 0.0 else max(0.0, centre - half)
    hi = 1.0 if p == 1.0 else min(1.0, centre + half)
    return min(lo, p), max(hi, p)


def proportion_interval(
    successes: Sequence[int] | NDArray[np.integer],
    trials: Sequence[int] | NDArray[np.integer],
    *,
    level: float = LEVEL,
    what: str = "proportion",
) -> tuple[float, Interval] | None:
    """The pooled proportion of per-replication counts and its Wilson interval (module doc).

    ``successes[i]`` of ``trials[i]`` in replication ``i``; a replication without trials
    (precision of a seed without alerts) adds nothing. ``None`` when no replication has a
    trial. The effective size is ``Σ trials / φ`` with ``φ = 1 + (t(k-1)/z)² · max(0, φ̂ - 1)``,
    ``φ̂`` the :func:`dispersion` of the ``k`` replications with trials.
    """
    if not 0 < level < 1:
        raise ValueError(f"{what}: level must be in (0, 1), got {level}")
    s, n = _counts(successes, trials, what)
    total = int(n.sum())
    if total == 0:
        return None
    p = float(s.sum()) / total
    k = int((n > 0).sum())
    excess = max(0.0, dispersion(s, n, what=what) - 1.0)
    phi = 1.0
    if excess > 0.0:
        ratio = float(stats.t.ppf(0.5 + level / 2, k - 1)) / NormalDist().inv_cdf(0.5 + level / 2)
        phi += ratio * ratio * excess
    return p, wilson_interval(p, total / phi, level=level)
