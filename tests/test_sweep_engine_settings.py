"""Sweeps over the engine's settings for impaired delivery, on the stream as delivered."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.rules.rulebook import RulebookError, decode_rulebook, load_rulebook
from reports.evaluation.matching import RULE_TO_TRUTH
from reports.evaluation.sweeps.grid import ENGINE, GridError, apply_settings, decode_grid, variants
from reports.evaluation.sweeps.table import build_table
from reports.render.tables.sweep_table import render_sweep
from sim.common.scenario import load_scenario
from sim.hall.world import simulate
from supsim.experiments.run_quality import SET_ASIDE, clean_alerts, deliver, quality_block
from supsim.experiments.sweep import SeedTask, run_seed
from supsim.experiments.sweep_delivered import scored_rules

MESSY = Path("scenarios/county_hall_messy.yaml")
GRID = """
params:
  sources.skew_tolerance[dept:*]: [0]
goal: {max_data_false_alarms_per_1000: 1}
"""


def test_a_grid_names_engine_settings_and_a_variant_sets_them() -> None:
    grid = decode_grid(
        "params:\n  sources.lateness[dept:*/D04]: [600, 3600]\n  sources.dedup_window: [0, 7200]\n"
        "goal: {min_precision: 0.5}"
    )
    assert grid.engine_settings() and grid.rules() == ()
    vs = variants(grid)
    assert vs[1] == {ENGINE: {"lateness[dept:*/D04]": 600.0, "dedup_window": 7200.0}}
    book = decode_rulebook("sources: {watermark: per_source, lateness: {'dept:*': 60}}", where="rb")
    got = apply_settings(book, vs[3][ENGINE]).sources
    # The swept pattern comes first, so it wins over the rulebook's own.
    assert list(got.lateness.items()) == [("dept:*/D04", 3600), ("dept:*", 60)]
    assert got.dedup_window == 7200
    # A setting the rulebook cannot take is refused as a rulebook file would be.
    with pytest.raises(RulebookError, match=r"`\$.sources.lateness` - needs `sources.watermark: per_source`"):
        apply_settings(decode_rulebook("{}", where="rb"), vs[3][ENGINE], where="grid.yaml")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "params: {sources.watermark: [1]}",
            r"`\$.params.sources.watermark` - not a sweepable engine setting",
        ),
        ("params: {sources.lateness: [1]}", r"`\$.params.sources.lateness` - not a sweepable"),
        ("params:\n  sources.idle_after[x]: [1]", r"`\$.params.sources.idle_after\[x\]` - not a sweepable"),
        ("params: {sources.dedup_window: [1]}\nrules: [no.such]", r"`\$.rules\[0\]` - "),
        (
            "params: {sources.dedup_window: [1]}\n"
            "goal: {min_precision: 0.5, max_data_false_alarms_per_1000: 1}",
            r"`\$.goal` - give exactly one of",
        ),
    ],
)
def test_bad_engine_grids_are_named(text: str, match: str) -> None:
    with pytest.raises(GridError, match=r"g.yaml: " + match):
        decode_grid(text, where="g.yaml")


def test_a_messy_sweep_scores_the_delivered_stream_as_supsim_run_does() -> None:
    """One variant equal to the scenario's rulebook: the sweep's figures are the run's own."""
    grid = decode_grid(GRID)
    scenario = load_scenario(MESSY)
    result = run_seed(SeedTask(str(MESSY), None, grid, scenario.seed))
    (score,) = result.scores

    # What `supsim run` computes (supsim.experiments.run): delivered stream, clean comparison.
    book = load_rulebook(scenario.rulebook_path(MESSY))
    world = simulate(scenario, seed=scenario.seed)
    impaired, delivered = deliver(scenario, world, scenario.seed)
    from engine.core import Engine
    from engine.replay import fixed_clock

    engine = Engine(book, calendar=impaired.calendar, clock=fixed_clock(impaired.end))
    alerts = engine.process_many(impaired.events) + engine.finish()
    set_aside = {r.subject for r in engine.side_output if r.reason in SET_ASIDE and r.subject}
    n_cases = len({c for e in impaired.events if (c := getattr(e, "case_id", None))})
    block = quality_block(
        delivered, alerts, clean_alerts(world.events, book, world), impaired, set_aside, n_cases
    )
    att = block["attribution"]
    rules = scored_rules(grid, book)
    assert set(rules) == set(RULE_TO_TRUTH)
    assert score.tp == sum(r["impaired"]["tp"] for r in att["rules"])
    assert score.fn == sum(r["impaired"]["fn"] for r in att["rules"])
    assert score.data_false_alarms_per_1000 == att["data_false_alarms_per_1000_cases"]
    assert score.delay_p50_h is not None and score.delay_p50_h > 0  # per-source watermarks wait

    table = build_table(variants(grid), [result], grid.goal)
    assert "DQ FA/1000 cases" in render_sweep(table)
    assert table.rows[0].pareto


def test_a_rulebook_section_field_is_one_axis_over_every_rule_of_the_section() -> None:
    grid = decode_grid(
        "params:\n  rules.order.confirm_after_hours: [0, 21]\n  sources.dedup_window: [10800]\n"
        "rules: [logic.backdated]\ngoal: {max_data_false_alarms_per_1000: 1}"
    )
    order = ("logic.skipped_step", "logic.decision_before_acceptance", "logic.certificate_without_approval")
    assert grid.rules() == order
    assert variants(grid)[1] == {
        **{r: {"confirm_after_hours": 21.0} for r in order},
        ENGINE: {"dedup_window": 10800.0},
    }
    # The rules named are the rules scored, swept or not.
    assert scored_rules(grid, load_rulebook(Path("scenarios/rulebooks/messy.yaml"))) == ("logic.backdated",)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "params: {rules.nosuch.x: [1]}",
            r"`\$.params.rules.nosuch.x` - no rule reads the rulebook section 'nosuch'",
        ),
        (
            "params: {rules.order.x: [1]}",
            r"`\$.params.rules.order.x` - rule 'logic.skipped_step' has no parameter 'x'",
        ),
    ],
)
def test_bad_section_axes_are_named(text: str, match: str) -> None:
    with pytest.raises(GridError, match=r"g.yaml: " + match):
        decode_grid(text, where="g.yaml")
