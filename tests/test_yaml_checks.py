"""Keys given twice and non-finite numbers are refused by every YAML file kind, naming the field.

Before: PyYAML kept the last of two equal keys without a word (``days: 3`` … ``days: 5`` ran
five days; a second ``deadline:`` section replaced the first), and ``.inf`` passed every
``ge=`` bound and then crashed the timers (``cannot convert float NaN to integer``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.contract.holidays import parse_arrangement
from engine.contract.yaml_checks import type_hint, yaml_problems
from engine.rules.rulebook import RulebookError, decode_rulebook
from engine.service.auth import AuthError
from engine.service.config import load_config
from reports.evaluation.calibration.targets import TargetsError, decode_targets
from reports.evaluation.sweeps.grid import GridError, decode_grid
from sim.common.scenario import ScenarioError, decode_scenario, load_scenario
from sim.market.scenario import load_market_scenario

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "scenarios" / "smoke.yaml"


def test_the_problems_name_the_path_and_the_lines() -> None:
    text = "a:\n  b: 1\n  c: [1, .nan, {d: 2, d: 3}]\n  b: 2\ne: -.Inf\nf: 1.0e+400\ng: 1.5\nh: '.inf'\n"
    assert yaml_problems(text) == [
        ("$.a.c[1]", ".nan (line 3) is not a finite number"),
        ("$.a.c[2].d", "given twice (lines 3 and 3); remove one, or the last would win"),
        ("$.a.b", "given twice (lines 2 and 4); remove one, or the last would win"),
        ("$.e", "-.Inf (line 5) is not a finite number"),
        ("$.f", "1.0e+400 (line 6) is not a finite number"),
    ]
    assert yaml_problems("a: [") == []  # malformed: left to the typed decode, which says where


def test_a_scenario_key_given_twice_is_refused() -> None:
    text = SMOKE.read_text(encoding="utf-8") + "\ndays: 5\n"
    with pytest.raises(ScenarioError, match=r"`\$\.days` - given twice \(lines \d+ and \d+\)"):
        decode_scenario(text, source="x.yaml")


def test_a_rulebook_section_twice_or_an_infinite_threshold_is_refused() -> None:
    twice = "rules:\n  deadline:\n    warning_lead_days: 2\n  deadline:\n    warning_lead_days: 1\n"
    with pytest.raises(
        RulebookError, match=r"^rb\.yaml: `\$\.rules\.deadline` - given twice \(lines 2 and 4\)"
    ):
        decode_rulebook(twice, where="rb.yaml")
    for field in ("severe_overdue_days: .inf", "severe_overdue_days: .nan"):
        with pytest.raises(
            RulebookError, match=r"`\$\.rules\.deadline\.severe_overdue_days` - \.(inf|nan) \(line 3"
        ):
            decode_rulebook(f"rules:\n  deadline:\n    {field}\n", where="rb.yaml")


def test_grids_targets_holidays_and_the_service_config_refuse_them_too(tmp_path: Path) -> None:
    with pytest.raises(GridError, match=r"`\$\.params\[0\]\.values\[0\]` - \.inf \(line 3\)"):
        decode_grid("params:\n  - name: step.overdue.grace_days\n    values: [.inf, 0]\n", where="g.yaml")
    with pytest.raises(TargetsError, match=r"`\$\.name` - given twice"):
        decode_targets("name: a\nname: b\nfigures: []\n", source="t.yaml")
    arrangement, problems = parse_arrangement("year: 2026\nsource: x\nyear: 2027\n", "h.yaml")
    assert arrangement is None and [str(p) for p in problems] == [
        "h.yaml: `$.year` - given twice (lines 1 and 3); remove one, or the last would win"
    ]
    config = tmp_path / "service.yaml"
    config.write_text("db: a.db\ndb: b.db\n", encoding="utf-8")
    with pytest.raises(AuthError, match=r"`\$\.db` - given twice"):
        load_config(config)


def test_a_market_scenario_refuses_them(tmp_path: Path) -> None:
    market = (ROOT / "scenarios" / "bidding_market.yaml").read_text(encoding="utf-8")
    path = tmp_path / "m.yaml"
    path.write_text(market + "\nseed: 1\nseed: 2\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"`\$\.seed` - given twice"):
        load_market_scenario(path)


def test_every_shipped_yaml_file_is_clean() -> None:
    """The check could fail on the shipped files (a key twice is an easy slip in 200 lines)."""
    files = sorted((ROOT / "scenarios").rglob("*.yaml")) + sorted((ROOT / "engine").rglob("*.yaml"))
    assert len(files) > 20
    assert {
        str(f.relative_to(ROOT)): yaml_problems(f.read_bytes())
        for f in files
        if yaml_problems(f.read_bytes())
    } == {}


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        ('start: "2025-03-03"', "write dates unquoted"),
        ("days: 1e1", "YAML reads 1e5 as text"),
        ("name: no", "YAML reads yes/no/on/off as true/false"),
    ],
)
def test_yaml_1_1_readings_get_a_hint(line: str, hint: str, tmp_path: Path) -> None:
    key = line.split(":")[0]
    text = "\n".join(
        line if row.startswith(f"{key}:") else row for row in SMOKE.read_text(encoding="utf-8").splitlines()
    )
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=rf"`\$\.{key}` - .*{hint}"):
        load_scenario(path)
    assert type_hint("Expected `int`, got `float`") == "Expected `int`, got `float`"


def test_an_impossible_date_is_named_with_its_field_and_line() -> None:
    """Before: "malformed YAML: day is out of range for month", with neither field nor line."""
    text = SMOKE.read_text(encoding="utf-8").replace("start: 2025-03-03", "start: 2025-02-30")
    line = 1 + text.splitlines().index(next(r for r in text.splitlines() if r.startswith("start:")))
    with pytest.raises(
        ScenarioError, match=rf"`\$\.start` - 2025-02-30 \(line {line}\) is not a date \(day is"
    ):
        decode_scenario(text, source="x.yaml")
    with pytest.raises(
        RulebookError, match=r"`\$\.calendar\.extra_holidays\[1\]` - 2025-13-01 \(line 2\) is not"
    ):
        decode_rulebook("calendar:\n  extra_holidays: [2025-03-04, 2025-13-01]\n", where="rb.yaml")
