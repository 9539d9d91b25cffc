"""``supsim discipline-sweep`` on a tiny camera scenario: table, files, clear errors."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import pytest

from supsim.cli.discipline_sweep import average_cells, parse_floats, parse_seeds, register

ROOT = Path(__file__).resolve().parents[1]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="supsim")
    register(parser.add_subparsers(dest="command", required=True))
    return parser


def _scenario(tmp_path: Path, cameras: bool = True) -> Path:
    text = (ROOT / "scenarios" / "smoke.yaml").read_text(encoding="utf-8")
    book = (ROOT / "scenarios" / "rulebooks" / "default.yaml").as_posix()
    lines = [f"rulebook: {book}" if ln.startswith("rulebook:") else ln for ln in text.splitlines()]
    if cameras:
        lines.append("cameras: {}")
    path = tmp_path / "tiny.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(*argv: str) -> int:
    args = _parser().parse_args(["discipline-sweep", *argv])
    code: int = args.func(args)
    return code


def test_sweep_prints_the_table_and_writes_csv_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ("--tpr", "0.9", "--debounce", "0,30", "--days", "1", "--seeds", "3,4", "--out", str(out))
    assert _run(str(_scenario(tmp_path)), *argv) == 0
    printed = capsys.readouterr().out
    assert "2 seed(s), 1 day(s)" in printed and "| 0.90 | 30 | discipline.absence |" in printed
    rows = list(csv.DictReader((out / "discipline_sweep.csv").open(encoding="utf-8")))
    rules = {r["rule"] for r in rows}
    assert "discipline.absence" in rules and "discipline.empty_window" in rules
    assert len(rows) == 2 * 2 * len(rules)  # seeds x debounces x rules
    assert {r["seed"] for r in rows} == {"3", "4"}
    cells = json.loads((out / "discipline_sweep.json").read_text(encoding="utf-8"))["cells"]
    assert len(cells) == 2 * len(rules) and all(c["seeds"] == 2 for c in cells)
    first = (out / "discipline_sweep.csv").read_bytes()
    assert _run(str(_scenario(tmp_path)), *argv) == 0
    assert (out / "discipline_sweep.csv").read_bytes() == first  # same inputs, same bytes


def test_sweep_without_out_says_that_nothing_was_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    scenario = _scenario(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert _run(str(scenario), "--tpr", "0.9", "--debounce", "30", "--days", "1") == 0
    assert "no files written (pass --out DIR" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--tpr", "0.9,x"), "--tpr: 'x' is not a number"),
        (("--tpr", "1.5"), "--tpr: 1.5 is outside [0, 1]"),
        (("--debounce", "-5"), "--debounce: -5 is outside >= 0"),
        (("--seeds", "1,1"), "--seeds: repeated value"),
        (("--seeds", "1.5"), "--seeds: '1.5' is not a whole number"),
        (("--days", "0"), "--days must be >= 1"),
    ],
)
def test_bad_input_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    assert _run(str(_scenario(tmp_path)), *argv) == 2
    assert message in capsys.readouterr().err


def test_missing_file_and_scenario_without_cameras(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(str(tmp_path / "nope.yaml")) == 2
    assert "supsim discipline-sweep:" in capsys.readouterr().err
    assert _run(str(_scenario(tmp_path, cameras=False))) == 2
    assert "no `cameras:` section" in capsys.readouterr().err


def test_helpers() -> None:
    assert parse_floats("0.8, 0.9", "tpr", lo=0, hi=1) == (0.8, 0.9)
    assert parse_seeds("7,8") == (7, 8)
    rows = [
        {
            "tpr": 0.9,
            "leave_debounce_s": 0.0,
            "rule": "r",
            "precision": p,
            "recall": 1.0,
            "f1": f,
            "latency_median_s": lat,
        }
        for p, f, lat in ((1.0, 1.0, 10.0), (0.5, 0.5, None))
    ]
    (mean,) = average_cells(rows)
    assert mean["precision"] == 0.75 and mean["f1"] == 0.75 and mean["latency_median_s"] == 10.0


def test_run_table_of_a_camera_scenario_keeps_the_discipline_accuracy(tmp_path: Path) -> None:
    """The terminal table `supsim run` prints carries the camera rules' scores, as summary.md does."""
    from supsim.experiments.run import run_scenario

    result = run_scenario(_scenario(tmp_path), out_dir=tmp_path / "run", progress=False)
    summary = (tmp_path / "run" / "summary.md").read_text(encoding="utf-8")
    assert "## Hall discipline (camera streams)" in summary
    assert "## Hall discipline (camera streams)" in result.table
    assert "| discipline.absence |" in result.table
    # The rules the discipline table scores are not also called unscored (nor their truth kinds
    # "without a rule"); the cards they escalate to have no truth kind and stay listed.
    for text in (summary, result.table):
        notes = [line for line in text.splitlines() if line.lower().startswith(("unscored", "truth kinds"))]
        assert not any(
            name in line for line in notes for name in ("discipline.absence", "post_absence", "empty_window")
        ), notes
