"""Progress bars: shown on a terminal, silent in pipes and CI logs, counts as whole numbers."""

from __future__ import annotations

import io
import sys
import time

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
