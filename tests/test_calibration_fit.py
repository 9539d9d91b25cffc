"""``--fit`` starts from the scenario as written and writes only changes that lower the NRMSE.

The simulation is replaced by a deterministic stand-in (figures computed from the candidate's
rates), so these tests check the search's bookkeeping, not the simulator, and run in
milliseconds.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import supsim.experiments.calibrate_fit as fit_mod
from reports.evaluation.calibration.metrics import Figures
from reports.evaluation.calibration.table import calibrate_figures
from reports.evaluation.calibration.targets import decode_targets, load_targets
from reports.render.tables.calibration import render_calibration
from sim.common.scenario import Scenario, load_scenario
from supsim.cli.calibrate import register

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "scenarios" / "smoke.yaml"
NO_RULEBOOK: Any = None  # the stand-in world needs no rule engine

# The stand-in world: logic warnings = 10,000 x skipped_step; deadline warnings = 10,000 x
# slow_walking. Published: 50 logic warnings and 20 deadline warnings (per 100 cases).
TARGETS = """
place: a stand-in place
population: {cases: 100}
figures:
  - {id: logic, metric: logic_warnings, value: 50, basis: per_cases}
  - {id: deadline, metric: deadline_warnings, value: 20, basis: per_cases}
fit:
  - {name: skipped, paths: [misconduct.skipped_step], mode: value, min: 0, max: 0.01}
  - {name: slow, paths: [misconduct.slow_walking], mode: value, min: 0, max: 0.001}
"""


def _fake_replicate(
    scenario: Scenario, rulebook: Any, replications: int, *, workers: int = 1, pool: Any = None
) -> list[Figures]:
    m = scenario.misconduct
    return [
        {
            "cases": 100.0,
            "logic_warnings": 10_000 * m.skipped_step,
            "deadline_warnings": 10_000 * m.slow_walking,
        }
    ] * replications


@pytest.fixture()
def fake_world(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fit_mod, "replicate", _fake_replicate)


def _scenario(skipped: float, slow: float) -> Scenario:
    base = load_scenario(SMOKE)
    import msgspec

    misconduct = msgspec.structs.replace(base.misconduct, skipped_step=skipped, slow_walking=slow)
    return msgspec.structs.replace(base, misconduct=misconduct)


@pytest.mark.usefixtures("fake_world")
def test_a_scenario_outside_the_box_that_cannot_be_improved_comes_back_unchanged() -> None:
    # slow_walking 0.002 lies above the box (max 0.001) and is exactly right: clipping it
    # (the old behaviour) would make the fit worse and write the clipped rate.
    scenario = _scenario(0.005, 0.002)
    fitted, fit, result = fit_mod.fit_scenario(
        scenario,
        NO_RULEBOOK,
        decode_targets(TARGETS),
        replications=1,
        budget=12,
        seed=3,
    )
    assert fit.start == (0.005, 0.002)  # as written, not clipped
    assert fit.start_nrmse == 0.0 and not fit.improved
    assert fit.best == fit.start and fit.best_nrmse == fit.start_nrmse
    assert fitted is scenario
    assert result.nrmse == 0.0


@pytest.mark.usefixtures("fake_world")
def test_only_parameters_that_lower_the_error_change() -> None:
    # skipped_step is wrong (0.008 -> 80 warnings, target 50); slow_walking 0.002 is right
    # but outside the box: the fit must move the first and keep the second as written.
    scenario = _scenario(0.008, 0.002)
    fitted, fit, result = fit_mod.fit_scenario(
        scenario,
        NO_RULEBOOK,
        decode_targets(TARGETS),
        replications=1,
        budget=24,
        seed=3,
    )
    assert fit.improved and fit.best_nrmse < fit.start_nrmse
    assert fit.start_nrmse == pytest.approx((((80 - 50) / 50) ** 2 / 2) ** 0.5, rel=1e-6)
    assert fit.kept == ("slow",)
    assert fitted.misconduct.slow_walking == 0.002
    assert abs(fitted.misconduct.skipped_step - 0.005) < abs(0.008 - 0.005)
    assert result.nrmse == fit.best_nrmse


def _run_cli(tmp_path: Path, scenario: Scenario, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, Path]:
    import msgspec

    src = tmp_path / "s.yaml"
    src.write_bytes(
        msgspec.yaml.encode(msgspec.structs.replace(scenario, rulebook=str(SMOKE.parent / "r.yaml")))
    )
    targets = tmp_path / "t.yaml"
    targets.write_text(TARGETS, encoding="utf-8")
    out = tmp_path / "fitted.yaml"
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(
        ["calibrate", str(src), "--targets", str(targets), "--fit", "--budget", "16", "--out", str(out), "-q"]
    )
    code = args.func(args)
    return code, capsys.readouterr().out, out


@pytest.mark.usefixtures("fake_world")
def test_command_writes_nothing_when_the_fit_does_not_improve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fit_mod, "load_rulebook_for", lambda scenario, path: None)
    code, text, out = _run_cli(tmp_path, _scenario(0.005, 0.002), capsys)
    assert code == 0
    assert "NRMSE: 0.0000 as written -> 0.0000 fitted" in text
    assert "nothing written" in text and not out.exists()


@pytest.mark.usefixtures("fake_world")
def test_command_writes_the_improved_scenario_with_both_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fit_mod, "load_rulebook_for", lambda scenario, path: None)
    code, text, out = _run_cli(tmp_path, _scenario(0.008, 0.002), capsys)
    assert "as written ->" in text and "fitted scenario written to" in text
    header = out.read_text(encoding="utf-8")
    assert "(as written) ->" in header and "slow: 0.002 (kept" in header
    fitted = load_scenario(out)
    assert fitted.misconduct.slow_walking == 0.002 and fitted.misconduct.skipped_step != 0.008
    assert code in (0, 1)


def test_an_at_most_figure_fails_only_beyond_its_limit() -> None:
    targets = decode_targets(
        "place: x\nfigures:\n"
        "  - {id: top, metric: award_discount_max, value: 0.24, basis: rate, bound: at_most}\n"
        "  - {id: floor, metric: award_discount_mean, value: 0.10, basis: rate, bound: at_least}\n"
    )
    scenario = load_scenario(SMOKE)

    def table(top: float, mean: float) -> Sequence[Any]:
        res = calibrate_figures(scenario, targets, [{"award_discount_max": top, "award_discount_mean": mean}])
        return [res, *res.rows]

    res, top, floor = table(0.18, 0.15)  # well inside both limits: no error at all
    assert top.within and floor.within and res.nrmse == 0.0
    res, top, floor = table(0.26, 0.095)  # 8 % above the cap, 5 % under the floor: within ±10 %
    assert top.within and floor.within and res.nrmse is not None and res.nrmse > 0
    res, top, floor = table(0.30, 0.05)  # 25 % above the cap, half the floor
    assert not top.within and not floor.within
    assert res.nrmse == pytest.approx((((0.30 - 0.24) / 0.24) ** 2 / 2 + 0.5**2 / 2) ** 0.5, abs=1e-6)
    assert "rate, at most" in render_calibration(res)


def test_fit_parameters_follow_the_tag() -> None:
    hall = load_targets(ROOT / "scenarios" / "targets" / "huiyang.yaml#hall")
    volume = load_targets(ROOT / "scenarios" / "targets" / "huiyang.yaml#volume")
    assert {p.name for p in volume.fit} == {"arrivals", "logic"}
    assert {p.name for p in hall.fit} == {
        "logic_hall", "steps_hall", "slow_walking", "illegal_suspension", "just_in_time"
    }  # fmt: skip
    (logic,) = [p for p in hall.fit if p.name == "logic_hall"]
    assert len(logic.paths) == 8 and logic.mode == "scale"  # the YAML merge key kept the paths


THREE = (
    TARGETS
    + """  - {name: steps, paths: [service.step_fraction.b], mode: value, min: 1, max: 6}
"""
)


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[Scenario]:
    seen: list[Scenario] = []

    def world(scenario: Scenario, rulebook: Any, replications: int, **_: Any) -> list[Figures]:
        seen.append(scenario)
        return _fake_replicate(scenario, rulebook, replications)

    monkeypatch.setattr(fit_mod, "replicate", world)
    return seen


@pytest.mark.parametrize("budget", [1, 3, 5, 16])
def test_the_budget_is_a_hard_cap(monkeypatch: pytest.MonkeyPatch, budget: int) -> None:
    seen = _counting(monkeypatch)
    _, fit, _ = fit_mod.fit_scenario(
        _scenario(0.008, 0.0005), NO_RULEBOOK, decode_targets(THREE), replications=1, budget=budget, seed=1
    )
    assert len(seen) == fit.evaluations <= budget


def test_a_small_budget_moves_every_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    # Five candidates for three parameters: each must be tried away from the start at least once.
    seen = _counting(monkeypatch)
    fit_mod.fit_scenario(
        _scenario(0.008, 0.0005), NO_RULEBOOK, decode_targets(THREE), replications=1, budget=5, seed=1
    )
    start = seen[0]
    moved = {
        "skipped": any(s.misconduct.skipped_step != start.misconduct.skipped_step for s in seen),
        "slow": any(s.misconduct.slow_walking != start.misconduct.slow_walking for s in seen),
        "steps": any(s.service.step_fraction.b != start.service.step_fraction.b for s in seen),
    }
    assert all(moved.values()), moved


@pytest.mark.usefixtures("fake_world")
def test_progress_shows_n_of_total_and_time_left() -> None:
    lines: list[str] = []
    fit_mod.fit_scenario(
        _scenario(0.008, 0.0005),
        NO_RULEBOOK,
        decode_targets(TARGETS),
        replications=1,
        budget=6,
        seed=1,
        log=lines.append,
    )
    assert lines[0].startswith("[1/6] NRMSE") and "left)" in lines[0]
    assert lines[-1].startswith(f"[{len(lines)}/6]")


@pytest.mark.usefixtures("fake_world")
def test_a_start_outside_the_box_searches_inside_it() -> None:
    # Both rates lie above their boxes. Compass steps from the unclipped start clip back to
    # edge points (the old search ended at NRMSE 0.79 on this budget); from the clipped start
    # the search walks inside the box towards 0.005 / 0.002.
    targets = decode_targets(TARGETS.replace("max: 0.001}", "max: 0.004}"))
    fitted, fit, _ = fit_mod.fit_scenario(
        _scenario(0.02, 0.006), NO_RULEBOOK, targets, replications=1, budget=5, seed=3
    )
    assert fit.evaluations == 5
    assert fit.improved and fit.best_nrmse <= 0.5 + 1e-9
    assert 0 <= fitted.misconduct.skipped_step <= 0.01 and 0 <= fitted.misconduct.slow_walking <= 0.004
