"""Real cartel data: screens from raw bids, and an honest tender-level evaluation.

Why this module: screens tuned only on our own simulator could be tuned to its quirks. The
labelled files published with García Rodríguez et al. (2022) — Swiss (Ticino), Italian
(Turin) and Brazilian ("Car Wash") proven cartels — let us check that the same formulas the
engine runs (:mod:`engine.rules.collusion.screen_stats`) separate collusive from competitive tenders on real
markets.

Input: a CSV with one row per bid. Required columns: ``Tender`` (tender id) and
``Bid_value`` (the bid amount). For evaluation also ``Collusive_competitor`` (1 for a
collusive tender, constant within a tender). Optional: ``Consortium`` (rows of one tender
with the same non-zero number are the members of one consortium and one bid),
``Winner`` (1 on the winning bid) and ``Pre-Tender Estimate (PTE)``. Other columns are
ignored — in particular the precomputed screens of the published files are recomputed,
never read.

Why consortia are collapsed: the Ticino file repeats a consortium's bid once per member
firm, so a three-firm consortium would count as three identical bids — the screens would
see a tie at the bottom (DIFFP 0) and an inflated bid count. One bid per bidder is what the
screens are defined on, and what the engine sees.

Honest protocol (as the data's README asks): one row per tender, so cross-validation
folds never split a tender; stratified 5-fold cross-validation repeated over a few seeds;
no ids (tender, firm, date, site) among the features; balanced accuracy and ROC AUC
reported besides accuracy, because Ticino is 82 % collusive.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from engine.rules.collusion.screen_stats import SCREEN_NAMES, rd_alt, rd_nor, screens
from reports.evaluation.cartels.amounts import parse_amount

__all__ = [
    "EXTRA_FEATURES",
    "PTE_FEATURES",
    "RD_VARIANTS",
    "WINNER_FEATURES",
    "CartelEvaluation",
    "TenderBids",
    "TenderScreens",
    "evaluate_cartel_data",
    "load_bids_csv",
    "note_partial",
    "tender_screens",
]

TENDER_COL = "Tender"
BID_COL = "Bid_value"
LABEL_COL = "Collusive_competitor"
PTE_COL = "Pre-Tender Estimate (PTE)"
CONSORTIUM_COL = "Consortium"
WINNER_COL = "Winner"
#: Firm id (the published files call it ``Competitors``) and, per bid, whether the bidder
#: belongs to a cartel (``Cartel_name`` in the Italian file, ``Collusive_competitor_original``
#: elsewhere): used only to *measure* ring recovery, never as a feature.
FIRM_COL = "Competitors"
MEMBER_COLS = ("Cartel_name", "Collusive_competitor_original")

#: Features besides the seven screens, all scale-free and computed from the bids alone: the
#: bid count; the CV of the losing bids; the lowest bid, the gap b2 − b1, the spread of all
#: and of the losing bids and the median, each relative to the mean; the regularity of the
#: gaps (std/mean; covers on a pattern make it small); the next gaps b3 − b2 and b4 − b3 and
#: the largest gap among the losers, relative to the lowest bid; and b2 − b1 relative to the
#: median gap among the losers (the designated winner apart from tight covers).
EXTRA_FEATURES: tuple[str, ...] = (
    "N",
    "CV_LOSERS",
    "MIN_MEAN",
    "GAP_MEAN",
    "RANGE_MEAN",
    "MEDIAN_MEAN",
    "LOSERS_RANGE_MEAN",
    "GAP_REGULARITY",
    "GAP2_MIN",
    "GAP3_MIN",
    "MAX_LOSER_GAP_MIN",
    "GAP1_MEDIAN_GAP",
)
#: With a ``Winner`` column: the winner's rank among the sorted bids (0 lowest, 1 highest)
#: and its bid relative to the lowest. Public after the award; not the label.
WINNER_FEATURES: tuple[str, ...] = ("WIN_RANK", "WIN_OVER_MIN")
#: With a pre-tender estimate: the lowest and the mean bid relative to it.
PTE_FEATURES: tuple[str, ...] = ("MIN_PTE", "MEAN_PTE")
#: Imhof's variants of the relative distance (:func:`engine.rules.collusion.screen_stats.rd_nor`, ``rd_alt``).
RD_VARIANTS: tuple[str, ...] = ("RDNOR", "RDALT")

logger = logging.getLogger(__name__)

FeatureSet = Literal["reference", "imhof", "full"]


@dataclass(slots=True)
class TenderBids:
    """One tender of a bids file: one bid per bidder (consortium rows collapsed)."""

    bids: list[float] = field(default_factory=list)
    label: int = -1
    pte: float = math.nan
    winning_bid: float = math.nan
    rows: int = 0
    #: Firm of each bid in ``bids`` (empty when the file has no firm column).
    firms: list[str] = field(default_factory=list)
    #: Firms of this tender that belong to a cartel according to the file.
    members: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class TenderScreens:
    """Per-tender features (rows in tender-id order) and labels (``-1`` where unknown)."""

    tenders: list[str]
    names: tuple[str, ...]
    features: npt.NDArray[np.float64]
    labels: npt.NDArray[np.int64]


def _num(row: dict[str, str], col: str, where: str, decimal: str = ".") -> float:
    v = row.get(col)
    if v is None or v.strip().upper() in _MISSING:  # an optional figure left out, as exports write it
        return math.nan
    try:
        return parse_amount(v, decimal)
    except ValueError as exc:
        raise ValueError(f"{where}: {col} {v!r} {exc}") from None


_DELIMITERS = ",;\t"
_MISSING = ("", "NA", "N/A", "NAN", "NULL", "-")


def _delimiter(header: str) -> str:
    """The separator of a bids file: the one of ``, ; TAB`` its header line uses most.

    Spreadsheets in locales with a decimal comma export semicolon-separated files; read
    with commas their header is one unknown column and every row one field.
    """
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _label(row: dict[str, str], path: Path, lineno: int) -> int:
    v = (row.get(LABEL_COL) or "").strip()
    if v == "":
        return -1
    try:
        x = float(v)
    except ValueError:
        x = math.nan
    if x not in (0.0, 1.0):
        raise ValueError(f"{path}:{lineno}: {LABEL_COL} {v!r} must be 0 or 1 (or empty: unknown)")
    return int(x)


def _bid(row: dict[str, str], path: Path, lineno: int, decimal: str) -> float:
    v = row.get(BID_COL)
    bid = _num(row, BID_COL, f"{path}:{lineno}", decimal)
    if not (math.isfinite(bid) and bid > 0):
        raise ValueError(f"{path}:{lineno}: {BID_COL} {v!r} must be a positive amount")
    return bid


#: Every column the loader reads, by its standard name.
KNOWN_COLUMNS = (TENDER_COL, BID_COL, LABEL_COL, PTE_COL, CONSORTIUM_COL, WINNER_COL, FIRM_COL, *MEMBER_COLS)


def _header_names(path: Path, header: list[str], columns: Mapping[str, str]) -> dict[str, str]:
    """File header → standard name: ``columns`` (standard → header) first, then headers that
    differ from a standard name only in case or surrounding spaces."""
    unknown = [c for c in columns if c not in KNOWN_COLUMNS]
    if unknown:
        known = ", ".join(KNOWN_COLUMNS)
        raise ValueError(f"--columns: unknown column(s) {', '.join(unknown)} (known: {known})")
    absent = [h for h in columns.values() if h not in header]
    if absent:
        names = ", ".join(absent)
        raise ValueError(f"{path}: --columns names {names}, not in the header ({', '.join(header)})")
    rename, folded = {h: c for c, h in columns.items()}, {c.strip().casefold(): c for c in KNOWN_COLUMNS}
    served = set(rename.values())  # one column per name: the mapping's, else the exact name, else a variant
    for h in sorted((h for h in header if h not in rename), key=lambda h: h not in KNOWN_COLUMNS):
        if (std := folded.get(h.strip().casefold())) is not None:
            if std in served or std != h:
                rename[h] = f"~{h}" if std in served else std  # "~": a shadowed column, never read
            served.add(std)
    return rename


def load_bids_csv(
    path: str | Path,
    *,
    collapse_consortia: bool = True,
    columns: Mapping[str, str] | None = None,
    decimal: str = ".",
) -> dict[str, TenderBids]:
    """Bids grouped by tender; rows of one consortium count once (see the module docstring).

    Comma-, semicolon- and tab-separated files are read alike. Columns are found by their
    standard names, ignoring case and surrounding spaces, or through ``columns`` (standard name
    → the file's header, e.g. ``{"Tender": "tender_id"}``). A bid that is not a positive
    number, or a label other than 0/1, is an error naming the line. A tender whose rows carry
    different labels (a per-bidder label) counts as collusive when any of its bids is; how
    many tenders that concerned is logged. Amounts may group thousands with spaces or
    apostrophes; ``decimal=","`` reads ``1.234,50`` (:mod:`~reports.evaluation.cartels.amounts`).
    """
    path = Path(path)
    out: dict[str, TenderBids] = {}
    seen: set[tuple[str, float]] = set()
    mixed: set[str] = set()
    with path.open(newline="", encoding="utf-8-sig") as fh:
        delimiter = _delimiter(fh.readline())
        fh.seek(0)
        reader = csv.DictReader(fh, delimiter=delimiter)
        header = list(reader.fieldnames or ())
        rename = _header_names(path, header, columns or {})
        cols = {rename.get(h, h) for h in header}
        missing = [c for c in (TENDER_COL, BID_COL) if c not in cols]
        if missing:
            raise ValueError(
                f"{path}: missing column(s) {', '.join(missing)} (need {TENDER_COL}, {BID_COL}; "
                f"found {', '.join(header) or 'none'}; map other names with --columns "
                f"{TENDER_COL}=<name>,{BID_COL}=<name>)"
            )
        for lineno, raw in ((reader.line_num, r) for r in reader):  # physical lines: blanks, quoted breaks
            row = {rename.get(k, k): v for k, v in raw.items()} if rename else raw
            where = f"{path}:{lineno}"
            bid = _bid(row, path, lineno, decimal)
            cons = _num(row, CONSORTIUM_COL, where)
            label = _label(row, path, lineno)
            if not (tender := (row[TENDER_COL] or "").strip()):  # None: a row shorter than the header
                raise ValueError(f"{where}: no {TENDER_COL} (an empty cell, or a short row)")
            tb = out.get(tender)
            if tb is None:
                tb = out[tender] = TenderBids(label=label, pte=_num(row, PTE_COL, where, decimal))
            elif math.isnan(tb.pte):  # an estimate on a later row of the tender (the first had none)
                tb.pte = _num(row, PTE_COL, where, decimal)
            if label != tb.label:
                mixed.add(tender)
                tb.label = max(tb.label, label)
            tb.rows += 1
            if _num(row, WINNER_COL, where) == 1 and math.isnan(tb.winning_bid):
                tb.winning_bid = bid
            if collapse_consortia and cons > 0:
                if (tender, cons) in seen:
                    continue
                seen.add((tender, cons))
            tb.bids.append(bid)
            firm = row.get(FIRM_COL)
            if firm:
                tb.firms.append(firm)
                if any(row.get(c) not in (None, "", "0", "0.0") for c in MEMBER_COLS if c in cols):
                    tb.members.add(firm)
    if mixed:
        logger.warning("%s: %d tender(s) carry different %s values on their rows; each counts as collusive "
                       "when any of its bids is (e.g. tender %s)", path, len(mixed), LABEL_COL,
                       min(mixed, key=_tender_key))  # fmt: skip
    return out


def _tender_key(t: str) -> tuple[int, float | str]:
    try:
        return (0, float(t))
    except ValueError:
        return (1, t)


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.nan


def _extras(b: npt.NDArray[np.float64]) -> list[float]:
    m = float(b.mean())
    n = b.size
    losers = b[1:]
    many = losers.size >= 2
    gaps = np.diff(b)
    loser_gaps = np.diff(losers)
    return [
        float(n),
        _ratio(float(losers.std(ddof=1)), float(losers.mean())) if many else math.nan,
        _ratio(float(b[0]), m),
        _ratio(float(b[1] - b[0]), m) if n >= 2 else math.nan,
        _ratio(float(b[-1] - b[0]), m),
        _ratio(float(np.median(b)), m),
        _ratio(float(losers[-1] - losers[0]), float(losers.mean())) if many else math.nan,
        _ratio(float(gaps.std()), float(gaps.mean())) if gaps.size >= 2 else math.nan,
        _ratio(float(b[2] - b[1]), float(b[0])) if n >= 3 else math.nan,
        _ratio(float(b[3] - b[2]), float(b[0])) if n >= 4 else math.nan,
        _ratio(float(loser_gaps.max()), float(b[0])) if many else math.nan,
        _ratio(float(b[1] - b[0]), float(np.median(loser_gaps))) if many else math.nan,
    ]


def _winner(b: npt.NDArray[np.float64], win: float) -> list[float]:
    if math.isnan(win) or b.size < 2:
        return [math.nan, math.nan]
    rank = int(np.searchsorted(b, win, side="left"))
    return [rank / (b.size - 1), _ratio(win - float(b[0]), float(b[0]))]


def note_partial(path: str | Path, some: int, total: int, what: str, features: tuple[str, ...]) -> None:
    """Say when a column's features are left out because only some tenders have it."""
    if 0 < some < total:
        logger.warning(
            "%s: %d of %d tenders have %s; %s need every tender to have one and are left out",
            path,
            some,
            total,
            what,
            ", ".join(features),
        )


def tender_screens(
    path: str | Path,
    *,
    extras: bool = True,
    feature_set: FeatureSet = "full",
    collapse_consortia: bool = True,
    columns: Mapping[str, str] | None = None,
    data: Mapping[str, TenderBids] | None = None,
) -> TenderScreens:
    """Compute the screens and, with ``extras``, the further features of every tender.

    ``columns`` maps standard column names to the file's (see :func:`load_bids_csv`); ``data``
    gives the bids already read (``path`` then only names them in messages).

    ``feature_set="reference"`` is the published reference protocol: the seven screens and
    the bid count. ``"imhof"`` adds :data:`RD_VARIANTS` and, when every tender has an
    estimate, :data:`PTE_FEATURES`. ``"full"`` adds :data:`EXTRA_FEATURES`, the RD variants,
    and :data:`WINNER_FEATURES` / :data:`PTE_FEATURES` when every tender of the file has a
    winner / an estimate.
    """
    if data is None:
        data = load_bids_csv(path, collapse_consortia=collapse_consortia, columns=columns)
    tenders = sorted(data, key=_tender_key)
    n_pte = sum(1 for t in tenders if data[t].pte > 0)  # nan: no estimate
    n_win = sum(1 for t in tenders if not math.isnan(data[t].winning_bid))
    has_pte, has_win = n_pte == len(tenders), n_win == len(tenders)
    if extras and feature_set != "reference":
        note_partial(path, n_pte, len(tenders), "an estimate", PTE_FEATURES)
        if feature_set == "full":
            note_partial(path, n_win, len(tenders), "a winner", WINNER_FEATURES)
    names: tuple[str, ...] = SCREEN_NAMES
    if extras and feature_set == "reference":
        names += ("N",)
    elif extras and feature_set == "imhof":
        names += ("N", *RD_VARIANTS) + PTE_FEATURES * has_pte
    elif extras:
        names += EXTRA_FEATURES + RD_VARIANTS + WINNER_FEATURES * has_win + PTE_FEATURES * has_pte
    rows = []
    for t in tenders:
        tb = data[t]
        b = np.sort(np.asarray(tb.bids, dtype=np.float64))
        s = screens(b)
        row = [s[n] for n in SCREEN_NAMES]
        if extras and feature_set == "reference":
            row.append(float(b.size))
        elif extras and feature_set == "imhof":
            row += [float(b.size), rd_nor(b), rd_alt(b)]
            if has_pte:
                row += [float(b[0]) / tb.pte, float(b.mean()) / tb.pte]
        elif extras:
            row += [*_extras(b), rd_nor(b), rd_alt(b)]
            if has_win:
                row += _winner(b, tb.winning_bid)
            if has_pte:
                row += [float(b[0]) / tb.pte, float(b.mean()) / tb.pte]
        rows.append(row)
    return TenderScreens(
        tenders=tenders,
        names=names,
        features=np.asarray(rows, dtype=np.float64).reshape(len(tenders), len(names)),
        labels=np.asarray([data[t].label for t in tenders], dtype=np.int64),
    )


@dataclass(frozen=True, slots=True)
class CartelEvaluation:
    """Cross-validated tender-level scores (means and standard deviations over repeats)."""

    name: str
    tenders: int
    collusive: int
    features: tuple[str, ...]
    accuracy: float
    balanced_accuracy: float
    auc: float
    auc_cv_alone: float
    balanced_accuracy_sd: float = 0.0
    auc_sd: float = 0.0
    #: Mean impurity importance of each feature over all fitted forests, largest first.
    importances: tuple[tuple[str, float], ...] = ()


def _oob_threshold(oob: npt.NDArray[np.float64], y: npt.NDArray[np.int64]) -> float:
    """The score threshold that maximises balanced accuracy on the training fold's OOB scores.

    Why: a forest's 0.5 cut-off on 82 % collusive data sends the minority class to the
    majority; the out-of-bag scores are honest (each tree scores only tenders it did not see)
    and come from the training fold alone. Among tied thresholds the median one is taken.
    """
    from sklearn.metrics import balanced_accuracy_score

    ok = np.isfinite(oob)
    cands = np.unique(oob[ok])
    if cands.size < 2 or len(set(y[ok].tolist())) < 2:
        return 0.5
    ba = np.asarray([balanced_accuracy_score(y[ok], oob[ok] >= c) for c in cands])
    best = cands[ba >= ba.max() - 1e-12]
    return float(best[best.size // 2])


def evaluate_cartel_data(
    path: str | Path,
    *,
    folds: int = 5,
    repeats: int = 3,
    seed: int = 0,
    n_estimators: int = 300,
    extras: bool = True,
    feature_set: FeatureSet = "imhof",
    collapse_consortia: bool = True,
    threshold: Literal["oob", "half"] = "oob",
) -> CartelEvaluation:
    """Tender-level stratified k-fold evaluation of a random forest on the screens.

    The default features (``"imhof"``) are the seven screens, the bid count, Imhof's two
    relative-distance variants and, where the file has a pre-tender estimate, the lowest and
    mean bid relative to it — all chosen a priori from the screening literature, none tuned
    on these files' labels. Against the reference set they moved Ticino from BA 0.811 / AUC
    0.907 to 0.829 / 0.911, Italy from AUC 0.892 to 0.921 (the estimate ratios), Brazil from
    0.888 to 0.894 (``docs/bidding.md``). The richer ``"full"`` set (gaps, winner position)
    did not rank tenders better on any file, so it is an option, not the default.

    Everything learned is learned inside the training fold: the median that imputes a
    missing screen (tenders with fewer than 4 bids have no kurtosis; they keep their row),
    the forest, and — with ``threshold="oob"`` — the cut-off for balanced accuracy
    (:func:`_oob_threshold`). ``feature_set="reference", collapse_consortia=False,
    threshold="half"`` is the published reference protocol on all tenders.
    """
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    ts = tender_screens(path, extras=extras, feature_set=feature_set, collapse_consortia=collapse_consortia)
    if (ts.labels < 0).any():
        raise ValueError(f"{path}: column {LABEL_COL} is needed for evaluation")
    x, y = ts.features, ts.labels
    x = np.where(np.isfinite(x), x, np.nan)
    accs, baccs, aucs = [], [], []
    imp = np.zeros(len(ts.names))
    for r in range(repeats):
        proba = np.zeros(y.size)
        pred = np.zeros(y.size, dtype=np.int64)
        skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed + r)
        for train, test in skf.split(x, y):
            med = np.nanmedian(np.where(np.isnan(x[train]), np.nan, x[train]), axis=0)
            med = np.where(np.isnan(med), 0.0, med)
            xf = np.where(np.isnan(x), med, x)
            model = RandomForestClassifier(
                n_estimators=n_estimators, oob_score=threshold == "oob", random_state=seed + r, n_jobs=1
            )
            model.fit(xf[train], y[train])
            p = model.predict_proba(xf[test])[:, 1]
            cut = _oob_threshold(model.oob_decision_function_[:, 1], y[train]) if threshold == "oob" else 0.5
            proba[test] = p
            pred[test] = (p >= cut).astype(np.int64)
            imp += model.feature_importances_
        accs.append(accuracy_score(y, pred))
        baccs.append(balanced_accuracy_score(y, pred))
        aucs.append(roc_auc_score(y, proba))
    cv_col = x[:, ts.names.index("CV")]
    cv_col = np.nan_to_num(cv_col, nan=float(np.nanmedian(cv_col)))
    imp /= imp.sum() or 1.0
    order = np.argsort(-imp, kind="stable")
    return CartelEvaluation(
        name=Path(path).stem,
        tenders=int(y.size),
        collusive=int(y.sum()),
        features=ts.names,
        accuracy=float(np.mean(accs)),
        balanced_accuracy=float(np.mean(baccs)),
        auc=float(np.mean(aucs)),
        auc_cv_alone=float(roc_auc_score(y, -cv_col)),
        balanced_accuracy_sd=float(np.std(baccs)),
        auc_sd=float(np.std(aucs)),
        importances=tuple((ts.names[i], round(float(imp[i]), 4)) for i in order),
    )
