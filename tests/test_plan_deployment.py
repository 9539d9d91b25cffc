"""``supsim plan deployment``: the sizing arithmetic by hand, the capacity file, the load, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from engine.service.cluster.layout import partition_of_key
from sim.network.layout import layout_halls
from sim.network.scenario import load_network
from supsim.cli.main import main
from supsim.cli.plan_deployment import route
from supsim.experiments.deployment.capacity import Capacity, CapacityError, Figure, read_capacity
from supsim.experiments.deployment.check import scaled_network
from supsim.experiments.deployment.load import measure_one, minute_counts, pick, stratify
from supsim.experiments.deployment.sizing import partitions_for, processes, size_deployment, worker_loads

ROOT = Path(__file__).resolve().parents[1]
COUNTY = ROOT / "scenarios" / "county_network.yaml"


def _capacity(node: float, nats: float | None = None) -> Capacity:
    return Capacity(
        node=Figure(events_per_s=node, file="cap.json", field="$.node_events_per_s"),
        nats=None
        if nats is None
        else Figure(events_per_s=nats, file="cap.json", field="$.nats_events_per_s"),
    )


def test_sizing_by_hand() -> None:
    # 100 halls of 10 events/s: 1,000 at peak; a node carried 100, 20 % kept free -> 80 usable
    # each -> 12.5 -> 13 ingest processes sharing the load evenly, 14 with one node lost
    halls = [(f"H{k:03d}", 10.0) for k in range(100)]
    s = size_deployment(hall_peaks=halls, capacity=_capacity(100, 5000), headroom=0.2)
    assert s.peak_events_per_s == 1000 and s.busiest_hall_events_per_s == 10
    assert (s.ingest.count, s.ingest.count_one_node_lost) == (13, 14)
    assert s.ingest.usable_events_per_s == pytest.approx(80)
    assert s.ingest.load_per_process_events_per_s == pytest.approx(1000 / 13)
    # one R3 group carries 5,000 x 0.8 = 4,000 >= 1,000: three servers, still three with one lost
    assert (s.nats_groups, s.nats.count, s.nats.count_one_node_lost) == (1, 3, 3)
    # workers: at least 13, and the fewest whose busiest one (halls dealt by crc32) fits in 80
    w = s.workers.count
    assert w >= 13 and s.workers.count_one_node_lost == w + 1
    assert s.partitions == partitions_for(w + 1) == max(8, 4 * (w + 1))
    assert max(worker_loads(halls, w, partitions_for(w + 1))) == s.workers.load_per_process_events_per_s <= 80
    if w > 13:
        assert max(worker_loads(halls, w - 1, partitions_for(w))) > 80
    assert s.warnings == ()


def test_worker_loads_follow_the_cluster_map() -> None:
    halls = [("GD_C01", 5.0), ("GD_C02", 3.0), ("GD_C03", 1.0)]
    assert worker_loads(halls, 1, 8) == [9.0]
    two = worker_loads(halls, 2, 8)
    expected = [0.0, 0.0]
    for hall, peak in halls:
        expected[partition_of_key(hall, 8) % 2] += peak
    assert two == expected and sum(two) == 9.0


def test_sizing_exact_multiple_groups_and_warnings() -> None:
    # 844.2 / (120.6 x 0.7) is 10 up to rounding: ten processes, not eleven
    assert processes(844.2, 120.6 * 0.7) == 10
    assert processes(0.0, 5.0) == 1
    one = [("A", 900.0)]  # one hall: one worker whatever its load, and a warning
    s = size_deployment(hall_peaks=one, busiest_hall_events_per_s=90, capacity=_capacity(100), headroom=0.1)
    assert (s.ingest.count, s.workers.count, s.nats_groups, s.nats.count) == (10, 10, 10, 30)
    text = " ".join(s.warnings)
    assert "no NATS figure" in text and "10 replicated groups" in text and "busiest hall" not in text
    s = size_deployment(
        hall_peaks=[("A", 50.0)], busiest_hall_events_per_s=91, capacity=_capacity(100), headroom=0.1
    )
    assert any("busiest hall alone peaks at 91.0" in w for w in s.warnings) and s.workers.count == 1
    with pytest.raises(ValueError, match="headroom"):
        size_deployment(hall_peaks=one, capacity=_capacity(1), headroom=1.0)


def test_capacity_from_a_benchmark_file(tmp_path: Path) -> None:
    bench = {
        "benchmarks": [
            {
                "name": "test_halls_per_node",
                "extra_info": {
                    "halls_per_node": 104,
                    "events_per_s_carried": 120.6,
                    # a step's own rate, failing steps included: never the node figure
                    "steps": [{"halls": 128, "events_per_s": 148.5, "exit": 1}],
                },
            }
        ]
    }
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(bench))
    cap = read_capacity(path)
    assert cap.node.events_per_s == 120.6 and cap.nats is None
    assert cap.node.field == "$.benchmarks[0].extra_info.events_per_s_carried"
    nats = tmp_path / "cluster.json"
    nats.write_text(json.dumps({"benchmarks": [{"extra_info": {"cluster_ingest_events_per_s": 4510}}]}))
    both = read_capacity(path, nats)
    assert both.nats is not None and both.nats.events_per_s == 4510 and both.nats.file == str(nats)
    shipped = read_capacity(ROOT / "scenarios" / "capacity" / "two_core_node.json")
    assert shipped.node.events_per_s == 1774 and shipped.nats is not None


@pytest.mark.parametrize(
    ("content", "field", "reason"),
    [
        ({"steps": [{"events_per_s": 99}]}, "$", "no node capacity: expected one of events_per_s_carried"),
        ({"node": {"events_per_s_carried": 0}}, "$.node.events_per_s_carried", "must be a positive number"),
        ({"node_events_per_s": "fast"}, "$.node_events_per_s", "got 'fast'"),
        (
            {"a": {"node_events_per_s": 1}, "b": {"node_events_per_s": 2}},
            "$.b.node_events_per_s",
            "more than one",
        ),
        ({"node_events_per_s": 5, "nats_events_per_s": -1}, "$.nats_events_per_s", "positive"),
    ],
)
def test_capacity_errors_name_file_and_field(
    tmp_path: Path, content: object, field: str, reason: str
) -> None:
    path = tmp_path / "cap.json"
    path.write_text(json.dumps(content))
    with pytest.raises(CapacityError) as info:
        read_capacity(path)
    assert info.value.source == str(path) and info.value.field == field and reason in info.value.reason
    assert str(info.value).startswith(f"{path}: `{field}` - ")


def test_capacity_file_unreadable_or_not_json(tmp_path: Path) -> None:
    with pytest.raises(CapacityError, match="cannot read the file"):
        read_capacity(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{halls: 3")
    with pytest.raises(CapacityError, match=r"bad.json: `\$` - not JSON"):
        read_capacity(bad)


def test_strata_pick_and_scaled_network() -> None:
    net = load_network(COUNTY)
    halls = layout_halls(net)
    groups = stratify(net, halls)
    assert list(groups) == [("county", True), ("township", True), ("township", False)]
    assert sum(len(g) for g in groups.values()) == len(halls) == 16
    township = groups[("township", False)]
    assert pick(township, 2, net.seed) == pick(list(reversed(township)), 2, net.seed)[::-1]
    assert pick(township, 99, net.seed) == township
    scaled = scaled_network(net, halls, 0.25)
    assert [h.level for h in scaled].count("county") == 1 and [h.level for h in scaled].count("township") == 4
    assert minute_counts([0.0, 59.9, 60.0, 125.0]) == {0: 2, 1: 1, 2: 1}


def test_peak_leaves_out_the_reference_data() -> None:
    """The catalogue and staff authorisations, all at the horizon's start, are not live load."""
    net = msgspec.structs.replace(load_network(COUNTY), days=1)
    small = next(h for h in stratify(net, layout_halls(net))[("township", False)])
    load = measure_one((net, small, None))
    # this hall publishes tens of items and authorisations at 00:00 and a handful of events a minute
    assert load.events > 50 and load.peak_events_per_s < 0.2


def test_route_only_rewrites_plan_deployment() -> None:
    assert route(["plan", "deployment", "n.yaml"]) == ["plan-deployment", "n.yaml"]
    assert route(["-v", "plan", "deployment", "n.yaml"]) == ["-v", "plan-deployment", "n.yaml"]
    same = ["plan", "scenarios/county_hall.yaml", "--target", "wait_p90<=15min", "--vary", "windows=20..24"]
    assert route(same) == same
    assert route(["run", "deployment"]) == ["run", "deployment"] and route([]) == []


def test_cli_plans_and_checks_a_county(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cap = tmp_path / "cap.json"
    cap.write_text(json.dumps({"node_events_per_s": 10}))
    out = tmp_path / "plan"
    argv = ["plan", "deployment", str(COUNTY), "--capacity", str(cap), "--days", "1", "--sample", "1",
            "--workers", "1", "--headroom", "0.5", "--check", "--check-fraction", "0.25",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    doc = json.loads((out / "deployment.json").read_text())
    peak = doc["load"]["peak_events_per_s"]
    assert [lv["level"] for lv in doc["load"]["levels"]] == ["county", "township"]
    assert sum(lv["halls"] for lv in doc["load"]["levels"]) == 16
    assert sum(lv["peak_events_per_s"] for lv in doc["load"]["levels"]) == pytest.approx(peak)
    assert [len(s["sampled"]) for s in doc["load"]["strata"]] == [1, 1, 1]
    sizing = doc["sizing"]
    assert sizing["ingest"]["count"] == processes(peak, 5.0) <= sizing["workers"]["count"]
    assert sizing["workers"]["count_one_node_lost"] == sizing["workers"]["count"] + 1
    assert doc["capacity"]["node"]["file"] == str(cap)
    check = doc["check"]
    assert check["halls"] == 5 and check["halls_per_level"] == {"county": 1, "township": 4}
    workers = [p for p in check["processes"] if p["role"] == "worker"]
    assert len(workers) == sizing["workers"]["count"] == check["workers"]
    assert sum(p["halls"] for p in workers) == 5
    assert sum(p["measured_events_per_s"] for p in workers) == pytest.approx(
        check["measured_peak_events_per_s"]
    )
    assert all(p["engine_events_per_cpu_s"] > 0 for p in workers if p["halls"])
    for expected in ("county ", "township ", "total ", "engine worker", "NATS server", "one node lost",
                     f"node capacity 10.0 events/s from {cap}", "headroom 50%", "self-check",
                     "worker 0"):  # fmt: skip
        assert expected in text


def test_cli_refuses_a_hall_scenario_and_a_capacity_without_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cap = tmp_path / "cap.json"
    cap.write_text(json.dumps({"node_events_per_s": 10}))
    hall = ROOT / "scenarios" / "smoke.yaml"
    out = tmp_path / "out"
    assert main(["plan", "deployment", str(hall), "--capacity", str(cap), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{hall}" in err and "$.network" in err and "not a network scenario" in err
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"halls_per_node": 0}))
    assert main(["plan", "deployment", str(COUNTY), "--capacity", str(empty), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{empty}: `$` - no node capacity" in err
    assert not out.exists()
