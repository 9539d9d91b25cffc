"""Calibration: targets files decode strictly, figures scale to the scenario, the table and fit work."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from reports.evaluation.calibration.metrics import ScenarioScale, scenario_scale
from reports.evaluation.calibration.table import calibrate_figures, scaled_target
from reports.evaluation.calibration.targets import FitParam, TargetsError, decode_targets, load_targets
from reports.render.tables.calibration import calibration_table
from sim.common.scenario import load_scenario
from supsim.cli.calibrate import register
from supsim.experiments.calibrate_fit import apply_params, fit_scenario, load_rulebook_for

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "scenarios" / "smoke.yaml"
TARGETS = ROOT / "scenarios" / "targets"

SMOKE_TARGETS = """
place: a made-up smoke town
period: {working_days: 100}
population: {cases: 10000, departments: 6}
figures:
  - {id: cases, metric: cases, value: 5000, basis: count, per: [departments]}
  - {id: logic, metric: logic_warnings, value: 1500, basis: per_cases}
  - {id: instant, metric: instant_share, value: 0.35, basis: rate}
  - {id: windows, metric: windows, value: 5, basis: size}
fit:
  - {name: logic, paths: [misconduct.skipped_step, misconduct.backdated], mode: scale, min: 0.2, max: 3}
"""


@pytest.mark.parametrize("name", ["huiyang.yaml", "qingdao.yaml", "jiaozhou.yaml", "jiaozhou.yaml#trading"])
def test_shipped_targets_load(name: str) -> None:
    targets = load_targets(f"{TARGETS / name.split('#')[0]}{'#' + name.split('#')[1] if '#' in name else ''}")
    assert targets.figures
    if name.endswith("#trading"):
        assert {f.metric for f in targets.figures} == {"award_discount_mean", "award_discount_max"}


def test_unknown_field_and_metric_fail_with_their_path() -> None:
    with pytest.raises(TargetsError, match=r"`\$\.figures\[0\]` - Object contains unknown field `valu`"):
        decode_targets(
            "place: x\nfigures:\n  - {id: a, metric: cases, valu: 1, basis: rate}\n", source="t.yaml"
        )
    with pytest.raises(TargetsError, match=r"t\.yaml: `\$\.figures\[0\]\.metric` - unknown metric 'casez'"):
        decode_targets(
            "place: x\nfigures:\n  - {id: a, metric: casez, value: 1, basis: rate}\n", source="t.yaml"
        )
    with pytest.raises(TargetsError, match=r"needs the file's `period`"):
        decode_targets("place: x\nfigures:\n  - {id: a, metric: cases, value: 1, basis: count}\n")


def test_counts_scale_with_period_and_size_and_stocks_with_period_only() -> None:
    targets = decode_targets(SMOKE_TARGETS)
    scale = ScenarioScale(working_days=10, calendar_days=14, size={"departments": 3.0})
    cases, logic, instant, _ = targets.figures
    assert scaled_target(cases, targets, scale, None) == pytest.approx(5000 * 10 / 100 * 3 / 6)
    assert scaled_target(logic, targets, scale, 200.0) == pytest.approx(1500 * 200 / 10000)
    assert scaled_target(instant, targets, scale, 200.0) == 0.35
    stock = decode_targets(
        "place: x\nperiod: {working_days: 180}\npopulation: {cases: 1}\n"
        "figures:\n  - {id: c, metric: completion_rate, value: 0.98, basis: stock_rate}\n"
    )
    # 2 % open after 180 days is the same pipeline as 36 % open after 10 days
    assert scaled_target(stock.figures[0], stock, scale, None) == pytest.approx(1 - 0.02 * 18)


def test_table_reports_mean_interval_error_and_nrmse() -> None:
    scenario = load_scenario(SMOKE)
    targets = decode_targets(SMOKE_TARGETS)
    runs: list[dict[str, float | None]] = [
        {"cases": 500.0, "logic_warnings": 80.0, "instant_share": 0.35, "windows": 5.0},
        {"cases": 520.0, "logic_warnings": 70.0, "instant_share": 0.33, "windows": 5.0},
    ]
    res = calibrate_figures(scenario, targets, runs)
    by_id = {r.id: r for r in res.rows}
    assert by_id["windows"].within and by_id["windows"].rel_error == 0
    assert by_id["logic"].target == pytest.approx(1500 * 510 / 10000)
    assert by_id["logic"].mean == 75 and by_id["logic"].ci is not None
    assert by_id["logic"].ci[0] < 75 < by_id["logic"].ci[1]
    errs = [(r.mean - r.target) / r.target for r in res.rows]  # type: ignore[operator]
    assert res.nrmse == pytest.approx((sum(e * e for e in errs) / len(errs)) ** 0.5, abs=1e-6)
    assert not res.all_within  # cases: 510 vs 250


def test_city_hall_structure_matches_qingdao() -> None:
    text = calibration_table(ROOT / "scenarios" / "city_hall.yaml", TARGETS / "qingdao.yaml", [_structure()])
    assert "every figure within tolerance" in text


def _structure() -> dict[str, float | None]:
    scale = scenario_scale(load_scenario(ROOT / "scenarios" / "city_hall.yaml"))
    return {**scale.size, "items": 441.0, "instant_item_share": 0.3152}


def test_apply_params_scales_a_group_and_validates() -> None:
    scenario = load_scenario(SMOKE)
    param = FitParam(
        name="g", paths=["misconduct.skipped_step", "misconduct.backdated"], mode="scale", min=0, max=9
    )
    out = apply_params(scenario, [param], [0.5])
    assert out.misconduct.skipped_step == pytest.approx(scenario.misconduct.skipped_step / 2)
    assert out.misconduct.backdated == pytest.approx(scenario.misconduct.backdated / 2)
    with pytest.raises(ValueError):
        apply_params(scenario, [param], [100.0])  # a probability above 1


def test_fit_never_ends_worse_than_it_started() -> None:
    base = load_scenario(SMOKE)
    short = base.__class__(**{**{f: getattr(base, f) for f in base.__struct_fields__}, "days": 7})
    targets = decode_targets(SMOKE_TARGETS.replace("value: 1500", "value: 600"))
    fitted, fit, result = fit_scenario(
        short, load_rulebook_for(base, SMOKE), targets, replications=1, budget=6, seed=1
    )
    assert fit.evaluations <= 6
    assert fit.best_nrmse <= fit.start_nrmse
    assert result.nrmse == fit.best_nrmse
    assert fitted.misconduct.skipped_step != short.misconduct.skipped_step or fit.best == fit.start


def test_command_prints_the_table_and_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    targets = tmp_path / "t.yaml"
    targets.write_text(
        "place: smoke\nfigures:\n  - {id: windows, metric: windows, value: 5, basis: size}\n"
        "  - {id: departments, metric: departments, value: 3, basis: size}\n",
        encoding="utf-8",
    )
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["calibrate", str(SMOKE), "--targets", str(targets), "--replications", "1"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "windows" in out and "NRMSE" in out
