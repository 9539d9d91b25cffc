"""Per-figure tolerance: relative or absolute; rates near 1 are judged on their complement."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports.evaluation.calibration.table import calibrate_figures
from reports.evaluation.calibration.targets import decode_targets
from sim.common.scenario import load_scenario

SMOKE = Path(__file__).resolve().parents[1] / "scenarios" / "smoke.yaml"


def _judge(figure: str, mean: float) -> tuple[bool | None, float | None]:
    targets = decode_targets(f"place: p\nfigures:\n  - {figure}\n")
    res = calibrate_figures(load_scenario(SMOKE), targets, [{"early_completion_rate": mean, "cases": mean}])
    return res.rows[0].within, res.nrmse


def test_a_rate_near_1_is_judged_on_its_complement() -> None:
    fig = "{id: e, metric: early_completion_rate, value: 0.981, basis: rate}"
    assert _judge(fig, 0.918)[0] is False  # 8.2 % late against 1.9 %: relative ±10 % passed it
    assert _judge(fig, 0.980)[0] is True  # within ±10 % of the 1.9 % late share
    assert _judge(fig, 0.978)[0] is False
    # the NRMSE counts the gap in units of the complement: 0.063 / 0.019 = 3.3, not 0.064
    nrmse = _judge(fig, 0.918)[1]
    assert nrmse == pytest.approx(0.063 / 0.019, rel=1e-3)


def test_a_rate_below_one_half_keeps_the_relative_band() -> None:
    fig = "{id: e, metric: early_completion_rate, value: 0.15, basis: rate}"
    assert _judge(fig, 0.164)[0] is True and _judge(fig, 0.166)[0] is False


def test_explicit_relative_or_absolute_bands() -> None:
    rel = "{id: e, metric: early_completion_rate, value: 0.981, basis: rate, tolerance: 0.10}"
    assert _judge(rel, 0.918)[0] is True  # stated by the file, so honoured
    absolute = "{id: e, metric: early_completion_rate, value: 0.981, basis: rate, abs_tolerance: 0.005}"
    assert _judge(absolute, 0.977)[0] is True and _judge(absolute, 0.975)[0] is False
    count = "{id: e, metric: cases, value: 4, basis: rate, abs_tolerance: 0.5}"
    assert _judge(count, 4.45)[0] is True and _judge(count, 4.6)[0] is False
