"""Sweeps over impairment strength: grid fields, per-rule heat maps, alert delay against sync interval."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from reports.evaluation.sweeps.grid import QUALITY, GridError, decode_grid, variants
from reports.evaluation.sweeps.impairments import summarise_impairments
from reports.evaluation.sweeps.score import RuleScore, SeedResult, SeedScore
from reports.render.plots.impairments import delay_table, write_impairment_report
from sim.common.scenario import load_scenario
from supsim.experiments.sweep import run_sweep
from supsim.experiments.sweep_delivered import apply_impairments

MESSY = Path("scenarios/county_hall_messy.yaml")


def _score(rules: tuple[RuleScore, ...]) -> SeedScore:
    return SeedScore(
        alerts=0, tp=0, fp=0, fn=0, precision=None, recall=None, f1=None, latency_p50_h=None,
        alerts_per_day=0.0, rules=rules,
    )  # fmt: skip


def test_the_summary_averages_each_strength_over_the_other_impairments_and_seeds(tmp_path: Path) -> None:
    grid = decode_grid(
        "params:\n  data_quality.clock.skew_minutes: [0, 30]\n  data_quality.sync.every_minutes: [10, 1440]\n"
        "goal: {max_data_false_alarms_per_1000: 1}\n"
    )
    vs = variants(grid)  # (0,10) (0,1440) (30,10) (30,1440)
    assert [v[QUALITY] for v in vs][1] == {"clock.skew_minutes": 0.0, "sync.every_minutes": 1440.0}

    def seed(seed: int, shift: float) -> SeedResult:
        scores = []
        for i, _ in enumerate(vs):
            recall = 1.0 - 0.2 * i + shift
            scores.append(
                _score(
                    (
                        RuleScore(rule="deadline.overdue", precision=0.5, recall=recall, delay_p50_h=1.0 + i),
                        RuleScore(rule="logic.backdating", precision=None, recall=0.9, delay_p50_h=0.5 * i),
                    )
                )
            )
        return SeedResult(seed=seed, scores=tuple(scores))

    summary = summarise_impairments(vs, [seed(1, 0.0), seed(2, -0.1)])
    assert summary.kinds == {"clock.skew_minutes": [0.0, 30.0], "sync.every_minutes": [10.0, 1440.0]}
    assert summary.rules == ["deadline.overdue", "logic.backdating"]
    cell = {(c.rule, c.kind, c.strength): c for c in summary.cells}
    # skew 0: variants 0 and 1 (recall 1.0, 0.8), seeds shifted by 0 and -0.1: mean 0.85
    assert cell["deadline.overdue", "clock.skew_minutes", 0.0].recall == pytest.approx(0.85)
    # sync 1440: variants 1 and 3 (0.8, 0.4): mean 0.55
    assert cell["deadline.overdue", "sync.every_minutes", 1440.0].recall == pytest.approx(0.55)
    assert cell["logic.backdating", "sync.every_minutes", 10.0].precision is None
    delay = {(r.family, r.every_minutes): r.delay_p50_h for r in summary.delay}
    assert delay["deadline", 10.0] == pytest.approx(2.0)  # variants 0 and 2: 1 h and 3 h
    assert delay["logic", 1440.0] == pytest.approx(1.0)  # variants 1 and 3: 0.5 h and 1.5 h
    assert "| deadline | 2.00 h | 3.00 h |" in delay_table(summary)

    report = write_impairment_report(summary, tmp_path)
    text = report.read_text(encoding="utf-8")
    for name in ("heatmap-deadline.overdue.png", "heatmap-logic.backdating.png", "delay_vs_sync.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"({name})" in text


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("data_quality.clock.drift_seconds_per_day: [1]", r"`\$\.params\.data_quality\.clock\S*` - not"),
        ("data_quality.sync: [1]", r"`\$\.params\.data_quality\.sync` - not a sweepable impairment"),
        ("data_quality.missing.case.lost: [0.1]", r"`\$\.params\.data_quality\.missing\S*` - not .*closed"),
    ],
)  # fmt: skip
def test_bad_impairment_fields_are_named(text: str, match: str) -> None:
    with pytest.raises(GridError, match=r"g.yaml: " + match):
        decode_grid(f"params:\n  {text}\ngoal: {{min_precision: 0.5}}\n", where="g.yaml")


def test_a_strength_is_set_on_every_system_and_a_nightly_sync_keeps_its_phase() -> None:
    dq = load_scenario(MESSY).data_quality
    assert dq is not None
    out = apply_impairments(dq, {"sync.every_minutes": 60.0, "clock.skew_minutes": 5.0, "backfill.rate": 0.1})
    for system in out.systems:
        assert system.sync is not None and system.sync.every_minutes == 60.0
        assert system.sync.offset_minutes < 60.0
        assert system.clock is not None and system.clock.skew_minutes == 5.0
        assert system.backfill is not None and system.backfill.rate == 0.1
    nightly = [s for s in dq.systems if s.sync is not None and s.sync.offset_minutes >= 60]
    assert nightly, "the scenario has a nightly sync at an offset"
    with pytest.raises(GridError, match=r"grid: `\$\.params` - impairment out of range"):
        apply_impairments(dq, {"backfill.rate": 2.0})


def test_lost_records_of_one_kind_and_copies_are_set_on_every_system_keeping_the_other_kinds() -> None:
    dq = load_scenario(MESSY).data_quality
    assert dq is not None
    out = apply_impairments(dq, {"missing.case.closed": 0.05, "duplicates.rate": 0.02})
    assert [s.name for s in out.systems] == [s.name for s in dq.systems]  # each system once
    for before, after in zip(dq.systems, out.systems, strict=True):
        assert after.missing == {**before.missing, "case.closed": 0.05}
        assert after.duplicates is not None and after.duplicates.rate == 0.02
        if before.duplicates is not None:  # the system's own habits kept, only the rate swept
            assert after.duplicates.new_id_share == before.duplicates.new_id_share
    grid = decode_grid("params:\n  data_quality.missing.step.started: [0, 0.1]\ngoal: {min_precision: 0.5}\n")
    assert [v[QUALITY] for v in variants(grid)] == [
        {"missing.step.started": 0.0},
        {"missing.step.started": 0.1},
    ]
    with pytest.raises(GridError, match="impairment out of range"):
        apply_impairments(dq, {"missing.case.closed": 1.5})
    worded = apply_impairments(dq, {"old_catalogue.rate": 0.1, "status_mapping.rate": 0.02})
    for system in worded.systems:
        assert system.old_catalogue is not None and system.old_catalogue.rate == 0.1
        assert system.status_mapping is not None and system.status_mapping.rate == 0.02


def test_a_two_point_sweep_of_a_short_messy_scenario_writes_the_figures(tmp_path: Path) -> None:
    text = MESSY.read_text(encoding="utf-8")
    # the order rules' grace (21 working hours in messy.yaml) would set the logic alerts' delay on its own in
    # four days; without it the delay is the delivery's, which is what this test is about
    book = (MESSY.parent / "rulebooks/messy.yaml").read_text(encoding="utf-8")
    assert "confirm_after_hours: 21.0" in book
    (tmp_path / "messy_no_grace.yaml").write_text(
        book.replace("confirm_after_hours: 21.0", "confirm_after_hours: 0.0"), encoding="utf-8"
    )
    text = text.replace("days: 30", "days: 4").replace(
        "rulebook: rulebooks/messy.yaml", f"rulebook: {tmp_path / 'messy_no_grace.yaml'}"
    )
    scenario = tmp_path / "short_messy.yaml"
    scenario.write_text(text, encoding="utf-8")
    grid = decode_grid(
        "params:\n  data_quality.sync.every_minutes: [10, 1440]\ngoal: {max_data_false_alarms_per_1000: 1}\n"
    )
    t0 = time.perf_counter()
    vs, results = run_sweep(scenario, grid, seeds=[load_scenario(scenario).seed])
    assert time.perf_counter() - t0 < 30
    summary = summarise_impairments(vs, results)
    assert summary.kinds == {"sync.every_minutes": [10.0, 1440.0]}
    assert {r.split(".")[0] for r in summary.rules} >= {"deadline", "logic"}
    delay = {(r.family, r.every_minutes): r.delay_p50_h for r in summary.delay}
    # four days raise logic alerts at both intervals (deadline ones only at the nightly sync's burst)
    assert delay["logic", 1440.0] is not None and delay["logic", 10.0] is not None
    # each sync interval delivers its own stream: the delays differ (not monotonic, docs/data_quality.md)
    assert delay["logic", 1440.0] != delay["logic", 10.0]
    by_variant = [
        next(r for r in s.rules if r.rule == "logic.skipped_step").delay_p50_h for s in results[0].scores
    ]
    assert [delay["logic", v] for v in (10.0, 1440.0)] == pytest.approx(by_variant, abs=1e-4)
    write_impairment_report(summary, tmp_path / "out")
    assert len(list((tmp_path / "out").glob("heatmap-*.png"))) == len(summary.rules)


def test_scoring_on_the_source_clock_needs_a_scenario_with_impaired_data() -> None:
    grid = decode_grid("params:\n  deadline.warning.warning_lead_days: [1]\nsource_clock: true\n")
    assert grid.source_clock is True
    with pytest.raises(GridError, match=r"`\$\.source_clock` - .*smoke.yaml has no data_quality"):
        run_sweep(Path("scenarios/smoke.yaml"), grid, seeds=[1])
