"""Cluster bootstrap over cases: confidence intervals that respect how the data were made.

Episodes and alerts are not independent draws: one badly handled case carries an overdue
episode, its severe escalation and a logic fault together, and an engine bug tends to hit
every step of the same case. Resampling *alerts* would pretend otherwise and give intervals
that are too narrow. We resample *cases* (the clusters) with replacement, recount TP, FP and
FN in each replicate, and report percentile intervals of precision, recall and F1.

Why it is fast: a replicate is a multinomial weight vector over the ``n`` clusters, and only
the ``K`` clusters that hold any count matter (the others add zeros). So each replicate draws
how many of its ``n`` picks land on those ``K`` clusters (a binomial), then where they land
(uniform integers); a ``bincount`` turns that into weights and one matrix product gives all
column sums. Work and memory scale with ``B * K`` instead of ``B * n``, chunked to a bounded
block size. This is exactly the multinomial bootstrap, not an approximation.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["ratio_interval", "resample_sums"]

#: Largest weight block (replicates x clusters) materialised at once.
_MAX_CELLS = 1 << 20


def resample_sums(
    values: NDArray[np.float64],
    n_clusters: int,
    *,
    n_resamples: int,
    rng: np.random.Generator,
    max_cells: int = _MAX_CELLS,
) -> NDArray[np.float64]:
    """Column sums of ``values`` in ``n_resamples`` cluster-bootstrap replicates.

    ``values`` has one row per cluster that holds any nonzero count (``K`` rows) and one
    column per quantity; the remaining ``n_clusters - K`` clusters are implicit zero rows.
    Returns an array of shape ``(n_resamples, columns)``.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"values must be 2-D, got shape {values.shape}")
    k, cols = values.shape
    if k > n_clusters:
        raise ValueError(f"{k} nonzero clusters but only n_clusters={n_clusters}")
    if n_resamples < 0:
        raise ValueError(f"n_resamples must be >= 0, got {n_resamples}")
    out = np.zeros((n_resamples, cols), dtype=np.float64)
    if k == 0 or n_resamples == 0:
        return out
    chunk = max(1, max_cells // k)
    p_hit = k / n_clusters
    for start in range(0, n_resamples, chunk):
        b = min(chunk, n_resamples - start)
        hits = rng.binomial(n_clusters, p_hit, size=b)
        where = rng.integers(0, k, size=int(hits.sum()), dtype=np.int32).astype(np.intp)
        where += np.repeat(np.arange(b, dtype=np.intp) * k, hits)
        weights = np.bincount(where, minlength=b * k).reshape(b, k).astype(np.float64)
        out[start : start + b] = weights @ values
    return out


def ratio_interval(
    numerator: NDArray[np.float64], denominator: NDArray[np.float64], *, level: float = 0.95
) -> tuple[float, float] | None:
    """Percentile interval of ``numerator / denominator`` over the replicates where it is defined.

    Replicates with a zero denominator (e.g. no alert drawn at all, so precision is 0/0) are
    left out rather than counted as 0 or 1; ``None`` when no replicate defines the ratio.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    ok = den > 0
    if not ok.any():
        return None
    ratios = num[ok] / den[ok]
    tail = (1.0 - level) / 2.0 * 100.0
    lo, hi = np.percentile(ratios, [tail, 100.0 - tail])
    return float(lo), float(hi)
