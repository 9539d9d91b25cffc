"""``fit`` paths reach any number in a scenario, through lists too, or fail naming the path."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports.evaluation.calibration.targets import TargetsError, decode_targets
from sim.common.scenario import load_scenario
from supsim.experiments.calibrate_fit import apply_params, check_fit_paths

ROOT = Path(__file__).resolve().parents[1]
COUNTY = ROOT / "scenarios" / "county_hall.yaml"


def _params(*paths: str) -> str:
    listed = ", ".join(f'"{p}"' for p in paths)
    return f"""
place: p
population: {{cases: 100}}
figures: [{{id: a, metric: instant_share, value: 0.3, basis: rate}}]
fit: [{{name: x, paths: [{listed}], mode: value, min: 0.1, max: 0.5}}]
"""


def test_the_documented_list_path_is_fitted() -> None:
    scenario = load_scenario(COUNTY)
    targets = decode_targets(_params("halls.0.item_mix.instant_share"))
    check_fit_paths(scenario, targets.fit, "t.yaml")
    fitted = apply_params(scenario, targets.fit, [0.42])
    mix = fitted.halls[0].item_mix
    assert mix is not None and mix.instant_share == pytest.approx(0.42)
    assert scenario.halls[0].item_mix is not None and scenario.halls[0].item_mix.instant_share == 0.3


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("halls.7.item_mix.instant_share", "has 1 entries; index 7 does not exist"),
        ("halls.first.item_mix.instant_share", "is a list: the next part must be an index"),
        ("halls.0.item_mix.instant_shares", "has no field 'instant_shares'"),
        ("misconduct.slow_walking.x", "is a value"),
        ("halls.0.item_mix", "not a number"),
    ],
)
def test_a_path_that_does_not_exist_is_named(path: str, reason: str) -> None:
    scenario = load_scenario(COUNTY)
    targets = decode_targets(_params(path))
    with pytest.raises(TargetsError) as err:
        check_fit_paths(scenario, targets.fit, "t.yaml")
    text = str(err.value)
    assert "t.yaml" in text and "$.fit[x].paths[0]" in text and reason in text


def test_the_command_reports_a_bad_path_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from supsim.cli.main import main

    targets = tmp_path / "t.yaml"
    targets.write_text(_params("halls.3.item_mix.instant_share"), encoding="utf-8")
    code = main(["calibrate", str(COUNTY), "--targets", str(targets), "--fit", "--budget", "2"])
    err = capsys.readouterr().err
    assert code != 0
    assert "index 3 does not exist" in err and "Traceback" not in err and "KeyError" not in err


@pytest.mark.parametrize(("extra", "logged"), [([], False), (["-v"], True)])
def test_the_per_candidate_log_shows_on_a_terminal_or_with_verbose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: list[str], logged: bool
) -> None:
    """Off a terminal (here: pytest's captured stderr) a fit is quiet unless -v asks for the log."""
    import supsim.experiments.calibrate_fit as fit_mod
    from supsim.cli.main import main

    seen: dict[str, object] = {}

    class Stop(Exception):
        pass

    def fake_fit(*args: object, **kw: object) -> None:
        seen["log"] = kw["log"]
        raise Stop

    monkeypatch.setattr(fit_mod, "fit_scenario", fake_fit)
    targets = tmp_path / "t.yaml"
    targets.write_text(_params("halls.0.item_mix.instant_share"), encoding="utf-8")
    with pytest.raises(Stop):
        main(["calibrate", str(COUNTY), "--targets", str(targets), "--fit", "--budget", "2", *extra])
    assert (seen["log"] is not None) is logged


WINDOWS_FIT = """
place: a made-up town with seven windows
population: {cases: 100}
figures: [{id: w, metric: windows, value: 7, basis: size}]
fit: [{name: w, paths: ["halls.0.departments.0.windows"], mode: value, min: 1, max: 6}]
"""


def test_whole_number_fields_are_written_as_whole_numbers() -> None:
    """Windows and posts are counts: a fit writes the nearest count, which the scenario accepts."""
    scenario = load_scenario(COUNTY)
    value = decode_targets(_params("halls.0.departments.0.windows", "halls.0.departments.0.posts.review"))
    fitted = apply_params(scenario, value.fit, [2.6])
    dept = fitted.halls[0].departments[0]
    assert dept.windows == 3 and isinstance(dept.windows, int)
    assert dept.posts["review"] == 3 and isinstance(dept.posts["review"], int)
    scaled = decode_targets(_params("halls.0.departments.0.windows").replace("mode: value", "mode: scale"))
    assert apply_params(scenario, scaled.fit, [1.4]).halls[0].departments[0].windows == 4  # 3 x 1.4 = 4.2
    rate = apply_params(scenario, decode_targets(_params("misconduct.skipped_step")).fit, [0.123456789])
    assert rate.misconduct.skipped_step == pytest.approx(0.12345679)  # rates stay rates


def test_a_fit_on_windows_runs_and_finds_the_published_count(tmp_path: Path) -> None:
    """The smoke hall has 2 + 1 + 2 windows; a published 7 is met by giving D01 four."""
    import msgspec

    from supsim.experiments.calibrate_fit import fit_scenario, load_rulebook_for

    smoke = ROOT / "scenarios" / "smoke.yaml"
    base = load_scenario(smoke)
    short = msgspec.structs.replace(base, days=3)
    fitted, fit, result = fit_scenario(
        short, load_rulebook_for(base, smoke), decode_targets(WINDOWS_FIT), replications=1, budget=8, seed=1
    )
    assert fit.evaluations <= 8
    assert fitted.halls[0].departments[0].windows == 4 and fit.best == (4.0,)
    assert result.nrmse == 0.0
    assert all(float(v).is_integer() for v in fit.best + fit.start)


@pytest.mark.parametrize("metric", ["completion_rate", "early_completion_rate", "instant_share"])
def test_a_percentage_written_as_a_number_is_refused_with_the_fix(metric: str) -> None:
    figure = f"{{id: a, metric: {metric}, value: 97.76, basis: rate}}"
    text = f"place: p\npopulation: {{cases: 100}}\nfigures: [{figure}]\n"
    with pytest.raises(TargetsError) as err:
        decode_targets(text, source="t.yaml")
    message = str(err.value)
    assert "t.yaml" in message and "$.figures[0].value" in message and "write 0.9776" in message


def test_every_shipped_targets_file_still_loads() -> None:
    from reports.evaluation.calibration.targets import load_targets

    files = sorted((ROOT / "scenarios" / "targets").glob("*.yaml"))
    assert files
    for path in files:
        assert load_targets(str(path)).figures, path


def test_processing_time_figures_are_calibrated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """平均办理时间 and 提速率, as bureaus publish them, are figures a targets file can name."""
    from supsim.cli.main import main

    targets = tmp_path / "t.yaml"
    targets.write_text(
        "place: p\npopulation: {cases: 100}\nfigures:\n"
        "  - {id: days, metric: mean_processing_days, value: 1.2, basis: rate}\n"
        "  - {id: speed, metric: processing_speedup, value: 0.5, basis: rate}\n",
        encoding="utf-8",
    )
    code = main(
        [
            "calibrate",
            str(ROOT / "scenarios" / "smoke.yaml"),
            "--targets",
            str(targets),
            "--replications",
            "2",
        ]
    )
    out = capsys.readouterr().out
    assert code in (0, 1)
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith(("days ", "speed "))}
    assert set(rows) == {"days", "speed"} and "n/a" not in "".join(rows.values())
