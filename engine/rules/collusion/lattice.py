"""Regular price differences on a lattice: runs of equal steps, and how often chance makes them.

Why a null distribution: real bids are written in units (to the thousand yuan, as a discount
rate on a 0.5 % grid, in fixed increments). On a coarse lattice ties are common and equally
spaced bids appear by chance alone; a fixed relative tolerance either misses a ring whose
formula was rounded (its steps differ by a unit) or, widened to a unit, fires on honest
tenders by the hundred. So the run is found with a tolerance of one lattice unit, and it
counts as evidence only when a stretch that long *and that regular* is rare among honest
tenders with the same number of bids, the same spread and the same lattice — a Monte Carlo
p-value. The rule fires
below ``pattern_alpha``; if the null is right the false-alert rate on honest tenders is at
most that, whatever the rounding (``docs/bidding.md`` has the measurement).

* :func:`lattice_unit` — the spacing of the lattice a tender's bids lie on: the largest
  spacing ``u`` such that every difference between bids is a multiple of ``u`` to within two
  cents (bids quoted as a rate on a grid are rounded to the cent, so exact divisibility is
  too strict). Nothing about the rounding is declared in the stream; the bids say it. Bids
  priced to the cent give a unit of a cent or so, and the test is the continuous one.
* :func:`best_runs` — for each row of sorted bids, the longest run of consecutive bids whose
  steps (arithmetic) or ratios (geometric) stay within ``max(tolerance × first step, unit)``
  of the run's first step; vectorised over rows so the null costs a few milliseconds.
* :func:`pattern_p_value` — the Monte Carlo p-value of the most regular stretch of the run's
  length (:func:`window_spread`): honest bids drawn log-normal with the tender's own log-mean
  and log-spread, written on its lattice (same unit and origin), ``sims`` times from a
  generator seeded by the caller.

Only numpy is used, so the engine stays free of scipy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import reduce

import numpy as np
import numpy.typing as npt

__all__ = ["Run", "best_runs", "find_run", "lattice_unit", "pattern_p_value", "window_spread"]

Run = tuple[str, float, int, int]  # (kind, step or ratio, first sorted index, length in bids)
KINDS = ("arithmetic", "geometric")


def lattice_unit(prices: Sequence[float], *, slack: float = 0.02, max_divisor: int = 20) -> float:
    """The largest spacing (yuan) of a lattice holding every price, to within ``slack``.

    Candidates are the smallest positive gap divided by 1, 2, ... ``max_divisor`` (the
    smallest gap is a multiple of the spacing), each refined by least squares on the
    differences' multiples; the first candidate every difference fits is taken. Failing all,
    the exact greatest common divisor of the differences in cents."""
    v = np.unique(np.round(np.asarray(prices, dtype=np.float64), 2))
    if v.size < 2:
        return 0.01
    diffs = v[1:] - v[0]
    cents = [round(float(d) * 100) for d in diffs]
    exact = max(reduce(math.gcd, cents), 1) / 100.0
    gap = float(np.diff(v).min())
    for k in range(1, max_divisor + 1):
        u = gap / k
        if u <= exact:
            break
        k = np.round(diffs / u)
        fit = float(k @ diffs) / float(k @ k)  # the gap itself is off by up to two rounding errors
        if float(np.abs(diffs - k * fit).max()) <= slack:
            return fit
    return exact


def best_runs(
    sorted_bids: npt.NDArray[np.float64], kind: str, tolerance: float, unit: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Per row: (longest run in bids, its first sorted index, the run's first step or ratio).

    A zero step (a tie) is never part of a run; a row without a run of two steps gets length 0."""
    x = np.atleast_2d(sorted_bids)
    rows, n = x.shape
    best = np.zeros(rows, dtype=np.int64)
    start = np.zeros(rows, dtype=np.int64)
    ref_out = np.zeros(rows, dtype=np.float64)
    if n < 3:
        return best, start, ref_out
    d = np.diff(x, axis=1)
    if kind == "arithmetic":
        steps = d
        slack = np.full_like(steps, unit)
    else:
        base = np.where(x[:, :-1] > 0, x[:, :-1], np.nan)
        steps = d / base
        slack = unit / base
    ref = steps[:, 0].copy()
    first = np.zeros(rows, dtype=np.int64)
    length = np.ones(rows, dtype=np.int64)  # steps in the current run
    for j in range(1, n - 1):
        s = steps[:, j]
        tol = np.maximum(tolerance * np.abs(ref), slack[:, j])
        same = (ref > 0) & (s > 0) & (np.abs(s - ref) <= tol + 1e-12)
        length = np.where(same, length + 1, 1)
        first = np.where(same, first, j)
        ref = np.where(same, ref, s)
        better = same & (length + 1 > best)
        best = np.where(better, length + 1, best)
        start = np.where(better, first, start)
        ref_out = np.where(better, ref, ref_out)
    return best, start, ref_out


def find_run(prices: Sequence[float], tolerance: float, unit: float, min_bids: int) -> Run | None:
    """The longest run of ``min_bids`` or more sorted bids, arithmetic before geometric on ties."""
    p = np.sort(np.asarray(prices, dtype=np.float64))
    if p.size < max(min_bids, 3) or p[0] <= 0:
        return None
    found: Run | None = None
    for kind in KINDS:
        length, first, ref = (a[0] for a in best_runs(p[None, :], kind, tolerance, unit))
        if length >= min_bids and (found is None or length > found[3]):
            i, k = int(first), int(length)
            steps = np.diff(p[i : i + k]) if kind == "arithmetic" else p[i + 1 : i + k] / p[i : i + k - 1] - 1
            mean = float(steps.mean()) if steps.size else float(ref)
            found = (kind, mean if kind == "arithmetic" else 1 + mean, i, k)
    return found


def window_spread(sorted_bids: npt.NDArray[np.float64], length: int, kind: str) -> npt.NDArray[np.float64]:
    """Per row: the smallest spread (largest minus smallest step) over windows of ``length``
    consecutive bids with positive steps; ``inf`` where there is none. Steps are in yuan
    (arithmetic) or relative (geometric: ratio minus one)."""
    x = np.atleast_2d(sorted_bids)
    rows, n = x.shape
    if length < 3 or n < length:
        return np.full(rows, np.inf)
    d = np.diff(x, axis=1)
    steps = d if kind == "arithmetic" else d / np.where(x[:, :-1] > 0, x[:, :-1], np.nan)
    w = np.lib.stride_tricks.sliding_window_view(steps, length - 1, axis=1)
    spread = w.max(axis=2) - w.min(axis=2)
    spread = np.where(w.min(axis=2) > 0, spread, np.inf)
    spread = np.where(np.isnan(spread), np.inf, spread)
    return np.asarray(spread.min(axis=1), dtype=np.float64)


def pattern_p_value(
    prices: Sequence[float],
    run_length: int,
    *,
    unit: float,
    rng: np.random.Generator,
    sims: int = 4000,
) -> float:
    """P(an honest tender like this one is at least as regular over ``run_length`` bids).

    The statistic, per kind (arithmetic, geometric): the smallest spread of the steps over any
    ``run_length`` consecutive bids — how nearly equal the most regular stretch is. Honest
    bids: ``n`` log-normal draws with the log-mean and log standard deviation (ddof=1) of the
    observed bids, written on the observed lattice (origin: the lowest bid modulo the unit).
    A draw counts when either kind is at least as regular as observed. The p-value is
    ``(1 + hits) / (1 + sims)``, never below ``1/(sims+1)``.

    Why the spread and not only the run: on a lattice, steps that agree to within a unit are
    common by chance, steps that agree exactly much less so; the spread keeps that difference."""
    p = np.sort(np.asarray(prices, dtype=np.float64))
    n = p.size
    logs = np.log(p[p > 0])
    if n < 3 or logs.size < n or run_length > n:
        return 1.0
    sd = float(logs.std(ddof=1))
    if sd <= 0:
        return 1.0
    observed = {k: float(window_spread(p[None, :], run_length, k)[0]) for k in KINDS}
    draws = np.exp(rng.normal(float(logs.mean()), sd, size=(sims, n)))
    if unit > 0.01:
        origin = float(p[0]) % unit
        draws = origin + np.round((draws - origin) / unit) * unit
    else:
        draws = np.round(draws, 2)
    draws = np.sort(np.asarray(draws, dtype=np.float64), axis=1)
    hit = np.zeros(sims, dtype=bool)
    for kind in KINDS:
        obs = observed[kind]
        if math.isfinite(obs):
            hit |= window_spread(draws, run_length, kind) <= obs * (1 + 1e-9) + 1e-12
    return (1 + int(hit.sum())) / (1 + sims)
