"""The area under the ROC curve, from ranks: one implementation for every score in the reports.

AUC is the probability that a random positive scores above a random negative (ties count
half), i.e. the Mann-Whitney U statistic over ``n_pos × n_neg``. Computed from the midranks
of all scores it is ``O(n log n)`` instead of the ``O(n_pos × n_neg)`` pair count, and the
same float: the rank sum and the pair count are both exact multiples of 0.5, divided once.
scikit-learn's ``roc_auc_score`` gives the same value (a test compares them) but is an
optional extra, and the collusion evaluation of a core install needs an AUC.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata

__all__ = ["roc_auc"]


def roc_auc(
    scores: Sequence[float] | npt.NDArray[np.float64], positive: Sequence[bool] | npt.NDArray[np.bool_]
) -> float | None:
    """AUC of ``scores`` for the ``positive`` labels; None without both classes."""
    pos = np.asarray(positive, dtype=bool)
    n1 = int(pos.sum())
    n0 = pos.size - n1
    if n1 == 0 or n0 == 0:
        return None
    ranks = rankdata(np.asarray(scores, dtype=np.float64))
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
