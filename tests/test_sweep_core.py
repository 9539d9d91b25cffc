"""Sweeps: batch and streaming scores agree, the recommendation is the table's best, CLI works."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import pytest

from engine.rules.rulebook import load_rulebook
from reports.evaluation.sweeps.grid import GridError, decode_grid
from reports.evaluation.sweeps.score import SeedResult
from reports.evaluation.sweeps.table import build_table, recommend
from sim.common.scenario import load_scenario
from sim.hall.world import SimResult, simulate
from supsim.experiments.sweep import run_sweep, score_world

SCENARIO = Path("scenarios/county_hall.yaml")
GRID = """
params:
  deadline.warning.warning_lead_days: [0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0]
score:
  deadline.warning: {truth: overdue, early: unbounded}
goal: {max_alerts_per_day: 2.0}
"""


@pytest.fixture(scope="module")
def world() -> SimResult:
    return simulate(load_scenario(SCENARIO))


def test_batch_and_streaming_sweeps_score_the_same(world: SimResult) -> None:
    book = load_rulebook(load_scenario(SCENARIO).rulebook_path(SCENARIO))
    grid = decode_grid(GRID)
    fast = score_world(world, book, grid, batch=True)
    slow = score_world(world, book, grid, batch=False)
    assert fast == slow
    assert len({s.alerts for s in fast}) > 2


def test_recommendation_is_the_tables_best(world: SimResult) -> None:
    book = load_rulebook(load_scenario(SCENARIO).rulebook_path(SCENARIO))
    grid = decode_grid(GRID)
    from reports.evaluation.sweeps.grid import variants

    scores = score_world(world, book, grid)
    table = build_table(variants(grid), [SeedResult(seed=1, scores=tuple(scores))], grid.goal)
    assert table.recommended is not None
    ok = [r for r in table.rows if r.alerts_per_day.mean is not None and r.alerts_per_day.mean <= 2.0]
    best_recall = max(r.recall.mean or 0.0 for r in ok)
    chosen = table.rows[table.recommended]
    assert chosen.alerts_per_day.mean is not None and chosen.alerts_per_day.mean <= 2.0
    assert chosen.recall.mean == best_recall
    # ties on recall go to the earliest warning (lowest latency) within the budget
    tied = [r for r in ok if r.recall.mean == best_recall]
    assert chosen.latency_p50_h.mean == min(r.latency_p50_h.mean or 0.0 for r in tied)
    assert recommend(table.rows, grid.goal) == table.recommended


def test_grid_errors_name_the_field() -> None:
    with pytest.raises(GridError, match=r"deadline.warning.lead"):
        decode_grid("params: {deadline.warning.lead: [1]}")
    with pytest.raises(GridError, match="goal"):
        decode_grid("params: {deadline.warning.warning_lead_days: [1]}\ngoal: {}")


def test_cli_writes_table_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from supsim.cli.sweep import register

    grid = tmp_path / "g.yaml"
    grid.write_text(GRID, encoding="utf-8")
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    argv = ["sweep", "scenarios/smoke.yaml", "--grid", str(grid), "--seeds", "2", "--workers", "1"]
    args = parser.parse_args([*argv, "--out", str(tmp_path / "a")])
    assert args.func(args) == 0
    assert "recommend" in capsys.readouterr().out
    data = json.loads((tmp_path / "a" / "sweep.json").read_text())
    assert len(data["rows"]) == 7
    assert (tmp_path / "a" / "sweep.png").stat().st_size > 1000
    args = parser.parse_args([*argv, "--out", str(tmp_path / "b")])
    args.func(args)
    assert (tmp_path / "a" / "sweep.json").read_bytes() == (tmp_path / "b" / "sweep.json").read_bytes()


@pytest.mark.skipif(importlib.util.find_spec("distributed") is None, reason="dask[distributed] not installed")
def test_dask_process_pool_and_one_process_agree_and_report_progress() -> None:
    grid = decode_grid(GRID)
    told: dict[str, list[tuple[int, int]]] = {"pool": [], "dask": [], "one": []}
    _, pool = run_sweep(
        "scenarios/smoke.yaml",
        grid,
        seeds=[1, 2],
        workers=2,
        progress=lambda d, n: told["pool"].append((d, n)),
    )
    _, dask = run_sweep(
        "scenarios/smoke.yaml",
        grid,
        seeds=[1, 2],
        dask_address="local",
        progress=lambda d, n: told["dask"].append((d, n)),
    )
    _, one = run_sweep(
        "scenarios/smoke.yaml", grid, seeds=[1, 2], progress=lambda d, n: told["one"].append((d, n))
    )
    assert pool == dask == one
    # progress: once before the first seed, then as each seed finishes (the bar of `supsim sweep`)
    assert told == {way: [(0, 2), (1, 2), (2, 2)] for way in told}


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ("[-1, 2]", "value -1 is refused by rule 'deadline.warning': Expected `float` >= 0.0"),
        ("[1, 2, 1, 0.5, 2]", "1, 2 given twice"),  # before: each run twice, and two rows alike
    ],
)
def test_a_value_out_of_bounds_is_refused_before_any_run(values: str, reason: str) -> None:
    text = f"params: {{deadline.warning.warning_lead_days: {values}}}\ngoal: {{min_precision: 0.5}}"
    with pytest.raises(GridError) as err:
        decode_grid(text, where="g.yaml")
    assert f"g.yaml: `$.params.deadline.warning.warning_lead_days` - {reason}" in str(err.value)


def test_a_count_parameter_sweeps_as_whole_numbers(world: SimResult) -> None:
    """``k`` is an int: grid values 2 and 3 reach the rule as 2 and 3 (a float 2.0 failed its validation)."""
    from reports.evaluation.sweeps.grid import variants

    text = (
        "params: {deadline.department_repeat.k: [2, 3]}\n"
        "score: {deadline.department_repeat: {truth: overdue}}\ngoal: {min_precision: 0.5}"
    )
    grid = decode_grid(text)
    assert [v["deadline.department_repeat"]["k"] for v in variants(grid)] == [2, 3]
    assert all(isinstance(v["deadline.department_repeat"]["k"], int) for v in variants(grid))
    with pytest.raises(GridError, match=r"value 2\.5 is refused by rule 'deadline\.department_repeat'"):
        decode_grid(text.replace("[2, 3]", "[2.5]"))
    book = load_rulebook(Path("scenarios/rulebooks/default.yaml"))
    scores = score_world(world, book, grid, batch=False)
    assert len(scores) == 2
