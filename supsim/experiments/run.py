"""The thin pipeline behind ``supsim run`` and ``supsim detect``.

``run_scenario`` wires the pieces in the order data flows (``docs/architecture.md``):
scenario → SimPy world → events + truth → engine → alerts → evaluation. Every input is loaded
and validated before anything runs, so a bad rulebook does not cost a simulation. The three
data files (``events.jsonl``, ``truth.jsonl``, ``alerts.jsonl``) and ``metrics.json`` depend
only on the scenario, the rulebook and the seed; wall-clock timings go to ``timings.json`` so
that the deterministic files stay byte-identical between runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from engine.contract.alerts import Alert, write_alerts
from engine.contract.events import Event, write_jsonl
from engine.contract.holidays import CalendarOverride
from engine.core import SIDE_REASONS, Engine, SideRecord
from engine.replay import detect, fixed_clock
from engine.rules.rulebook import Rulebook, load_rulebook
from engine.rules.settings import CalendarSection
from engine.scoring import score_units
from reports.render.report.integrity import sha256_of
from sim.common.scenario import Scenario, load_scenario
from sim.common.truth import write_truth
from sim.hall.world import SimResult, simulate
from sim.market.scenario import MarketScenario
from supsim import __version__
from supsim.experiments.progress import Progress
from supsim.experiments.run_folder import staged, write_json

__all__ = [
    "RunResult",
    "run_market_scenario",
    "run_scenario",
    "side_counts",
    "write_side_output",
]

logger = logging.getLogger(__name__)


@dataclass
class RunResult:
    out_dir: Path
    table: str
    files: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def timing_line(self) -> str:
        t = self.timings
        return (
            f"simulated in {t.get('simulate_s', 0):.1f} s, engine {t.get('engine_s', 0):.1f} s "
            f"({t.get('engine_events_per_s', 0):,.0f} events/s), evaluation {t.get('evaluate_s', 0):.1f} s"
        )


def _write_data_files(
    out: Path, world: SimResult, alerts: list[Alert], *, name: str, files: tuple[Path, Path]
) -> dict[str, object]:
    """Write events, truth and alerts; return the provenance part of ``metrics.json``."""
    scenario_path, rulebook_path = files
    write_jsonl(world.events, out / "events.jsonl")
    write_truth(world.truth, out / "truth.jsonl")
    write_alerts(alerts, out / "alerts.jsonl")
    return {
        "supsim_version": __version__,
        "scenario": name,
        "scenario_file": scenario_path.name,
        "scenario_sha256": sha256_of(scenario_path),
        "rulebook_sha256": sha256_of(rulebook_path),
        "start": world.start.isoformat(),
        "end": world.end.isoformat(),
        "events_sha256": sha256_of(out / "events.jsonl"),
        "truth_sha256": sha256_of(out / "truth.jsonl"),
        "alerts_sha256": sha256_of(out / "alerts.jsonl"),
        "sim_stats": world.stats,
    }


def _rulebook_for(
    scenario: Scenario | MarketScenario, scenario_path: Path, override: Path | None
) -> tuple[Path, Rulebook]:
    """The rulebook, and a warning when its ``calendar:`` section is one a run does not use."""
    path = override if override is not None else scenario.rulebook_path(scenario_path)
    book = load_rulebook(path)
    if book.calendar != CalendarSection():  # the world works on the scenario's days; the engine too
        logger.warning("%s: `calendar:` is not used by run (the scenario's is); detect uses it", path)
    return path, book


def _chunks(events: list[Event], size: int) -> Iterator[list[Event]]:
    for i in range(0, len(events), size):
        yield events[i : i + size]


def run_scenario(
    scenario_path: Path,
    *,
    seed: int | None = None,
    out_dir: Path | None = None,
    rulebook: Path | None = None,
    progress: bool = True,
    calendar: CalendarOverride | None = None,
) -> RunResult:
    """Simulate, detect and evaluate one scenario; write the run folder.

    ``calendar`` carries the command line's ``--holidays`` / ``--beyond-range``; what the
    calendar assumed goes to ``metrics.json`` (``calendar``) and ``summary.md``.
    """
    from sim.market.scenario import is_market_file

    if is_market_file(scenario_path):
        return run_market_scenario(
            scenario_path, seed=seed, out_dir=out_dir, rulebook=rulebook, calendar=calendar
        )
    from reports import evaluate, render_markdown, render_table
    from reports.render.report.run_calendar import calendar_note
    from reports.render.tables.scorecard import render_scorecard_markdown, render_scorecard_table

    scenario = load_scenario(scenario_path, calendar=calendar)
    rulebook_path, book = _rulebook_for(scenario, scenario_path, rulebook)
    seed = scenario.seed if seed is None else seed
    out = out_dir if out_dir is not None else Path("runs") / f"{scenario_path.stem}-seed{seed}"
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    with Progress("simulate", unit="day", enabled=progress) as bar:
        world = simulate(scenario, seed=seed, progress=bar.update_to)
    delivered, clean_world = None, world
    if scenario.data_quality is not None:  # the exchange between the world and the engine
        from supsim.experiments.run_quality import deliver

        world, delivered = deliver(scenario, world, seed)
    timings["simulate_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    engine = Engine(book, calendar=world.calendar, clock=fixed_clock(world.end))
    alerts = []
    with Progress("detect", unit="event", total=len(world.events), enabled=progress) as bar:
        for chunk in _chunks(world.events, 20_000):
            alerts.extend(engine.process_many(chunk))
            bar.advance(len(chunk))
        alerts.extend(engine.finish())
    alerts.sort(key=lambda a: (a.ts, a.alert_id))
    timings["engine_s"] = time.perf_counter() - t0
    timings["engine_events_per_s"] = len(world.events) / max(timings["engine_s"], 1e-9)

    t0 = time.perf_counter()
    evaluation = evaluate(world.events, alerts, world.truth, calendar=world.calendar, seed=seed)
    scorecard = score_units(alerts, world.events, book.scoring)
    discipline = None
    if scenario.cameras is not None:  # the camera layer: episode-level discipline scores
        from reports.evaluation.discipline import evaluate_discipline, set_aside_discipline

        discipline = evaluate_discipline(
            alerts, world.truth, calendar=world.calendar, section=book.rules.discipline
        )
        evaluation = set_aside_discipline(evaluation)
    quality: dict[str, object] | None = None
    if delivered is not None:  # the same world read clean, to tell the data's errors from the rules'
        from supsim.experiments.run_quality import SET_ASIDE, clean_alerts, quality_block

        set_aside = {r.subject for r in engine.side_output if r.reason in SET_ASIDE and r.subject}
        clean = clean_alerts(clean_world.events, book, clean_world)
        quality = quality_block(delivered, alerts, clean, world, set_aside, evaluation.facts.cases)
    complaints = None
    if scenario.complaints is not None:  # the complaints layer: its rules against its truth
        from reports.evaluation.families.complaints import evaluate_complaints

        complaints = evaluate_complaints(
            world.events, alerts, world.truth, calendar=world.calendar, seed=seed
        )
    inspections = None
    if scenario.inspections is not None:  # the inspections layer: its rules against its truth
        from reports.evaluation.families.inspections import evaluate_inspections

        inspections = evaluate_inspections(
            world.events, alerts, world.truth, calendar=world.calendar, seed=seed
        )
    deemed = None
    if scenario.deemed is not None:  # the opt-in deemed rules against the section's truth
        from reports.evaluation.families.deemed import evaluate_deemed

        deemed = evaluate_deemed(world.events, alerts, world.truth, calendar=world.calendar, seed=seed)
    timings["evaluate_s"] = time.perf_counter() - t0

    files = [
        "events.jsonl",
        "truth.jsonl",
        "alerts.jsonl",
        "metrics.json",
        "scores.json",
        "summary.md",
        "timings.json",
    ]
    with staged(out) as stage:
        metrics = _write_data_files(
            stage, world, alerts, name=scenario.name, files=(scenario_path, rulebook_path)
        )
        metrics.update(
            seed=seed, engine_stats=engine.stats, side_output=engine.side_counts, evaluation=evaluation
        )
        metrics["calendar"] = coverage = world.calendar.coverage()
        if discipline is not None:
            metrics["discipline"] = discipline
        if delivered is not None and quality is not None:
            from supsim.experiments.run_quality import IMPAIRMENTS_FILE, write_quality_files

            metrics["data_quality"] = write_quality_files(stage, delivered, quality)
            files.insert(2, IMPAIRMENTS_FILE)
        else:  # a folder reused from a messy run must not keep that run's impairment truth
            (out / "impairments.jsonl").unlink(missing_ok=True)
        if complaints is not None:
            metrics["complaints"] = complaints
        if inspections is not None:
            metrics["inspections"] = inspections
        if deemed is not None:
            metrics["deemed"] = deemed
        write_json(stage / "metrics.json", metrics)
        write_json(stage / "scores.json", scorecard)
        title = f"{scenario.name} — seed {seed}"
        scores_md = render_scorecard_markdown(scorecard, book.scoring)
        summary = render_markdown(evaluation, title=title) + "\n" + scores_md
        if note := calendar_note(coverage):
            summary = f"> {note}\n\n{summary}"
        table = render_table(evaluation) + "\n\n" + render_scorecard_table(scorecard, book.scoring)
        if discipline is not None:
            from reports.render.tables.discipline import render_discipline

            summary += "\n" + render_discipline(discipline)
            table += "\n\n" + render_discipline(discipline)
        if quality is not None:
            from reports.render.tables.data_quality import render_data_quality

            dq = render_data_quality(quality)
            summary += "\n```\n" + dq + "\n```\n"
            table += "\n\n" + dq
        if complaints is not None:
            from reports.render.tables.families import render_complaints

            summary += "\n" + render_complaints(complaints)
            table += "\n\n" + render_complaints(complaints)
        if inspections is not None:
            from reports.render.tables.families import render_inspections

            summary += "\n" + render_inspections(inspections)
            table += "\n\n" + render_inspections(inspections)
        if deemed is not None:
            from reports.render.tables.families import render_deemed

            summary += "\n" + render_deemed(deemed)
            table += "\n\n" + render_deemed(deemed)
        (stage / "summary.md").write_text(summary, encoding="utf-8")
        write_json(stage / "timings.json", timings)
    if note:
        table += "\n\n" + note
    targets = scenario.targets_path(scenario_path)
    if targets is not None:
        from reports.render.tables.calibration import calibration_table

        table += "\n\n" + calibration_table(scenario_path, targets, [out])
    return RunResult(out_dir=out, table=table, files=files, timings=timings)


def run_market_scenario(
    scenario_path: Path,
    *,
    seed: int | None = None,
    out_dir: Path | None = None,
    rulebook: Path | None = None,
    calendar: CalendarOverride | None = None,
) -> RunResult:
    """``run_scenario`` for a bidding-market scenario: same files, a collusion evaluation."""
    from reports.evaluation.collusion import TICINO, evaluate_collusion
    from reports.render.report.run_calendar import calendar_note
    from reports.render.tables.collusion import render_collusion_markdown, render_collusion_table
    from sim.market.scenario import load_market_scenario
    from sim.market.world import simulate_market

    scenario = load_market_scenario(scenario_path, calendar=calendar)
    rulebook_path, book = _rulebook_for(scenario, scenario_path, rulebook)
    seed = scenario.seed if seed is None else seed
    out = out_dir if out_dir is not None else Path("runs") / f"{scenario_path.stem}-seed{seed}"
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    world = simulate_market(scenario, seed=seed)
    timings["simulate_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = detect(world.events, book, calendar=world.calendar, reference=world.end)
    timings["engine_s"] = time.perf_counter() - t0
    timings["engine_events_per_s"] = len(world.events) / max(timings["engine_s"], 1e-9)
    t0 = time.perf_counter()
    reference = Path(__file__).resolve().parents[3] / TICINO
    collusion = evaluate_collusion(
        world.events, result.alerts, world.truth, rulebook=book, reference=reference
    )
    timings["evaluate_s"] = time.perf_counter() - t0
    with staged(out) as stage:
        metrics = _write_data_files(
            stage, world, result.alerts, name=scenario.name, files=(scenario_path, rulebook_path)
        )
        metrics.update(
            seed=seed,
            engine_stats=result.stats,
            side_output=side_counts(result.side_output),
            collusion=collusion,
        )
        metrics["calendar"] = coverage = world.calendar.coverage()
        write_json(stage / "metrics.json", metrics)
        title = f"{scenario.name} — seed {seed}"
        summary = render_collusion_markdown(collusion, title=title)
        note = calendar_note(coverage)
        (stage / "summary.md").write_text(f"> {note}\n\n{summary}" if note else summary, encoding="utf-8")
        write_json(stage / "timings.json", timings)
    files = ["events.jsonl", "truth.jsonl", "alerts.jsonl", "metrics.json", "summary.md", "timings.json"]
    table = render_collusion_table(collusion) + (f"\n\n{note}" if note else "")
    targets = scenario.targets_path(scenario_path)
    if targets is not None:
        from reports.render.tables.calibration import calibration_table

        table += "\n\n" + calibration_table(scenario_path, targets, [out])
    return RunResult(out_dir=out, table=table, files=files, timings=timings)


def side_counts(records: Iterable[SideRecord]) -> dict[str, int]:
    """Records per reason, every reason listed (zeros included), in the documented order."""
    counts: dict[str, int] = dict.fromkeys(SIDE_REASONS, 0)
    for record in records:
        counts[record.reason] += 1
    return counts


def write_side_output(records: Iterable[SideRecord], path: Path) -> int:
    """Each set-aside event or timer as one JSON line; returns how many were written."""
    enc = msgspec.json.Encoder()
    n = 0
    with path.open("wb") as fh:
        for record in records:
            fh.write(enc.encode(record) + b"\n")
            n += 1
    return n
