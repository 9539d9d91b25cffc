"""Which model earns its place: nested model choice, a paired comparison, transfer, calibration.

Why nested: a model chosen because it scored best on the folds it is then reported on is a
flattering figure. Here every outer training fold chooses its model by an inner stratified
cross-validation (ROC AUC) among a few candidates whose settings were fixed in advance, picks
its balanced-accuracy threshold and fits its calibration on the same inner out-of-fold scores,
and only then scores the outer test fold. The reference forest (seven screens + N, 300 trees,
García Rodríguez et al. 2022) is fitted on the *same* outer folds, so the difference in AUC is
paired; its interval is a stratified bootstrap over tenders of the mean paired difference over
repeats (the spread across repeats is reported beside it, and is narrower: it does not see
which tenders happened to be in the file). The chosen pipeline's AUC pools its calibrated
out-of-fold probabilities: outer folds may choose models of different kinds, whose raw scores
do not share a scale (``auc_raw`` keeps the raw-score figure).

Why a transfer matrix: a regulator's new market has no labels. Training on one market and
scoring another (:func:`transfer_matrix`) is the figure that says whether a screen model can
be carried over — the features are those every market has (no estimate ratios).

:func:`score_market` is what ``supsim screens --train`` runs: a model chosen and calibrated on
a labelled market, per-tender probabilities on another, and for each flagged tender the
features that drove it against the competitive tenders of the training market
(:func:`drivers`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from reports.evaluation.auc import roc_auc
from reports.evaluation.cartels.data import TenderScreens, _oob_threshold
from reports.evaluation.cartels.features import REFERENCE

__all__ = [
    "CANDIDATES",
    "MarketScores",
    "ModelComparison",
    "compare_with_reference",
    "drivers",
    "make_model",
    "reliability",
    "score_market",
    "transfer_matrix",
]

#: Candidate models, settings fixed a priori (none tuned on these data).
CANDIDATES: tuple[str, ...] = ("forest", "boosting", "logistic")
Array = npt.NDArray[np.float64]


def make_model(kind: str, seed: int, n_estimators: int = 300, n_rows: int = 1000) -> Any:
    """A fresh estimator: ``forest`` (the reference's), ``boosting`` or ``logistic``.

    ``n_rows`` (the training rows) caps the quantiles of the logistic model's transform."""
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import QuantileTransformer

    if kind == "forest":
        return RandomForestClassifier(n_estimators=n_estimators, random_state=seed, n_jobs=1)
    if kind == "boosting":
        return HistGradientBoostingClassifier(
            max_depth=3, learning_rate=0.05, max_iter=200, random_state=seed
        )
    if kind == "logistic":  # ranks to a normal scale: screens like KURT have heavy tails
        return make_pipeline(
            QuantileTransformer(n_quantiles=max(2, min(50, n_rows)), output_distribution="normal"),
            LogisticRegression(C=1.0, max_iter=5000),
        )
    raise ValueError(f"unknown model {kind!r} (known: {', '.join(CANDIDATES)})")


def _impute(train: Array, x: Array) -> Array:
    med = np.nanmedian(np.where(np.isfinite(train), train, np.nan), axis=0)
    med = np.where(np.isnan(med), 0.0, med)
    return np.where(np.isfinite(x), x, med)


def _fit_score(kind: str, seed: int, xtr: Array, ytr: npt.NDArray[np.int64], xte: Array, n_est: int) -> Array:
    model = make_model(kind, seed, n_est, len(xtr))
    model.fit(_impute(xtr, xtr), ytr)
    return np.asarray(model.predict_proba(_impute(xtr, xte))[:, 1], dtype=np.float64)


def _auc(y: npt.NDArray[np.int64], s: Array) -> float:
    """:func:`~reports.evaluation.auc.roc_auc` of labels 0/1; ``nan`` without both classes."""
    auc = roc_auc(s, y == 1)
    return math.nan if auc is None else auc


@dataclass(frozen=True, slots=True)
class _Choice:
    kind: str
    oof: Array  # inner out-of-fold scores of the chosen model on the training fold
    inner_auc: dict[str, float]


def _choose(
    x: Array,
    y: npt.NDArray[np.int64],
    candidates: tuple[str, ...],
    folds: int,
    seed: int,
    n_est: int,
    progress: Callable[[int, int], None] | None = None,
) -> _Choice:
    """The candidate with the best inner cross-validated AUC (ties: the earlier candidate).

    ``progress(done, total)`` after each fold (``folds`` in all)."""
    from sklearn.model_selection import StratifiedKFold

    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = list(skf.split(x, y))
    oof = {k: np.zeros(y.size) for k in candidates}
    for done, (tr, te) in enumerate(splits, 1):
        for k in candidates:
            oof[k][te] = _fit_score(k, seed, x[tr], y[tr], x[te], n_est)
        if progress is not None:
            progress(done, len(splits))
    aucs = {k: _auc(y, oof[k]) for k in candidates}
    best = max(candidates, key=lambda k: (aucs[k], -candidates.index(k)))
    return _Choice(best, oof[best], aucs)


def _platt(scores: Array, y: npt.NDArray[np.int64]) -> tuple[float, float]:
    """Sigmoid calibration ``1 / (1 + exp(-(a s + b)))`` fitted on out-of-fold scores."""
    from sklearn.linear_model import LogisticRegression

    if len(set(y.tolist())) < 2:
        return 0.0, 0.0
    lr = LogisticRegression(C=1e6, max_iter=1000).fit(scores.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def _calibrate(s: Array, ab: tuple[float, float]) -> Array:
    z = np.clip(ab[0] * s + ab[1], -50, 50)
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)


def reliability(p: Array, y: npt.NDArray[np.int64], bins: int = 10) -> list[dict[str, Any]]:
    """Reliability curve: per probability bin, tenders, mean predicted and observed rate."""
    out = []
    edges = np.linspace(0.0, 1.0, bins + 1)
    for lo, hi in pairwise(edges):
        m = (p >= lo) & ((p < hi) if hi < 1.0 else (p <= hi))
        if m.any():
            out.append(
                {
                    "bin": f"{lo:.1f}-{hi:.1f}",
                    "tenders": int(m.sum()),
                    "predicted": float(p[m].mean()),
                    "observed": float(y[m].mean()),
                }
            )
    return out


@dataclass(frozen=True, slots=True)
class ModelComparison:
    """The nested-CV pipeline against the reference forest on the same folds."""

    name: str
    tenders: int
    collusive: int
    features: tuple[str, ...]
    chosen: dict[str, int]
    auc: float
    auc_sd: float
    balanced_accuracy: float
    balanced_accuracy_sd: float
    reference_auc: float
    reference_auc_sd: float
    reference_balanced_accuracy: float
    diff_mean: float
    diff_sd: float
    diff_interval: tuple[float, float]
    brier: float
    reliability: list[dict[str, Any]] = field(default_factory=list)
    #: Out-of-fold calibrated probability and reference score per tender (mean over repeats).
    probability: Array = field(default_factory=lambda: np.zeros(0))
    reference_score: Array = field(default_factory=lambda: np.zeros(0))
    #: Out-of-fold raw score of the model chosen for the tender's fold (mean over repeats).
    #: The chosen kind may differ between folds, so raw scores rank tenders within a fold's
    #: model only; ``probability`` is the one scale shared by every tender.
    score: Array = field(default_factory=lambda: np.zeros(0))
    folds: int = 5
    repeats: int = 10
    #: AUC of the raw scores pooled over folds (models of different kinds mixed), and its
    #: paired difference with the reference and the interval of that.
    auc_raw: float = math.nan
    diff_raw_mean: float = math.nan
    diff_raw_interval: tuple[float, float] = (math.nan, math.nan)


def _paired_interval(
    y: npt.NDArray[np.int64], a: list[Array], b: list[Array], seed: int, n_boot: int = 2000
) -> tuple[float, float]:
    """95 % percentile interval of the mean over repeats of AUC(a_r) − AUC(b_r), resampling
    tenders within each class (the same resample for every repeat and both models)."""
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    diffs = np.empty(n_boot)
    for i in range(n_boot):
        idx = np.concatenate([rng.choice(pos, pos.size), rng.choice(neg, neg.size)])
        diffs[i] = np.mean(
            [_auc(y[idx], ar[idx]) - _auc(y[idx], br[idx]) for ar, br in zip(a, b, strict=True)]
        )
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return float(lo), float(hi)


def _need_both_classes(y: npt.NDArray[np.int64], folds: int, what: str) -> None:
    """A model learns from both kinds of tender, and stratified folds need each kind in every fold."""
    counts = np.bincount(y, minlength=2)
    if counts.min() == 0:
        kind = "collusive" if counts[1] else "competitive"
        raise ValueError(
            f"{what}: all {int(y.size)} labelled tenders are {kind}; a model needs both kinds "
            "(Collusive_competitor 0 and 1)"
        )
    if not _enough(int(counts.min()), folds):
        kind = "collusive" if counts[1] < counts[0] else "competitive"
        fits = [f for f in range(2, int(counts.min()) + 1) if _enough(int(counts.min()), f)]
        hint = f"use --folds {fits[-1]} or add labelled tenders" if fits else "add labelled tenders"
        raise ValueError(
            f"{what}: only {int(counts.min())} {kind} tender(s) for {folds}-fold cross-validation "
            f"with a model chosen inside each fold; {hint}"
        )


def _enough(members: int, folds: int) -> bool:
    """Every stratified fold holds the kind, and every training fold at least 2 of it, so that the
    model choice's inner folds each train on both kinds (with 1, an inner fold has none: a crash)."""
    return members >= folds and members - math.ceil(members / folds) >= 2


def compare_with_reference(
    ts: TenderScreens,
    *,
    name: str = "",
    folds: int = 5,
    repeats: int = 10,
    inner_folds: int = 3,
    seed: int = 0,
    candidates: tuple[str, ...] = CANDIDATES,
    n_estimators: int = 300,
    progress: Callable[[int, int], None] | None = None,
) -> ModelComparison:
    """Repeated stratified (tender-level) CV: nested choice among ``candidates`` vs the reference.

    ``progress(done, total)`` is called after each outer fold (``repeats × folds`` in all).
    """
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import StratifiedKFold

    if (ts.labels < 0).any():
        raise ValueError(f"{name or 'data'}: every tender needs a label (Collusive_competitor)")
    _need_both_classes(ts.labels, folds, name or "data")
    x = np.where(np.isfinite(ts.features), ts.features, np.nan)
    y = ts.labels
    ref_cols = [ts.names.index(n) for n in REFERENCE]
    xr = x[:, ref_cols]
    chosen: dict[str, int] = {k: 0 for k in candidates}
    aucs, raw, bas, raucs, rbas = [], [], [], [], []
    probs: list[Array] = []
    raws: list[Array] = []
    refs: list[Array] = []
    done = 0
    for r in range(repeats):
        prob, score, ref = np.zeros(y.size), np.zeros(y.size), np.zeros(y.size)
        pred, rpred = np.zeros(y.size, dtype=np.int64), np.zeros(y.size, dtype=np.int64)
        skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed + r)
        for tr, te in skf.split(x, y):
            choice = _choose(x[tr], y[tr], candidates, inner_folds, seed + r, n_estimators)
            chosen[choice.kind] += 1
            score[te] = _fit_score(choice.kind, seed + r, x[tr], y[tr], x[te], n_estimators)
            cut = _oob_threshold(choice.oof, y[tr])
            pred[te] = score[te] >= cut
            prob[te] = _calibrate(score[te], _platt(choice.oof, y[tr]))
            forest = make_model("forest", seed + r, n_estimators)
            forest.set_params(oob_score=True)
            forest.fit(_impute(xr[tr], xr[tr]), y[tr])
            ref[te] = forest.predict_proba(_impute(xr[tr], xr[te]))[:, 1]
            rpred[te] = ref[te] >= _oob_threshold(forest.oob_decision_function_[:, 1], y[tr])
            done += 1
            if progress is not None:
                progress(done, repeats * folds)
        # Pooled over folds whose models may differ (a forest here, boosting there): the
        # calibrated probabilities share one scale, the raw scores do not.
        aucs.append(_auc(y, prob))
        raw.append(_auc(y, score))
        bas.append(float(balanced_accuracy_score(y, pred)))
        raucs.append(_auc(y, ref))
        rbas.append(float(balanced_accuracy_score(y, rpred)))
        probs.append(prob)
        raws.append(score)
        refs.append(ref)
    prob_mean, ref_mean = np.mean(probs, axis=0), np.mean(refs, axis=0)
    diffs = np.asarray(aucs) - np.asarray(raucs)
    return ModelComparison(
        name=name,
        tenders=int(y.size),
        collusive=int(y.sum()),
        features=ts.names,
        chosen=chosen,
        auc=float(np.mean(aucs)),
        auc_sd=float(np.std(aucs)),
        balanced_accuracy=float(np.mean(bas)),
        balanced_accuracy_sd=float(np.std(bas)),
        reference_auc=float(np.mean(raucs)),
        reference_auc_sd=float(np.std(raucs)),
        reference_balanced_accuracy=float(np.mean(rbas)),
        diff_mean=float(diffs.mean()),
        diff_sd=float(diffs.std()),
        diff_interval=_paired_interval(y, probs, refs, seed),
        auc_raw=float(np.mean(raw)),
        diff_raw_mean=float(np.mean(np.asarray(raw) - np.asarray(raucs))),
        diff_raw_interval=_paired_interval(y, raws, refs, seed),
        brier=float(np.mean((prob_mean - y) ** 2)),
        reliability=reliability(prob_mean, y),
        probability=prob_mean,
        reference_score=ref_mean,
        score=np.mean(raws, axis=0),
        folds=folds,
        repeats=repeats,
    )


def _common(a: TenderScreens, b: TenderScreens) -> list[str]:
    return [n for n in a.names if n in b.names]


def _columns(ts: TenderScreens, names: list[str]) -> Array:
    x = ts.features[:, [ts.names.index(n) for n in names]]
    return np.where(np.isfinite(x), x, np.nan)


def transfer_matrix(
    markets: dict[str, TenderScreens],
    *,
    seed: int = 0,
    inner_folds: int = 5,
    candidates: tuple[str, ...] = CANDIDATES,
    n_estimators: int = 300,
) -> dict[str, dict[str, dict[str, Any]]]:
    """``[source][target] → {"auc", "reference_auc", "model"}``: train on one market, score another.

    Features: those every market has. The source chooses its model by cross-validation on its
    own labels; the diagonal is that cross-validated AUC (out of fold), the rest are scored
    with the model fitted on the whole source market."""
    names = sorted(set.intersection(*(set(ts.names) for ts in markets.values())), key=lambda n: _order(n))
    ref = [n for n in REFERENCE if n in names]
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for src, ts in markets.items():
        x, y = _columns(ts, names), ts.labels
        choice = _choose(x, y, candidates, inner_folds, seed, n_estimators)
        ref_choice = _choose(_columns(ts, ref), y, ("forest",), inner_folds, seed, n_estimators)
        row: dict[str, dict[str, Any]] = {}
        for dst, tt in markets.items():
            if dst == src:
                auc, rauc = _auc(y, choice.oof), _auc(y, ref_choice.oof)
            else:
                auc = _auc(tt.labels, _fit_score(choice.kind, seed, x, y, _columns(tt, names), n_estimators))
                rauc = _auc(
                    tt.labels,
                    _fit_score("forest", seed, _columns(ts, ref), y, _columns(tt, ref), n_estimators),
                )
            row[dst] = {"auc": auc, "reference_auc": rauc, "model": choice.kind}
        out[src] = row
    return out


def _order(name: str) -> int:
    from reports.evaluation.cartels.features import LITERATURE

    return LITERATURE.index(name) if name in LITERATURE else len(LITERATURE)


def drivers(
    row: Array, ref_x: Array, ref_y: npt.NDArray[np.int64], names: tuple[str, ...] | list[str], *, k: int = 3
) -> list[tuple[str, float, float, str]]:
    """The features of one tender most unlike the reference's competitive tenders, in the
    direction the reference's collusive tenders lean: ``(feature, value, share, side)``, where
    ``share`` of the competitive tenders lie on the other side of the value (≥ 0.9 only)."""
    out = []
    for j, n in enumerate(names):
        v = row[j]
        comp = ref_x[ref_y == 0, j]
        coll = ref_x[ref_y == 1, j]
        comp, coll = comp[np.isfinite(comp)], coll[np.isfinite(coll)]
        if not math.isfinite(v) or comp.size < 5 or coll.size < 5:
            continue
        lean = float(np.median(coll) - np.median(comp))
        if lean == 0:
            continue
        share = float(np.mean(comp > v)) if lean < 0 else float(np.mean(comp < v))
        if share >= 0.9:
            out.append((n, float(v), share, "below" if lean < 0 else "above"))
    return sorted(out, key=lambda d: -d[2])[:k]


@dataclass(frozen=True, slots=True)
class MarketScores:
    """Per-tender scores of an unlabelled (or held-out) market from a model trained elsewhere."""

    tenders: list[str]
    score: Array
    probability: Array
    flagged: npt.NDArray[np.bool_]
    threshold: float
    model: str
    features: tuple[str, ...]
    #: Per tender: the drivers of a flagged tender (empty for the others).
    drivers: list[list[tuple[str, float, float, str]]]


def score_market(
    train: TenderScreens,
    target: TenderScreens,
    *,
    seed: int = 0,
    folds: int = 5,
    candidates: tuple[str, ...] = CANDIDATES,
    n_estimators: int = 300,
    progress: Callable[[int, int], None] | None = None,
) -> MarketScores:
    """Choose, calibrate and threshold a model on ``train``; score every tender of ``target``.

    ``progress(done, total)`` after each fold of the model choice."""
    if (train.labels < 0).any():
        raise ValueError("the training market needs a label for every tender (Collusive_competitor)")
    _need_both_classes(train.labels, folds, "the training market")
    names = _common(train, target)
    x, y = _columns(train, names), train.labels
    choice = _choose(x, y, candidates, folds, seed, n_estimators, progress)
    cut = _oob_threshold(choice.oof, y)
    xt = _columns(target, names)
    score = _fit_score(choice.kind, seed, x, y, xt, n_estimators)
    prob = _calibrate(score, _platt(choice.oof, y))
    flagged = score >= cut
    ref_x = _impute(x, x)
    drive = [drivers(xt[i], ref_x, y, names) if flagged[i] else [] for i in range(len(target.tenders))]
    return MarketScores(
        tenders=list(target.tenders),
        score=score,
        probability=prob,
        flagged=flagged,
        threshold=cut,
        model=choice.kind,
        features=tuple(names),
        drivers=drive,
    )
