"""Tender features from the screening literature, fixed before any model saw a test fold.

Why a fixed list: a feature chosen because it helped on the folds it is then scored on makes
the score a measure of the choice, not of the screen. Every feature below was picked from the
literature (or the issue that asked for it) before the cross-validation ran, and the same list
serves every market, the synthetic one included:

* the seven screens of :mod:`engine.rules.collusion.screen_stats` and the bid count ``N``
  (García Rodríguez et al. 2022, the reference forest);
* Imhof's relative-distance variants ``RDNOR`` and ``RDALT`` (Imhof, Karagök & Rutz 2018);
* screens of the losing bids — the covers — alone: ``CV_LOSERS`` (their coefficient of
  variation) and ``SPD_LOSERS`` ((b_max − b2) / b2) (Imhof 2019: cover bids cluster);
* a robust whole-tender dispersion, ``MADN`` = median absolute deviation / median (less moved
  by one wild bid than CV);
* what rounding and ties leave: ``ROUND_SHARE``, the share of bids with at most four
  significant digits (2,853,000 is round, 2,853,100 is not), and ``TIE_SHARE``, the share of
  bids equal (to 1e-9 of their size, whatever the currency unit) to another bid of the tender
  — ties are common on coarse lattices and in cartels that copy one price;
* where every tender has a pre-tender estimate, ``MIN_PTE`` and ``MEAN_PTE`` (the lowest and
  the mean bid over the estimate).

:func:`tender_features` computes them for a bids file, :func:`features_from_bids` for bids
held in memory (a simulated market), so the transfer matrix compares like with like.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from engine.rules.collusion.screen_stats import SCREEN_NAMES, rd_alt, rd_nor, screens
from reports.evaluation.cartels.data import (
    PTE_FEATURES,
    TenderBids,
    TenderScreens,
    _tender_key,
    load_bids_csv,
    note_partial,
)

__all__ = [
    "LITERATURE",
    "REFERENCE",
    "feature_row",
    "features_from_bids",
    "round_share",
    "tender_features",
    "tie_share",
]

#: The reference forest's features (the published protocol).
REFERENCE: tuple[str, ...] = (*SCREEN_NAMES, "N")
#: The literature set without estimate ratios (every market has these).
LITERATURE: tuple[str, ...] = (
    *REFERENCE,
    "RDNOR",
    "RDALT",
    "CV_LOSERS",
    "SPD_LOSERS",
    "MADN",
    "ROUND_SHARE",
    "TIE_SHARE",
)


def round_share(bids: Sequence[float] | npt.NDArray[np.float64], digits: int = 4) -> float:
    """Share of bids with at most ``digits`` significant digits (a whole number of that unit)."""
    b = np.asarray(bids, dtype=np.float64)
    b = b[b > 0]
    if b.size == 0:
        return math.nan
    unit = 10.0 ** (np.floor(np.log10(b)) - (digits - 1))
    k = b / unit
    return float(np.mean(np.abs(k - np.round(k)) < 1e-6))


def tie_share(bids: Sequence[float] | npt.NDArray[np.float64]) -> float:
    """Share of bids equal to another bid of the same tender (to 1e-9 of their size).

    Relative, so the currency unit does not matter: rounding to the cent made every bid written in
    millions (``5.487``) a tie with its neighbours (Ticino in millions: mean share 0.39, not 0)."""
    b = np.sort(np.asarray(bids, dtype=np.float64))
    if b.size == 0:
        return math.nan
    same = np.abs(np.diff(b)) <= 1e-9 * np.maximum(np.abs(b[1:]), np.abs(b[:-1]))
    tied = np.zeros(b.size, dtype=bool)
    tied[1:] |= same
    tied[:-1] |= same
    return float(tied.mean())


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.nan


def feature_row(bids: Sequence[float] | npt.NDArray[np.float64], pte: float = math.nan) -> list[float]:
    """The :data:`LITERATURE` features of one tender, then ``MIN_PTE``, ``MEAN_PTE``."""
    b = np.sort(np.asarray(bids, dtype=np.float64))
    s = screens(b)
    losers = b[1:]
    many = losers.size >= 2
    med = float(np.median(b)) if b.size else math.nan
    row = [s[n] for n in SCREEN_NAMES] + [float(b.size), rd_nor(b), rd_alt(b)]
    row += [
        _ratio(float(losers.std(ddof=1)), float(losers.mean())) if many else math.nan,
        _ratio(float(losers[-1] - losers[0]), float(losers[0])) if many else math.nan,
        _ratio(float(np.median(np.abs(b - med))), med) if b.size >= 2 else math.nan,
        round_share(b),
        tie_share(b),
    ]
    ok = math.isfinite(pte) and pte > 0 and b.size > 0
    row += [float(b[0]) / pte, float(b.mean()) / pte] if ok else [math.nan, math.nan]
    return row


def features_from_bids(
    bids: Mapping[str, Sequence[float]],
    labels: Mapping[str, int] | None = None,
    *,
    pte: Mapping[str, float] | None = None,
) -> TenderScreens:
    """Features of tenders held in memory; estimate ratios only when every tender has one."""
    tenders = sorted(bids, key=_tender_key)
    est = {t: (pte or {}).get(t, math.nan) for t in tenders}
    has_pte = bool(tenders) and all(math.isfinite(v) and v > 0 for v in est.values())
    names = LITERATURE + PTE_FEATURES * has_pte
    width = len(names)
    rows = [feature_row(bids[t], est[t])[:width] for t in tenders]
    return TenderScreens(
        tenders=tenders,
        names=names,
        features=np.asarray(rows, dtype=np.float64).reshape(len(tenders), width),
        labels=np.asarray([(labels or {}).get(t, -1) for t in tenders], dtype=np.int64),
    )


def tender_features(
    path: str | Path, *, data: Mapping[str, TenderBids] | None = None
) -> tuple[TenderScreens, dict[str, TenderBids]]:
    """The literature features of every tender of a bids file (and the parsed file)."""
    parsed = dict(data) if data is not None else load_bids_csv(path)
    with_pte = sum(1 for tb in parsed.values() if tb.pte > 0)
    note_partial(path, with_pte, len(parsed), "an estimate", PTE_FEATURES)
    ts = features_from_bids(
        {t: tb.bids for t, tb in parsed.items()},
        {t: tb.label for t, tb in parsed.items()},
        pte={t: tb.pte for t, tb in parsed.items()},
    )
    return ts, parsed
