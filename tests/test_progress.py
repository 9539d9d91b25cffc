"""Progress bars: shown on a terminal, silent in pipes and CI logs, counts as whole numbers."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pytest

from supsim.experiments.progress import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _drive(unit: str) -> None:
    with Progress("sweep", unit=unit, total=4) as bar:
        for done in range(1, 5):
            time.sleep(0.12)  # past tqdm's 0.1 s between redraws, so every count is drawn
            bar.update_to(done, 4)


def test_silent_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    _drive("seed")
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_shown_on_a_terminal_with_whole_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    _drive("seed")
    text = term.getvalue()
    assert "sweep" in text and "4/4" in text
    assert "1.00" not in text and "4.00" not in text


def test_disabled_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    with Progress("simulate", unit="day", total=3, enabled=False) as bar:
        bar.advance(3)
    assert term.getvalue() == ""


def test_detect_shows_reading_and_judging_on_a_terminal_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from supsim.experiments.detect import detect_file
    from supsim.experiments.run import run_scenario

    root = Path(__file__).resolve().parents[1]
    run = tmp_path / "run"
    run_scenario(root / "scenarios" / "smoke.yaml", out_dir=run, progress=False)
    capsys.readouterr()
    detect_file(run / "events.jsonl", rulebook=None, out=tmp_path / "a.jsonl")
    assert capsys.readouterr().err == ""
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    detect_file(run / "events.jsonl", rulebook=None, out=tmp_path / "b.jsonl")
    assert "read events.jsonl" in term.getvalue() and "detect" in term.getvalue()
