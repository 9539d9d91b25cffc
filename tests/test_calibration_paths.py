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
