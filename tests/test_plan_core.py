"""Capacity planning: targets, staffing variation, the sizing table and the engine nodes."""

from __future__ import annotations

import argparse
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from engine.contract import events as ev
from sim.common.scenario import load_scenario
from sim.queueing.staffing import allocate, with_windows
from supsim.experiments.deployment.capacity import CapacityError
from supsim.experiments.deployment.node_sizing import engine_nodes, peak_rate_per_hall, read_throughput
from supsim.experiments.staffing_plan import parse_target, parse_vary, run_plan


def test_parse_target_and_vary() -> None:
    t = parse_target("wait_p90<=15min, overdue_rate<=0.5%")
    assert [(x.metric, x.limit) for x in t] == [("wait_p90", 15.0), ("overdue_rate", 0.005)]
    assert parse_vary("windows=10..20:5") == ("windows", [10, 15, 20])
    with pytest.raises(ValueError):
        parse_target("queue<=3")
    with pytest.raises(ValueError):
        parse_vary("staff=1..2")


def test_allocate_keeps_total_and_one_each() -> None:
    split = allocate([3, 3, 2, 1], 13)
    assert sum(split) == 13 and min(split) >= 1 and split[0] >= split[3]
    sc = with_windows(load_scenario("scenarios/county_hall.yaml"), 40)
    assert sum(d.windows for d in sc.halls[0].departments) == 40


def test_more_windows_shorter_waits_and_smallest_level() -> None:
    sc = load_scenario("scenarios/county_hall.yaml")
    table = run_plan(sc, "windows", [20, 28, 40], parse_target("wait_p90<=15min"), replications=2)
    means = [r.metrics["wait_mean"].mean or 0.0 for r in table.rows]
    assert means[0] > means[1] > means[2]
    first_ok = next(r.level for r in table.rows if r.meets)
    assert table.smallest == first_ok and table.rows[0].meets is False


def test_varying_a_post_measures_the_wait_for_it() -> None:
    """The docs' `--vary posts.review=1..3`: the window stage cannot see posts, the post waits can."""
    sc = load_scenario("scenarios/county_hall.yaml")
    targets = parse_target("wait_p90<=15min, post_wait_p90<=60min")
    table = run_plan(sc, "posts.review", [1, 2, 3], targets, replications=1)
    waits = [r.metrics["post_wait_mean"].mean or 0.0 for r in table.rows]
    assert waits[0] > waits[1] >= waits[2] >= 0.0
    assert len({r.metrics["wait_mean"].mean for r in table.rows}) == 1  # windows unchanged: same waits
    with pytest.raises(ValueError, match="post_wait_\\* targets need --vary posts"):
        run_plan(sc, "windows", [20], targets, replications=1)


def test_engine_nodes() -> None:
    assert engine_nodes(halls=20, peak_per_hall=5.0, node_eps=100.0, headroom=0.5) == 2
    assert engine_nodes(halls=1, peak_per_hall=1.0, node_eps=1e6, headroom=0.0) == 1


def test_plan_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from supsim.cli.plan import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(
        [
            "plan",
            "scenarios/county_hall.yaml",
            "--target",
            "wait_p90<=15min",
            "--vary",
            "windows=24..36:6",
            "--replications",
            "2",
            "--out",
            str(tmp_path),
        ]
    )
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "smallest level meeting it" in out and "Erlang C" in out
    assert (tmp_path / "plan.png").stat().st_size > 1000


def test_plan_reports_progress_per_level() -> None:
    sc = load_scenario("scenarios/county_hall.yaml")
    seen: list[tuple[int, int]] = []
    run_plan(
        sc,
        "windows",
        [20, 28],
        parse_target("wait_p90<=15min"),
        replications=1,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(1, 2), (2, 2)]


def test_mmc_crosscheck_gives_an_interval_that_holds_erlang_c() -> None:
    from supsim.experiments.staffing_plan import mmc_crosscheck

    sc = with_windows(load_scenario("scenarios/county_hall.yaml"), 28)
    windows = {d.id: d.windows for h in sc.halls for d in h.departments}
    check = mmc_crosscheck(sc, windows, seed=sc.seed, customers=40_000, replications=4)
    assert check is not None and check.replications == 4 and check.simulated_ci_min is not None
    lo, hi = check.simulated_ci_min
    assert 0.0 <= lo <= check.simulated_wait_min <= hi
    assert lo <= check.erlang_c_wait_min <= hi  # the model agrees with queueing theory


def test_read_throughput_refuses_a_file_with_several_rates(tmp_path: Path) -> None:
    """A capacity search lists every step's rate: the first one is not the node's capacity."""
    search = tmp_path / "search.json"
    search.write_text(
        json.dumps({"steps": [{"events_per_s": 9.3}, {"events_per_s": 18.6}]}), encoding="utf-8"
    )
    with pytest.raises(
        CapacityError, match=r"search\.json: `\$\.steps\[1\]\.events_per_s` - more than one figure"
    ):
        read_throughput(search)
    carried = tmp_path / "carried.json"
    carried.write_text(
        json.dumps({"events_per_s_carried": 120.6, "steps": [{"events_per_s": 9.3}, {"events_per_s": 18.6}]}),
        encoding="utf-8",
    )
    assert read_throughput(carried) == 120.6
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"extra_info": {"engine_events_per_s": 150000}}), encoding="utf-8")
    assert read_throughput(bench) == 150000.0
    empty = tmp_path / "empty.json"
    empty.write_text("{}", encoding="utf-8")
    with pytest.raises(CapacityError, match="no events/s figure"):
        read_throughput(empty)


def test_the_peak_per_hall_leaves_out_the_reference_data_burst() -> None:
    t0 = datetime(2025, 3, 3, 0, 0, tzinfo=timezone(timedelta(hours=8)))
    setup = [
        ev.StaffAuthorised(
            event_id=f"s{k}", ts=t0, hall_id="H", staff_id=f"S{k}", department_id="D1", posts=("window",)
        )
        for k in range(120)
    ]
    live = [
        ev.SourceHeartbeat(
            event_id=f"h{k}", ts=t0 + timedelta(hours=9, seconds=k), source_id="s", hall_id="H"
        )
        for k in range(30)
    ]
    assert peak_rate_per_hall([*setup, *live]) == 0.5  # 30 events in the busiest minute, not 120


def test_a_level_the_scenario_cannot_staff_is_named_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from supsim.cli.main import main

    argv = ["plan", "scenarios/smoke.yaml", "--target", "wait_p90<=15min", "--vary", "windows=1..3"]
    assert main([*argv, "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "supsim: error: --vary windows=1: 1 windows cannot staff 3 departments" in err
    assert not (tmp_path / "p").exists()


def test_the_plan_table_lines_up_its_columns() -> None:
    from reports.evaluation.sweeps.table import estimate
    from supsim.experiments.staffing_plan import PlanRow, PlanTable, render_plan

    rows = tuple(
        PlanRow(level=n, metrics={"wait_mean": estimate([w, w + 1], "nonnegative", what="w")}, meets=n > 9)
        for n, w in ((8, 123.0), (10, 4.0))
    )
    lines = render_plan(
        PlanTable(vary="windows", target="t", replications=2, rows=rows, smallest=10)
    ).splitlines()
    table = lines[1:5]
    # the numbers are right-aligned under their heading: each ends where the heading ends
    ends = {table[0].index("wait_mean") + len("wait_mean"), table[2].index("]") + 1, table[3].index("]") + 1}
    assert len(ends) == 1, table


@pytest.mark.parametrize(
    ("vary", "reps", "message"),
    [
        ("windows.D99=1..3", 2, "--vary windows.D99=1: no department 'D99' (departments: D01, D02, D03)"),
        ("posts.revue=1..3", 2, "no post 'revue' in any department (posts: check, decide, review)"),
        ("windows=3..5", 0, "--replications 0: give at least 1"),
    ],
)
def test_a_plan_that_would_vary_nothing_is_refused(vary: str, reps: int, message: str) -> None:
    """An unknown department or post left every level the same hall: identical rows, no error."""
    from supsim.experiments.staffing_plan import PlanSpecError

    scenario = load_scenario(Path("scenarios/smoke.yaml"))
    key, levels = parse_vary(vary)
    with pytest.raises(PlanSpecError) as err:
        run_plan(scenario, key, levels, parse_target("wait_p90<=15min"), replications=reps)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("target", "said"),
    [
        ("overdue_rate<=150%", "a rate is at most 100 % (1.0)"),
        ("overdue_rate<=2", "a rate is at most 100 % (1.0)"),
        ("wait_p90<=15%", "wait_p90 is a time, written in min or h"),
        ("overdue_rate<=5min", "overdue_rate is a share, written 0.05 or 5%"),
    ],
)
def test_a_target_that_cannot_mean_anything_is_refused(target: str, said: str) -> None:
    """Before: accepted, and every level of the plan 'met' a 150 % overdue rate."""
    with pytest.raises(ValueError, match=re.escape(said)):
        parse_target(target)
    assert [(t.metric, t.limit) for t in parse_target("utilisation<=85%, overdue_rate<=1")] == [
        ("utilisation", 0.85),
        ("overdue_rate", 1.0),
    ]


def test_more_levels_than_a_plan_can_run_are_refused() -> None:
    """Before: ``windows=1..100000`` set out to simulate 100,000 levels."""
    with pytest.raises(ValueError, match=r"asks for 100,000 levels; at most 200 \(use :STEP\)"):
        parse_vary("windows=1..100000")
    assert len(parse_vary("windows=1..100000:500")[1]) == 200
