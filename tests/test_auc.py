"""One AUC for the reports: the pair count's exact value, and scikit-learn's."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.evaluation.auc import roc_auc


def _pairs(scores: list[float], positive: list[bool]) -> float:
    pos = [s for s, y in zip(scores, positive, strict=True) if y]
    neg = [s for s, y in zip(scores, positive, strict=True) if not y]
    return sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6).map(float), st.booleans()), min_size=2, max_size=60))
def test_equals_the_pair_count_bit_for_bit(data: list[tuple[float, bool]]) -> None:
    scores, positive = [s for s, _ in data], [y for _, y in data]
    if all(positive) or not any(positive):
        assert roc_auc(scores, positive) is None
    else:
        assert roc_auc(scores, positive) == _pairs(scores, positive)  # ties (coarse scores) included


def test_equals_scikit_learn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    scores = [0.1, 0.4, 0.35, 0.8, 0.8, 0.2, 0.9, 0.05]
    positive = [False, False, True, True, False, False, True, True]
    assert roc_auc(scores, positive) == pytest.approx(metrics.roc_auc_score(positive, scores), abs=1e-15)
