"""Bids files as regulators have them: separators, bad values and labels get clear answers."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pytest

from reports.evaluation.cartels.data import TenderScreens, load_bids_csv
from supsim.cli.main import main

ROWS = [("1", "100", "0"), ("1", "110", "0"), ("1", "121", "0"), ("2", "200", "1"), ("2", "201", "1")]


def _csv(path: Path, rows: Sequence[tuple[str, ...]], sep: str = ",") -> Path:
    lines = [sep.join(("Tender", "Bid_value", "Collusive_competitor")), *(sep.join(r) for r in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_files_read_like_comma_files(tmp_path: Path, sep: str) -> None:
    comma = load_bids_csv(_csv(tmp_path / "c.csv", ROWS))
    other = load_bids_csv(_csv(tmp_path / "o.csv", ROWS, sep))
    assert {t: (tb.bids, tb.label) for t, tb in other.items()} == {
        t: (tb.bids, tb.label) for t, tb in comma.items()
    }


@pytest.mark.parametrize(
    ("value", "reason"),
    [("0", "must be a positive amount"), ("-5", "must be a positive amount"), ("nan", "must be a positive"),
     ("1,5", "has a ','; if the file writes decimals with a comma, read it with --decimal ,"),
     ("abc", "is not a number")],
)  # fmt: skip
def test_a_bad_bid_names_file_and_line(tmp_path: Path, value: str, reason: str) -> None:
    path = tmp_path / "b.csv"
    path.write_text(f'Tender,Bid_value\n1,100\n1,"{value}"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=rf"b.csv:3: Bid_value '{value}' {reason}"):
        load_bids_csv(path)


def test_a_text_label_names_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path / "l.csv", [*ROWS[:2], ("1", "121", "yes")])
    assert main(["screens", "--data", str(path)]) == 2
    assert "l.csv:4: Collusive_competitor 'yes' must be 0 or 1" in capsys.readouterr().err


def test_a_label_varying_inside_a_tender_counts_as_collusive_and_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _csv(
        tmp_path / "m.csv", [("1", "100", "0"), ("1", "110", "1"), ("2", "50", "0"), ("2", "55", "0")]
    )
    with caplog.at_level(logging.WARNING):
        data = load_bids_csv(path)
    assert data["1"].label == 1 and data["2"].label == 0
    assert "1 tender(s) carry different Collusive_competitor values" in caplog.text


def test_evaluate_on_one_class_says_so_instead_of_crashing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("sklearn")
    rows = [(str(t), str(100 + 7 * b + t), "0") for t in range(12) for b in range(4)]
    path = _csv(tmp_path / "one.csv", rows)
    assert main(["screens", "--data", str(path), "--evaluate", "--repeats", "1", "--trees", "5"]) == 2
    assert "all 12 labelled tenders are competitive; a model needs both kinds" in capsys.readouterr().err


def test_evaluate_with_fewer_collusive_tenders_than_folds_names_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("sklearn")
    rows = [(str(t), str(100 + 7 * b + t), "1" if t < 3 else "0") for t in range(20) for b in range(4)]
    path = _csv(tmp_path / "few.csv", rows)
    assert main(["screens", "--data", str(path), "--evaluate", "--repeats", "1", "--trees", "5"]) == 2
    said = "only 3 collusive tender(s) for 5-fold cross-validation with a model chosen inside each fold"
    assert f"{said}; use --folds 3 or add labelled tenders" in capsys.readouterr().err


def _two_kinds(tmp_path: Path) -> TenderScreens:
    """16 tenders, every other one collusive (bids close together), as tender features."""
    pytest.importorskip("sklearn")
    from reports.evaluation.cartels.features import tender_features

    rows = [(str(t), str(100 + (1 if t % 2 else 9) * b + t), str(t % 2)) for t in range(16) for b in range(4)]
    return tender_features(_csv(tmp_path / "two.csv", rows))[0]


def test_cross_validation_reports_progress_per_fold(tmp_path: Path) -> None:
    from reports.evaluation.cartels.models import compare_with_reference

    seen: list[tuple[int, int]] = []
    compare_with_reference(
        _two_kinds(tmp_path),
        folds=2,
        repeats=2,
        n_estimators=40,
        candidates=("logistic",),
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_training_on_a_labelled_market_reports_progress_per_fold(tmp_path: Path) -> None:
    from reports.evaluation.cartels.models import score_market

    ts = _two_kinds(tmp_path)
    seen: list[tuple[int, int]] = []
    score_market(
        ts, ts, folds=3, n_estimators=40, candidates=("logistic",), progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_columns_are_found_ignoring_case_or_through_a_mapping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lower = tmp_path / "lower.csv"
    lower.write_text("tender , BID_VALUE\n1,100\n1,110\n1,121\n", encoding="utf-8")
    assert load_bids_csv(lower)["1"].bids == [100.0, 110.0, 121.0]
    own = tmp_path / "own.csv"
    own.write_text("lot;amount\n1;100\n1;110\n1;121\n", encoding="utf-8")
    mapped = load_bids_csv(own, columns={"Tender": "lot", "Bid_value": "amount"})
    assert mapped["1"].bids == [100.0, 110.0, 121.0]
    assert main(["screens", "--data", str(own)]) == 2
    assert "map other names with --columns Tender=<name>,Bid_value=<name>" in capsys.readouterr().err
    assert main(["screens", "--data", str(own), "--columns", "Tender=lot,Bid_value=amount"]) == 0
    assert capsys.readouterr().out.startswith("Tender,CV,")
    assert main(["screens", "--data", str(own), "--columns", "Tender=lot,Bid_value=price"]) == 2
    assert "--columns names price, not in the header (lot, amount)" in capsys.readouterr().err
    assert main(["screens", "--data", str(own), "--columns", "Lot=lot"]) == 2
    assert "--columns: unknown column(s) Lot" in capsys.readouterr().err


def test_an_estimate_on_only_some_tenders_is_said_not_silently_dropped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from reports.evaluation.cartels.data import tender_screens

    path = tmp_path / "pte.csv"
    path.write_text(
        "Tender,Bid_value,Pre-Tender Estimate (PTE)\n1,100,120\n1,110,120\n1,121,120\n2,50,\n2,55,\n2,61,\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING):
        ts = tender_screens(path)
    assert "MIN_PTE" not in ts.names
    assert "1 of 2 tenders have an estimate; MIN_PTE, MEAN_PTE need every tender to have one" in caplog.text


@pytest.mark.parametrize(
    ("written", "decimal"),
    [
        ("1234.5", "."),
        ("1'234.50", "."),
        ("1 234.5", "."),
        ("1.234,5", ","),
        ("1 234,50", ","),
        ("1234,5", ","),
        ("1,234.50", "."),  # before: refused under "." and under "," alike, though unambiguous
    ],
)
def test_amounts_in_other_locales_read_as_the_same_number(written: str, decimal: str) -> None:
    from reports.evaluation.cartels.amounts import parse_amount

    assert parse_amount(written, decimal) == 1234.5


@pytest.mark.parametrize(
    ("written", "decimal"), [("1,500", "."), ("1.5", ","), ("1.23,4", ","), ("1,23.4", "."), ("1,234", ".")]
)
def test_an_ambiguous_mark_is_refused_not_guessed(written: str, decimal: str) -> None:
    from reports.evaluation.cartels.amounts import parse_amount

    with pytest.raises(ValueError, match="decimal"):
        parse_amount(written, decimal)


def test_a_decimal_comma_file_scores_like_the_plain_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = _csv(tmp_path / "p.csv", [("1", "1000.5", "0"), ("1", "1100", "0"), ("1", "1210.25", "0")])
    local = _csv(
        tmp_path / "l.csv", [("1", "1.000,5", "0"), ("1", "1.100", "0"), ("1", "1.210,25", "0")], ";"
    )
    assert main(["screens", "--data", str(plain)]) == 0
    expected = capsys.readouterr().out
    assert main(["screens", "--data", str(local)]) == 2
    assert "read it with --decimal ," in capsys.readouterr().err
    assert main(["screens", "--data", str(local), "--decimal", ","]) == 0
    assert capsys.readouterr().out == expected


def test_a_bad_estimate_names_file_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "e.csv"
    path.write_text(
        'Tender,Bid_value,"Pre-Tender Estimate (PTE)"\n1,100,about 120\n1,110,\n', encoding="utf-8"
    )
    assert main(["screens", "--data", str(path)]) == 2  # ("n/a", "NA", "-", empty: an estimate left out)
    assert "e.csv:2: Pre-Tender Estimate (PTE) 'about 120' is not a number" in capsys.readouterr().err


def test_a_file_not_in_utf8_is_named_with_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: "'utf-8' codec can't decode byte 0xe9 in position 27", naming no file."""
    path = tmp_path / "latin1.csv"
    path.write_bytes("Tender,Bid_value,Société\n1,100,a\n1,120,b\n".encode("latin-1"))
    assert main(["screens", "--data", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"supsim screens: {path}: not UTF-8 text (it holds byte 0xe9); save it as UTF-8")
    wide = tmp_path / "unicode.txt"  # Excel's "Unicode text": UTF-16 with a byte-order mark
    wide.write_bytes("Tender\tBid_value\n1\t100\n1\t120\n".encode("utf-16"))
    assert main(["screens", "--data", str(wide)]) == 2
    assert capsys.readouterr().err.endswith("e.g. iconv -f utf-16 -t utf-8\n")


def test_out_onto_the_bids_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: ``--out`` equal to ``--data`` replaced the bids with their screens, exit 0."""
    path = _csv(tmp_path / "bids.csv", [("1", "100", "0"), ("1", "120", "0")])
    before = path.read_bytes()
    assert main(["screens", "--data", str(path), "--out", str(path)]) == 2
    assert capsys.readouterr().err == f"supsim screens: --out {path} is an input file; give another name\n"
    assert path.read_bytes() == before


def test_a_mapped_column_wins_over_one_of_the_standard_name(tmp_path: Path) -> None:
    """Before: with ``--columns Bid_value=amount`` a column named Bid_value later in the row silently
    replaced the mapped one; and a case variant (bid_value) replaced the exact name."""
    mapped = tmp_path / "m.csv"
    mapped.write_text("Tender,amount,Bid_value\n1,100,5\n1,110,6\n", encoding="utf-8")
    (bids,) = load_bids_csv(mapped, columns={"Bid_value": "amount"}).values()
    assert sorted(bids.bids) == [100.0, 110.0]
    lots = tmp_path / "l.csv"
    lots.write_text("lot,amount,Tender\n1,100,X\n2,110,X\n", encoding="utf-8")
    assert sorted(load_bids_csv(lots, columns={"Tender": "lot", "Bid_value": "amount"})) == ["1", "2"]
    variants = tmp_path / "v.csv"
    variants.write_text("Tender,bid_value,Bid_value\n1,100,5\n1,110,6\n", encoding="utf-8")
    (bids,) = load_bids_csv(variants).values()
    assert sorted(bids.bids) == [5.0, 6.0]


def test_lines_are_physical_and_a_row_without_a_tender_is_named(tmp_path: Path) -> None:
    """Before: a short row was a TypeError traceback, an empty tender id one pseudo-tender "", " 1" and
    "1" two tenders, and after blank lines the line named was the record's count, not the line."""
    blank = tmp_path / "b.csv"
    blank.write_text("Tender,Bid_value\n1,100\n\n\n1,110\n1,abc\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"b\.csv:6: Bid_value 'abc' is not a number"):
        load_bids_csv(blank)
    short = tmp_path / "s.csv"
    short.write_text("Bid_value,Tender\n100,1\n110\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"s\.csv:3: no Tender \(an empty cell, or a short row\)"):
        load_bids_csv(short)
    spaced = tmp_path / "p.csv"
    spaced.write_text("Tender,Bid_value\n 1,100\n1 ,110\n1,120\n", encoding="utf-8")
    assert [len(t.bids) for t in load_bids_csv(spaced).values()] == [3]


@pytest.mark.filterwarnings("ignore:The least populated class in y:UserWarning")  # the boundary tested here
def test_two_folds_need_four_of_each_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: 2 collusive tenders passed the check for ``--folds 2``; an outer training fold then held 1,
    an inner fold of the model choice none, and predict_proba raised IndexError."""
    pytest.importorskip("sklearn")
    rows = [(str(t), str(100 + 7 * b + t), "1" if t < 3 else "0") for t in range(20) for b in range(4)]
    path = _csv(tmp_path / "few.csv", rows)
    argv = ["screens", "--data", str(path), "--evaluate", "--repeats", "1", "--trees", "40", "--folds", "2"]
    assert main(argv) == 2
    assert "only 3 collusive tender(s) for 2-fold cross-validation" in (err := capsys.readouterr().err)
    assert "use --folds 3 or add labelled tenders" in err
    assert main([*argv[:-1], "3"]) == 0  # three folds leave 2 of each kind in every training fold


def test_output_paths_are_checked_before_the_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: --report without --evaluate/--train was ignored (exit 0), and a missing folder for
    --out was found after the cross-validation, as a bare "[Errno 2]"."""
    path = _csv(tmp_path / "bids.csv", [("1", "100", "0"), ("1", "120", "0")])
    assert main(["screens", "--data", str(path), "--report", str(tmp_path / "r.md")]) == 2
    assert capsys.readouterr().err == "supsim screens: --report needs --evaluate or --train\n"
    missing = tmp_path / "nope" / "s.csv"
    assert main(["screens", "--data", str(path), "--evaluate", "--out", str(missing)]) == 2
    assert capsys.readouterr().err == f"supsim screens: --out {missing}: no folder {missing.parent}\n"


def test_an_estimate_on_a_later_row_or_written_na_is_read(tmp_path: Path) -> None:
    """Before: the estimate was read off a tender's first row only (one tender with it on its second
    row dropped MIN_PTE/MEAN_PTE for the whole market), and ``NA`` in an optional column stopped the run."""
    path = tmp_path / "pte.csv"
    path.write_text(
        "Tender,Bid_value,Pre-Tender Estimate (PTE),Winner\n"
        "1,100,,NA\n1,110,120,1\n2,100,NA,\n2,105,130,N/A\n",
        encoding="utf-8",
    )
    assert {k: t.pte for k, t in load_bids_csv(path).items()} == {"1": 120.0, "2": 130.0}
