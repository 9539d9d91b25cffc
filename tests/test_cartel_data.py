"""Real cartel data: CSV loading, screens from raw bids, the grouped evaluation, the command."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pytest

from engine.rules.collusion.screen_stats import SCREEN_NAMES
from reports.evaluation.cartels.data import evaluate_cartel_data, load_bids_csv, tender_screens
from supsim.cli.screens import register

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "bidrigging"
BRAZIL = DATA / "DB_Collusion_Brazil_processed.csv"


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bids.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_screens_from_a_minimal_csv(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "Tender,Bid_value,Firm\n1,100,a\n1,110,b\n1,120,c\n1,150,d\n2,50,a\n2,52,b\n",
    )
    ts = tender_screens(path, extras=False)
    assert ts.tenders == ["1", "2"] and ts.names == SCREEN_NAMES
    assert ts.features[0, SCREEN_NAMES.index("SPD")] == pytest.approx(0.5)
    assert math.isnan(ts.features[1, SCREEN_NAMES.index("KURT")])
    assert list(ts.labels) == [-1, -1]


def test_missing_columns_and_bad_numbers_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Bid_value"):
        load_bids_csv(_csv(tmp_path, "Tender,Price\n1,100\n"))
    with pytest.raises(ValueError, match=r"bids\.csv:3: Bid_value 'abc'"):
        load_bids_csv(_csv(tmp_path, "Tender,Bid_value\n1,100\n1,abc\n"))


def test_evaluation_needs_labels(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Collusive_competitor"):
        evaluate_cartel_data(_csv(tmp_path, "Tender,Bid_value\n1,100\n1,110\n1,120\n"))


def test_screens_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    path = _csv(tmp_path, "Tender,Bid_value,Collusive_competitor\n7,100,1\n7,110,1\n7,120,1\n7,150,1\n")
    args = parser.parse_args(["screens", "--data", str(path)])
    assert args.func(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Tender,CV,SPD,DIFFP,RD,KURT,SKEW,KS,Collusive_competitor"
    assert out[1].startswith("7,") and out[1].endswith(",1")
    bad = parser.parse_args(["screens", "--data", str(tmp_path / "absent.csv")])
    assert bad.func(bad) == 2


@pytest.mark.skipif(not BRAZIL.exists(), reason=f"real cartel data not found ({BRAZIL.name} beside the repo)")
def test_brazil_screens_separate_cartel_tenders() -> None:
    res = evaluate_cartel_data(BRAZIL, repeats=1, n_estimators=100)
    assert (res.tenders, res.collusive) == (101, 33)
    assert "Tender" not in res.features and "Competitors" not in res.features
    assert res.auc > 0.75 and res.auc_cv_alone > 0.75
    assert res.balanced_accuracy > 0.65


def test_a_consortium_is_one_bid_and_the_winner_is_read(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "Tender,Bid_value,Consortium,Winner\n1,100,1,1\n1,100,1,1\n1,100,1,1\n1,112,0,0\n1,130,0,0\n",
    )
    tb = load_bids_csv(path)["1"]
    assert (tb.bids, tb.rows, tb.winning_bid) == ([100.0, 112.0, 130.0], 5, 100.0)
    assert load_bids_csv(path, collapse_consortia=False)["1"].bids == [100.0] * 3 + [112.0, 130.0]
    ts = tender_screens(path, feature_set="full")
    assert ts.features[0, ts.names.index("DIFFP")] == pytest.approx(0.12)
    assert ts.features[0, ts.names.index("N")] == 3
    assert ts.features[0, ts.names.index("WIN_RANK")] == 0.0
    assert tender_screens(path, feature_set="reference").names == (*SCREEN_NAMES, "N")
    imhof = tender_screens(path, feature_set="imhof")
    assert imhof.names == (*SCREEN_NAMES, "N", "RDNOR", "RDALT")  # no estimate column: no PTE ratios
    # b2 - b1 = 12 over the mean adjacent gap (130 - 100) / 2, and over the losers' gap 130 - 112.
    assert imhof.features[0, 8] == pytest.approx(12 / 15) and imhof.features[0, 9] == pytest.approx(12 / 18)


def test_oob_threshold_maximises_balanced_accuracy_on_the_training_scores() -> None:
    import numpy as np

    from reports.evaluation.cartels.data import _oob_threshold

    scores = np.asarray([0.2, 0.3, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97])
    labels = np.asarray([0, 0, 0, 1, 1, 1, 1, 1])
    assert _oob_threshold(scores, labels) == pytest.approx(0.7)
    assert _oob_threshold(scores, np.ones(8, dtype=np.int64)) == 0.5
