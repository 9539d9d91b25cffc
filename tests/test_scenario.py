"""Scenario files: shipped ones load; broken ones fail early, naming the file and the field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from sim.common.scenario import Scenario, ScenarioError, load_scenario, scenario_json_schema

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
SHIPPED = ["smoke.yaml", "county_hall.yaml", "city_hall.yaml"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_load(name: str) -> None:
    s = load_scenario(SCENARIOS / name)
    assert isinstance(s, Scenario)
    assert s.name == name.removesuffix(".yaml")
    assert s.rulebook_path(SCENARIOS / name) == SCENARIOS / "rulebooks" / "default.yaml"


def test_city_hall_matches_the_published_qingdao_figures() -> None:
    s = load_scenario(SCENARIOS / "city_hall.yaml")
    (hall,) = s.halls
    assert len(hall.departments) == 50
    assert sum(d.windows for d in hall.departments) == 125
    assert sum(d.windows + sum(d.posts.values()) + d.leaders for d in hall.departments) == 346
    assert hall.item_mix is not None
    assert sum(hall.item_mix.counts.values()) == 441


def _base() -> dict:
    return yaml.safe_load((SCENARIOS / "smoke.yaml").read_text(encoding="utf-8"))


def _fails(tmp_path: Path, data: dict, path: str, reason: str) -> ScenarioError:
    file = tmp_path / "broken.yaml"
    file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(file)
    message = str(info.value)
    assert message.startswith(f"{file}: `{path}` - "), message
    assert reason in message
    return info.value


def test_unknown_field_is_rejected_with_its_path(tmp_path: Path) -> None:
    data = _base()
    data["halls"][0]["departments"][1]["widnows"] = 3
    _fails(tmp_path, data, "$.halls[0].departments[1]", "unknown field `widnows`")


def test_bad_type_is_rejected_with_its_path(tmp_path: Path) -> None:
    data = _base()
    data["arrivals"]["cases_per_day"] = "many"
    _fails(tmp_path, data, "$.arrivals.cases_per_day", "Expected `float`")


def test_constraint_violation_is_rejected_with_its_path(tmp_path: Path) -> None:
    data = _base()
    data["halls"][0]["departments"][2]["windows"] = 0
    _fails(tmp_path, data, "$.halls[0].departments[2].windows", "Expected `int` >= 1")


def test_inverted_range_is_rejected(tmp_path: Path) -> None:
    data = _base()
    data["injection"]["backdate_hours"] = {"min": 10, "max": 2}
    _fails(tmp_path, data, "$.injection.backdate_hours", "must not exceed")


def test_unknown_department_reference(tmp_path: Path) -> None:
    data = _base()
    data["halls"][0]["items"][3]["department"] = "D99"
    _fails(tmp_path, data, "$.halls[0].items[3].department", "unknown department 'D99'")


def test_step_on_unknown_post(tmp_path: Path) -> None:
    data = _base()
    data["halls"][0]["items"][0]["steps"][1]["post"] = "audit"
    _fails(tmp_path, data, "$.halls[0].items[0].steps[1].post", "'audit' is not a back-office post")


def test_duplicate_ids(tmp_path: Path) -> None:
    data = _base()
    data["halls"][0]["items"][5]["id"] = data["halls"][0]["items"][2]["id"]
    _fails(tmp_path, data, "$.halls[0].items[5].id", "duplicate item id")
    data = _base()
    data["halls"][0]["departments"][2]["id"] = "D01"
    _fails(tmp_path, data, "$.halls[0].departments[2].id", "duplicate department id")


def test_hourly_profile_must_cover_the_working_day(tmp_path: Path) -> None:
    data = _base()
    data["arrivals"]["hourly_profile"] = [1, 1, 1]
    _fails(tmp_path, data, "$.arrivals.hourly_profile", "the working day has 7 working hours")


def test_rates_must_fit_one_draw_per_case(tmp_path: Path) -> None:
    data = _base()
    data["misconduct"]["backdated"] = 0.9
    _fails(tmp_path, data, "$.misconduct", "sum to")


def test_run_outside_the_calendar_years(tmp_path: Path) -> None:
    data = _base()
    data["start"] = date(2002, 3, 1)
    _fails(tmp_path, data, "$.start", "outside the calendar")
    data = _base()
    data["start"] = date(2026, 12, 25)
    _fails(tmp_path, data, "$.days", "after the calendar's last day")


def test_a_run_must_give_events_the_contract_accepts(tmp_path: Path) -> None:
    """Before: with ``beyond_range: weekdays`` a 1999 run and a 10^13-yuan fee ran, and ``detect`` then
    refused the run's own events.jsonl (instants before 2000-01-01, amounts above 10^12)."""
    data = _base()
    data["start"] = date(1999, 12, 27)
    data["calendar"] = {**data.get("calendar", {}), "beyond_range": "weekdays"}
    _fails(tmp_path, data, "$.start", "before the window: events are dated 2000-01-01..2100-12-31")
    data["start"] = date(2100, 12, 25)
    _fails(tmp_path, data, "$.days", "the run ends on 2101-01-08, after the window")
    data = _base()
    data["halls"][0]["items"][0]["fee_standard"] = 1.0e13
    _fails(tmp_path, data, "$.halls[0].items[0].fee_standard", "<= 1000000000000.0")


def test_instant_item_with_steps_and_limits_over_the_promise(tmp_path: Path) -> None:
    data = _base()
    data["halls"][0]["items"][2]["steps"] = [{"name": "review", "post": "review", "limit_days": 1}]
    _fails(tmp_path, data, "$.halls[0].items[2].steps", "instant item")
    data = _base()
    data["halls"][0]["items"][0]["steps"][0]["limit_days"] = 9
    _fails(tmp_path, data, "$.halls[0].items[0].steps", "more than promised_days")


def test_legal_reason_cannot_be_injected_as_illegal(tmp_path: Path) -> None:
    data = _base()
    data["injection"]["illegal_reasons"] = ["awaiting_leader", "supplement"]
    _fails(tmp_path, data, "$.injection.illegal_reasons[1]", "'supplement' is a legal suspension reason")


def test_every_problem_is_reported(tmp_path: Path) -> None:
    data = _base()
    data["halls"][0]["items"][3]["department"] = "D99"
    data["arrivals"]["hourly_profile"] = [1.0]
    error = _fails(tmp_path, data, "$.halls[0].items[3].department", "unknown department")
    assert [p for p, _ in error.problems] == ["$.halls[0].items[3].department", "$.arrivals.hourly_profile"]


def test_malformed_yaml_and_missing_file(tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad\.yaml: `\$` - malformed YAML"):
        load_scenario(file)
    with pytest.raises(ScenarioError, match="cannot read the file"):
        load_scenario(tmp_path / "absent.yaml")


def test_json_schema_is_generated_from_the_structs() -> None:
    schema = scenario_json_schema()
    defs = schema["$defs"]
    assert defs["Scenario"]["additionalProperties"] is False
    assert "halls" in defs["Scenario"]["required"]
    assert defs["Department"]["properties"]["windows"]["minimum"] == 1


def test_a_day_both_extra_holiday_and_extra_workday_is_named_as_a_date(tmp_path: Path) -> None:
    """Before: the message held ``[datetime.date(2025, 3, 4)]``."""
    data = _base()
    data["calendar"] = {**data.get("calendar", {}), "extra_holidays": [date(2025, 3, 4)]}
    data["calendar"]["extra_workdays"] = [date(2025, 3, 4)]
    error = _fails(
        tmp_path, data, "$.calendar", "listed both in extra_holidays and in extra_workdays: 2025-03-04"
    )
    assert "datetime" not in str(error)
