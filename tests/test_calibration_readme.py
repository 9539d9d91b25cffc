"""The README's calibrate line runs as written; an untagged targets file follows the scenario's claim."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from reports.evaluation.calibration.targets import TargetsError
from supsim.cli.calibrate import _targets_ref
from supsim.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


def _readme_line() -> list[str]:
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("supsim calibrate "):
            return shlex.split(line.split("#  ")[0])[1:]
    raise AssertionError("the README has no `supsim calibrate` line")


def test_the_readme_line_exits_0(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    argv = _readme_line()
    assert argv[:3] == ["calibrate", "scenarios/county_hall.yaml", "--targets"]
    code = main(argv)
    out = capsys.readouterr().out
    assert "huiyang.yaml#volume, the figures county_hall.yaml claims" in out
    assert "every figure within tolerance" in out
    assert code == 0


def test_an_untagged_file_takes_the_scenarios_tag_only_for_the_same_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    claimed = f"{ROOT}/scenarios/targets/huiyang.yaml#volume"
    ref, note = _targets_ref("scenarios/targets/../targets/huiyang.yaml", claimed, Path("s.yaml"))
    assert ref.endswith("huiyang.yaml#volume") and note is not None
    assert _targets_ref("x.yaml", claimed, Path("s.yaml")) == ("x.yaml", None)
    assert _targets_ref("scenarios/targets/huiyang.yaml#hall", claimed, Path("s.yaml"))[0].endswith("#hall")
    assert _targets_ref(None, claimed, Path("s.yaml"))[0] == claimed
    with pytest.raises(TargetsError, match="names no `targets:`"):
        _targets_ref(None, None, Path("s.yaml"))
