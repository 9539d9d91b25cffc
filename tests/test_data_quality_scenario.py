"""``data_quality:`` in scenario files and runs: clear errors, an untouched world, the same bytes twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.common.scenario import ScenarioError, load_scenario
from supsim.experiments.run import run_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

MESSY = {
    "systems": [
        {
            "name": "county_exchange",
            "departments": ["D01", "D02"],
            "sync": {"every_minutes": 20},
            "clock": {"skew_minutes": 3, "drift_seconds_per_day": 5},
            "missing": {"step.started": 0.05},
            "duplicates": {"rate": 0.05, "new_id_share": 0.5},
        },
        {
            "name": "hand_entry",
            "departments": ["D03"],
            "backfill": {"rate": 0.1, "delay_hours": {"median": 20}, "stamp": "entry"},
        },
    ]
}


def _smoke(section: dict[str, Any] | None) -> dict[str, Any]:
    data = yaml.safe_load((SCENARIOS / "smoke.yaml").read_text(encoding="utf-8"))
    data["rulebook"] = str(SCENARIOS / "rulebooks" / "default.yaml")
    if section is not None:
        data["data_quality"] = section
    return data


def _write(tmp_path: Path, data: dict[str, Any], name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("system", "field", "reason"),
    [
        ({"sycn": {"every_minutes": 5}}, "$.data_quality.systems[0]", "unknown field `sycn`"),
        ({"sync": {"every_minutes": 0}}, "$.data_quality.systems[0].sync.every_minutes", "> 0"),
        ({"sync": {"every_minutes": 60, "offset_minutes": 60}}, "$.data_quality.systems[0].sync", "below"),
        ({"missing": {"case.opened": 0.1}}, "$.data_quality.systems[0].missing", "case.opened"),
        ({"missing": {"case.closed": 1.5}}, "$.data_quality.systems[0].missing", "<= 1"),
        ({"departments": ["D09"]}, "$.data_quality.systems[0].departments[0]", "unknown department 'D09'"),
        ({"hall": "H9"}, "$.data_quality.systems[0].hall", "unknown hall 'H9'"),
        ({"backfill": {"rate": 0.1, "stamp": "typed"}}, "$.data_quality.systems[0].backfill.stamp", "typed"),
    ],
)
def test_a_bad_section_names_the_file_and_the_field(
    tmp_path: Path, system: dict[str, Any], field: str, reason: str
) -> None:
    section = {"systems": [{"name": "x", "departments": ["D01"], **system}]}
    path = _write(tmp_path, _smoke(section), "bad.yaml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(f"{path}: `{field}")
    assert reason in message


def test_a_department_in_two_systems_is_refused(tmp_path: Path) -> None:
    section = {
        "systems": [{"name": "a", "departments": ["D01"]}, {"name": "b", "departments": ["D02", "D01"]}]
    }
    twice = r"systems\[1\]\.departments\[1\]` - department 'D01' of hall 'H1'"
    with pytest.raises(ScenarioError, match=twice):
        load_scenario(_write(tmp_path, _smoke(section)))


def test_the_messy_county_hall_loads() -> None:
    s = load_scenario(SCENARIOS / "county_hall_messy.yaml")
    assert s.data_quality is not None
    assert s.name == "county_hall_messy"


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.name != "timings.json"}


def test_a_messy_run_is_the_same_bytes_twice_and_leaves_the_world_as_it_was(tmp_path: Path) -> None:
    messy = _write(tmp_path, _smoke(MESSY), "messy.yaml")
    a = run_scenario(messy, out_dir=tmp_path / "a", progress=False)
    b = run_scenario(messy, out_dir=tmp_path / "b", progress=False)
    assert _files(a.out_dir) == _files(b.out_dir)
    assert "impairments.jsonl" in a.files and (a.out_dir / "impairments.jsonl").stat().st_size > 0
    block = json.loads((a.out_dir / "metrics.json").read_bytes())["data_quality"]
    errors = sum(r["impaired"]["fp"] + r["impaired"]["fn"] for r in block["attribution"]["rules"])
    attributed = sum(block["attribution"]["false_alarms"].values()) + sum(
        block["attribution"]["misses"].values()
    )
    assert errors == attributed > 0  # every false alarm and miss has its cause
    assert (
        "Data quality" in (a.out_dir / "summary.md").read_text(encoding="utf-8") and "Data quality" in a.table
    )
    clean = run_scenario(_write(tmp_path, _smoke(None), "clean.yaml"), out_dir=tmp_path / "c", progress=False)
    assert (clean.out_dir / "truth.jsonl").read_bytes() == (a.out_dir / "truth.jsonl").read_bytes()
    assert (clean.out_dir / "events.jsonl").read_bytes() != (a.out_dir / "events.jsonl").read_bytes()
    assert not (clean.out_dir / "impairments.jsonl").exists()
    assert "data_quality" not in (clean.out_dir / "metrics.json").read_text(encoding="utf-8")


def test_without_the_section_a_run_writes_what_the_world_made(tmp_path: Path) -> None:
    from engine.contract.events import read_jsonl
    from sim.hall.world import simulate

    path = _write(tmp_path, _smoke(None))
    out = run_scenario(path, out_dir=tmp_path / "run", progress=False).out_dir
    assert list(read_jsonl(out / "events.jsonl")) == simulate(load_scenario(path)).events
