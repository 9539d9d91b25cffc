"""Literature features, the nested comparison with the reference forest, transfer, the command."""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np
import pytest

from reports.evaluation.cartels.features import (
    LITERATURE,
    REFERENCE,
    feature_row,
    features_from_bids,
    round_share,
    tender_features,
    tie_share,
)
from reports.evaluation.cartels.models import (
    compare_with_reference,
    drivers,
    reliability,
    score_market,
    transfer_matrix,
)
from supsim.cli.screens import register

pytest.importorskip("sklearn")


def _market(seed: int, tenders: int = 60, *, tight: float = 0.02, labelled: bool = True) -> dict:
    """Collusive tenders (every third) have tight bids; competitive ones spread like Ticino's."""
    rng = np.random.default_rng(seed)
    bids, labels = {}, {}
    for t in range(tenders):
        col = t % 3 == 0
        n = int(rng.integers(5, 9))
        bids[f"T{t}"] = np.round(
            np.exp(rng.normal(math.log(1e6), tight if col else 0.08, size=n)), 2
        ).tolist()
        labels[f"T{t}"] = int(col)
    return {"bids": bids, "labels": labels if labelled else None}


def _csv(path: Path, m: dict) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Tender", "Bid_value"] + (["Collusive_competitor"] if m["labels"] else []))
        for t, bs in m["bids"].items():
            for b in bs:
                w.writerow([t, b] + ([m["labels"][t]] if m["labels"] else []))
    return path


def test_round_and_tie_shares() -> None:
    assert round_share([2_853_000.0, 2_853_100.0, 999.0, 1_234_567.0]) == 0.5
    assert tie_share([100.0, 100.0, 105.0, 110.0]) == 0.5
    assert tie_share([100.0, 101.0]) == 0.0
    # the same bids in millions: before, rounding to the cent made them ties (share 1.0)
    millions = [5_487_352.77, 5_487_352.77, 5_488_100.0, 5_490_000.0]
    assert tie_share([b / 1e6 for b in millions]) == tie_share(millions) == 0.5


def test_feature_row_has_the_literature_set_and_estimate_ratios() -> None:
    row = feature_row([100.0, 110.0, 120.0, 150.0], pte=200.0)
    assert len(row) == len(LITERATURE) + 2
    named = dict(zip((*LITERATURE, "MIN_PTE", "MEAN_PTE"), row, strict=True))
    assert named["N"] == 4 and named["MIN_PTE"] == 0.5 and named["MEAN_PTE"] == pytest.approx(0.6)
    assert named["SPD_LOSERS"] == pytest.approx(40 / 110)
    ts = features_from_bids({"a": [1.0, 2.0, 3.0]}, {"a": 1})
    assert ts.names == LITERATURE and ts.labels.tolist() == [1]  # no estimate: no ratios


def test_nested_comparison_pairs_the_reference_on_the_same_folds() -> None:
    m = _market(1)
    ts = features_from_bids(m["bids"], m["labels"])
    r = compare_with_reference(ts, repeats=1, n_estimators=25, candidates=("forest", "logistic"))
    assert r.auc > 0.85 and r.reference_auc > 0.85  # tight bids are easy to rank
    assert sum(r.chosen.values()) == 5  # one choice per outer fold
    lo, hi = r.diff_interval
    assert lo <= r.diff_mean + 0.1 and lo < hi
    assert r.probability.shape == (60,) and 0 <= r.brier < 0.25
    assert sum(b["tenders"] for b in r.reliability) == 60
    assert set(REFERENCE) <= set(r.features)


def test_reliability_bins_hold_every_tender() -> None:
    p = np.asarray([0.05, 0.15, 0.95, 1.0])
    y = np.asarray([0, 0, 1, 1])
    bins = reliability(p, y)
    assert [b["bin"] for b in bins] == ["0.0-0.1", "0.1-0.2", "0.9-1.0"]
    assert bins[-1] == {"bin": "0.9-1.0", "tenders": 2, "predicted": 0.975, "observed": 1.0}


def test_drivers_name_what_sets_a_tender_apart_from_the_competitive_reference() -> None:
    rng = np.random.default_rng(0)
    ref_x = np.column_stack([rng.normal(0.08, 0.02, 60), rng.normal(0.5, 0.1, 60)])
    ref_y = np.asarray([1] * 20 + [0] * 40)
    ref_x[:20, 0] = rng.normal(0.02, 0.005, 20)  # collusive: low CV; the second feature says nothing
    why = drivers(np.asarray([0.01, 0.5]), ref_x, ref_y, ["CV", "NOISE"])
    assert [(n, side) for n, _, _, side in why] == [("CV", "below")] and why[0][2] == 1.0


def test_transfer_matrix_and_scoring_an_unlabelled_market() -> None:
    a, b = _market(2), _market(3, tight=0.025)
    markets = {k: features_from_bids(m["bids"], m["labels"]) for k, m in (("a", a), ("b", b))}
    tm = transfer_matrix(markets, n_estimators=25, candidates=("forest",))
    assert set(tm) == {"a", "b"} and tm["a"]["b"]["auc"] > 0.85 and tm["b"]["a"]["auc"] > 0.85
    new = features_from_bids(_market(4, tenders=12, labelled=False)["bids"])
    scored = score_market(markets["a"], new, n_estimators=25, candidates=("forest",))
    flagged = {t for t, f in zip(scored.tenders, scored.flagged, strict=True) if f}
    assert flagged and all(int(t[1:]) % 3 == 0 for t in flagged)
    assert all(scored.drivers[i] for i, f in enumerate(scored.flagged) if f)


def test_screens_command_evaluates_and_scores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    train = _csv(tmp_path / "train.csv", _market(5))
    new = _csv(tmp_path / "new.csv", _market(6, tenders=9, labelled=False))
    common = ["--trees", "20", "--models", "forest", "--repeats", "1"]
    args = parser.parse_args(
        ["screens", "--data", str(train), "--evaluate", "--report", str(tmp_path / "e.md"), *common]
    )
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "reference forest" in out and "AUC difference" in out
    report = (tmp_path / "e.md").read_text(encoding="utf-8")
    assert "Reliability" in report and "| probability | tenders |" in report
    args = parser.parse_args(
        ["screens", "--data", str(new), "--train", str(train), "--out", str(tmp_path / "s.csv"), *common]
    )
    assert args.func(args) == 0
    rows = list(csv.DictReader((tmp_path / "s.csv").open(encoding="utf-8")))
    assert len(rows) == 9 and {"probability", "flagged", "drivers", "reference"} <= set(rows[0])
    assert all((r["drivers"] != "") == (r["flagged"] == "1") for r in rows)
    bad = parser.parse_args(["screens", "--data", str(train), "--evaluate", "--models", "svm"])
    assert bad.func(bad) == 2
    assert "unknown svm" in capsys.readouterr().err


def test_tender_features_reads_a_file(tmp_path: Path) -> None:
    path = _csv(tmp_path / "m.csv", _market(7, tenders=6))
    ts, data = tender_features(path)
    assert sorted(ts.tenders) == sorted(data) and ts.features.shape == (6, len(LITERATURE))
    assert {t: int(y) for t, y in zip(ts.tenders, ts.labels, strict=True)} == {
        f"T{k}": int(k % 3 == 0) for k in range(6)
    }


def test_rank_auc_matches_scikit_learn() -> None:
    from sklearn.metrics import roc_auc_score

    from reports.evaluation.cartels.models import _auc

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200)
    s = np.round(rng.normal(size=200) + y, 1)  # with ties
    assert _auc(y, s) == pytest.approx(float(roc_auc_score(y, s)), abs=1e-12)


def test_evaluate_out_writes_raw_scores_beside_probabilities_and_prints_mean_sd(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import re

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    train = _csv(tmp_path / "train.csv", _market(5))
    out = tmp_path / "oof.csv"
    flags = ["--trees", "20", "--models", "forest,logistic", "--repeats", "2"]
    args = parser.parse_args(["screens", "--data", str(train), "--evaluate", "--out", str(out), *flags])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert re.search(r"model: AUC \d\.\d{3} ± \d\.\d{3} SD over repeats", printed)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    score = [float(r["score"]) for r in rows]
    prob = [float(r["probability"]) for r in rows]
    # Raw scores are the models' own (forest votes, logistic outputs), not the calibrated
    # probabilities written twice; both rank the tenders the same way within a fold's model.
    assert score != prob
    assert all(0.0 <= v <= 1.0 for v in score + prob)
    clear = [r for r in rows if abs(float(r["probability"]) - 0.5) > 1e-3]  # written to 4 places
    assert all((r["flagged"] == "1") == (float(r["probability"]) >= 0.5) for r in clear)


def test_fold_repeat_and_seed_flags_document_their_defaults() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["screens", "--data", "x.csv"])
    assert (args.folds, args.repeats, args.seed) == (5, 3, 0)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["screens"]
    helps = {a.dest: a.help or "" for a in sub._actions}
    assert "default 5" in helps["folds"] and "default 3" in helps["repeats"] and "default 0" in helps["seed"]
    docs = (Path(__file__).resolve().parents[1] / "docs" / "bidding.md").read_text(encoding="utf-8")
    assert "`--repeats` (3 by default" in docs
