"""Network scenarios: the shipped ones load; bad ones fail naming the file and field; the
layout has the declared shape, unique hall ids and seeds that depend only on the hall."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import msgspec
import pytest
import yaml

from sim.common.scenario import ScenarioError
from sim.common.scenario_checks import check_scenario
from sim.network.halls import hall_scenario, spread
from sim.network.layout import hall_seed, layout_halls, sample_halls
from sim.network.scenario import is_network_file, load_network

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _base(name: str = "county_network.yaml") -> dict:
    return yaml.safe_load((SCENARIOS / name).read_text(encoding="utf-8"))


def _fails(tmp_path: Path, data: dict, path: str, reason: str) -> None:
    file = tmp_path / "broken.yaml"
    file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_network(file)
    message = str(info.value)
    assert f"{file}: `{path}` - " in message, message
    assert reason in message, message


def test_the_province_has_the_shape_of_guangdong() -> None:
    net = load_network(SCENARIOS / "province.yaml")
    halls = layout_halls(net)
    levels = Counter(h.level for h in halls)
    assert levels == {"province": 1, "city": 21, "county": 120, "township": 1600}
    assert len(halls) >= 1000
    assert len({h.hall_id for h in halls}) == len(halls)
    assert len({h.seed for h in halls}) == len(halls)
    cities = {h.hall_id: h.unit for h in halls if h.level == "city"}
    assert cities["GD_C01"] == "广州市" and len(cities) == 21
    by_id = {h.hall_id: h for h in halls}
    for h in halls:
        if h.parent is not None:  # a child sits under its parent's path and in its city
            assert h.hall_id.startswith(h.parent + "_")
            assert by_id[h.parent].depth == h.depth - 1
        if h.depth >= 1:
            assert h.city is not None and by_id[h.city].level == "city" and h.hall_id.startswith(h.city)


def test_township_halls_are_small_and_few_have_cameras() -> None:
    net = load_network(SCENARIOS / "province.yaml")
    shapes = [(h, hall_scenario(net, h)[1]) for h in layout_halls(net)]
    town = [s for h, s in shapes if h.level == "township"]
    city = [s for h, s in shapes if h.level == "city"]
    assert max(s.windows for s in town) <= 10 < min(s.windows for s in city)
    assert sum(s.cameras for s in town) / len(town) < 0.2
    assert all(s.cameras for s in city)


def test_every_generated_hall_is_a_valid_hall_scenario() -> None:
    net = load_network(SCENARIOS / "county_network.yaml")
    for spec in layout_halls(net):
        scenario, shape = hall_scenario(net, spec)
        assert check_scenario(scenario) == []
        (hall,) = scenario.halls
        assert hall.id == spec.hall_id and scenario.seed == spec.seed
        assert sum(d.windows for d in hall.departments) == shape.windows
        assert hall.item_mix is not None and sum(hall.item_mix.counts.values()) == shape.items
        assert (scenario.cameras is not None) == shape.cameras


def test_a_hall_is_the_same_in_a_sample_and_under_another_seed_it_differs() -> None:
    net = load_network(SCENARIOS / "province.yaml")
    halls = layout_halls(net)
    sample = sample_halls(halls, 50, net.seed)
    assert len(sample) == 50
    assert [h.hall_id for h in sample] == [h.hall_id for h in halls if h in sample]  # network order
    for spec in sample[:5]:
        assert hall_scenario(net, spec) == hall_scenario(
            net, next(h for h in halls if h.hall_id == spec.hall_id)
        )
    other = msgspec.structs.replace(net, seed=net.seed + 1)
    assert hall_seed(net.seed, "GD_C01") != hall_seed(other.seed, "GD_C01")
    assert hall_seed(net.seed, "GD_C01") == hall_seed(net.seed, "GD_C01")


def test_spread_gives_one_each_and_the_rest_by_weight() -> None:
    assert spread(10, [1.0, 1.0, 1.0]) == [4, 3, 3]
    assert spread(3, [5.0, 1.0, 1.0]) == [1, 1, 1]
    assert sum(spread(125, [1 / (k + 1) ** 0.7 for k in range(40)])) == 125
    with pytest.raises(ValueError, match="cannot spread"):
        spread(2, [1.0, 1.0, 1.0])


def test_network_files_are_told_apart_from_hall_files() -> None:
    assert is_network_file(SCENARIOS / "province.yaml")
    assert is_network_file(SCENARIOS / "county_network.yaml")
    assert not is_network_file(SCENARIOS / "smoke.yaml")
    assert not is_network_file(SCENARIOS / "bidding_market.yaml")


def test_unknown_template_field_names_the_template(tmp_path: Path) -> None:
    data = _base()
    data["templates"]["township"]["windws"] = {"min": 1, "max": 2}
    _fails(tmp_path, data, "$.templates.township", "unknown field `windws`")


def test_out_of_range_value_names_its_path(tmp_path: Path) -> None:
    data = _base()
    data["templates"]["county"]["cameras"] = 1.5
    _fails(tmp_path, data, "$.templates.county.cameras", "Expected `float` <= 1")


def test_unknown_template_is_named(tmp_path: Path) -> None:
    data = _base()
    data["network"]["levels"][1]["template"] = "twonship"
    _fails(tmp_path, data, "$.network.levels[1].template", "unknown template 'twonship'")


def test_root_must_be_one_unit_and_levels_must_not_shrink(tmp_path: Path) -> None:
    data = _base()
    data["network"]["levels"][0]["count"] = 2
    data["network"]["levels"][1]["count"] = 1
    data["network"]["levels"][1]["names"] = []
    file = tmp_path / "broken.yaml"
    file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_network(file)
    paths = [p for p, _ in info.value.problems]
    assert paths == ["$.network.levels[0].count", "$.network.levels[1].count"]


def test_windows_must_cover_every_department(tmp_path: Path) -> None:
    data = _base()
    data["templates"]["township"]["windows"] = {"min": 2, "max": 8}
    _fails(tmp_path, data, "$.templates.township.windows.min", "below departments.max (5)")


def test_a_templates_misconduct_is_checked_as_a_halls(tmp_path: Path) -> None:
    data = _base()
    data["templates"]["township"]["misconduct"] = {"excess_fee": 0.7, "backdated": 0.5}
    _fails(tmp_path, data, "$.templates.township.misconduct", "rates sum to")


def test_a_range_with_min_above_max_is_rejected(tmp_path: Path) -> None:
    data = _base()
    data["templates"]["county"]["departments"] = {"min": 9, "max": 3}
    _fails(tmp_path, data, "$.templates.county.departments", "must not exceed `max`")


def test_calendar_coverage_is_checked_before_anything_runs(tmp_path: Path) -> None:
    data = _base()
    data["start"] = date(2041, 1, 7)
    _fails(tmp_path, data, "$.start", "2041")


def test_validate_and_schema_know_network_files(capsys: pytest.CaptureFixture[str]) -> None:
    from supsim.cli.main import main

    assert main(["validate", str(SCENARIOS / "province.yaml"), str(SCENARIOS / "smoke.yaml")]) == 0
    out = capsys.readouterr().out
    assert "province.yaml: ok (province)" in out and "smoke.yaml: ok (smoke)" in out
    assert main(["schema", "network"]) == 0
    schema = msgspec.json.decode(capsys.readouterr().out)
    assert (
        "HallTemplate" in schema["$defs"] and "templates" in schema["$defs"]["NetworkScenario"]["properties"]
    )
