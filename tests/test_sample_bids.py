"""The shipped unlabelled market (``scenarios/samples/new_market_bids.csv``) and the bids export behind it."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports.evaluation.cartels.data import load_bids_csv
from reports.evaluation.cartels.run_bids import bids_csv, bids_from_run
from supsim.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "scenarios" / "samples" / "new_market_bids.csv"


@pytest.fixture(scope="module")
def seed12(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("market") / "seed12"
    assert (
        main(
            [
                "run",
                str(ROOT / "scenarios" / "bidding_market.yaml"),
                "--seed",
                "12",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    return out


def test_the_sample_is_seed_12_of_the_bidding_market_without_its_labels(seed12: Path) -> None:
    assert bids_csv(bids_from_run(seed12), labels=False) == SAMPLE.read_text(encoding="utf-8")
    market = load_bids_csv(SAMPLE)
    assert len(market) == 300 and {tb.label for tb in market.values()} == {-1}  # nothing to learn from


def test_a_labelled_export_reads_back_as_the_run(seed12: Path, tmp_path: Path) -> None:
    run = bids_from_run(seed12)
    path = tmp_path / "bids.csv"
    path.write_text(bids_csv(run, labels=True), encoding="utf-8")
    back = load_bids_csv(path)
    assert back.keys() == run.keys()
    for tender, tb in run.items():
        got = back[tender]
        assert (got.bids, got.firms, got.label) == (tb.bids, tb.firms, tb.label), tender
        assert got.pte == tb.pte and got.winning_bid == tb.winning_bid, tender
    assert {tb.label for tb in back.values()} == {0, 1}
