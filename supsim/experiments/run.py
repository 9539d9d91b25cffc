"""The thin pipeline behind ``supsim run`` and ``supsim detect``.

``run_scenario`` wires the pieces in the order data flows (``docs/architecture.md``):
scenario → SimPy world → events + truth → engine → alerts → evaluation. Every input is loaded
and validated before anything runs, so a bad rulebook does not cost a simulation. The three
data files (``events.jsonl``, ``truth.jsonl``, ``alerts.jsonl``) and ``metrics.json`` depend
only on the scenario, the rulebook and the seed; wall-clock timings go to ``timings.json`` so
that the deterministic files stay byte-identical between runs.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import msgspec

from engine.contract.alerts import Alert, write_alerts
from engine.contract.events import BadLine, Event, EventDecodeError, scan_jsonl, write_jsonl
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
from supsim.experiments.run_folder import MANIFEST, staged, write_json

__all__ = [
    "DetectReport",
    "RunResult",
    "detect_file",
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


@dataclass
class DetectReport:
    """What ``supsim detect`` prints, and what decides its exit status."""

    text: str
    side_counts: dict[str, int]
    #: The calendar's message for the first instant it could not place (None when all could).
    first_calendar_error: str | None = None
    #: Lines that were not contract events, set aside with ``skip_invalid`` (0 otherwise).
    invalid_lines: int = 0


def detect_file(
    events_path: Path,
    *,
    rulebook: Path | None,
    out: Path,
    side_output: Path | None = None,
    reference: datetime | None = None,
    calendar: CalendarOverride | None = None,
    skip_invalid: Path | None = None,
    in_time_order: bool = False,
    progress: bool = True,
) -> DetectReport:
    """Run the engine over an event file; write alerts (and the side output); summarise.

    The input is decoded and checked completely before the alerts file is written, so a
    bad line leaves no half-written output behind. Events outside the calendar's covered
    years do not stop the run: everything else is written, and the report says which
    years are missing (the command then exits 1). ``calendar`` carries ``--holidays`` /
    ``--beyond-range``; the summary says when the calendar assumed uncovered years.

    Every bad line is found in one pass. Without ``skip_invalid`` they stop the run, all named
    (nothing is written); with it the valid events are judged and each bad line is written to
    ``skip_invalid`` as it was read, with its line number and the reason.

    The file's order is taken as the order events arrived in (late ones are set aside, as a
    live engine would). ``in_time_order`` replays a finished export sorted some other way (by
    case, by hall) in event-time order instead; ties keep the file's order.
    """
    from engine.rules.rulebook import Rulebook as _Rulebook
    from reports.render.report.run_calendar import calendar_note

    book = load_rulebook(rulebook) if rulebook is not None else _Rulebook.default()
    cal = book.build_calendar(calendar)
    with Progress(f"read {events_path.name}", unit="line", enabled=progress) as bar:
        events, bad = scan_jsonl(events_path, progress=bar.advance)
    if bad and skip_invalid is None:
        raise EventDecodeError(_bad_lines_message(events_path, bad))
    if in_time_order:
        events.sort(key=lambda e: e.ts)
    with Progress("detect", unit="event", total=len(events), enabled=progress) as bar:
        result = detect(_counted(events, bar), book, calendar=cal, reference=reference)
    _write_alerts_guarded(result.alerts, out)
    if side_output is not None:
        write_side_output(result.side_output, side_output)
    if skip_invalid is not None:
        skip_invalid.write_bytes(b"".join(msgspec.json.encode(b) + b"\n" for b in bad))
    by_rule: dict[str, int] = {}
    for alert in result.alerts:
        by_rule[alert.rule] = by_rule.get(alert.rule, 0) + 1
    lines = [
        f"{len(events):,} events read from {events_path}"
        + (f"; {len(bad):,} invalid line(s) set aside to {skip_invalid}" if skip_invalid is not None else ""),
        f"{len(result.alerts):,} alerts written to {out}",
    ]
    lines += [f"  {rule:<40} {n:>8,}" for rule, n in sorted(by_rule.items())]
    counts = side_counts(result.side_output)
    lines.append("side output: " + ", ".join(f"{n:,} {reason}" for reason, n in counts.items()))
    if (unjudged := result.stats.get("unjudged_at_end")) is not None:
        lines.append(
            f"not judged at the end: {unjudged:,} timer(s) due after what their source delivered "
            "(sources.end_of_stream: source)"
        )
    if side_output is not None:
        lines.append(f"{len(result.side_output):,} side-output records written to {side_output}")
    if not in_time_order and counts.get("late", 0) >= LATE_WARNING * max(len(events), 1):
        lines.append(
            f"warning: {counts['late']:,} of {len(events):,} events came behind the watermark and were set "
            "aside as late. Is the file in arrival order? An export sorted by case or hall replays in "
            "event-time order with --in-time-order"
        )
    if note := calendar_note(cal.coverage()):
        lines.append(note)
    first = next((r.detail for r in result.side_output if r.reason == "out_of_calendar"), None)
    return DetectReport(
        text="\n".join(lines), side_counts=counts, first_calendar_error=first, invalid_lines=len(bad)
    )


def _counted(events: list[Event], bar: Progress, every: int = 20_000) -> Iterator[Event]:
    """``events``, advancing ``bar`` every ``every`` of them (the engine takes any iterable)."""
    for i, event in enumerate(events, start=1):
        yield event
        if i % every == 0:
            bar.advance(every)


#: Share of an event file set aside as late above which ``detect`` asks whether the file is in
#: arrival order: a live feed's stragglers are a few per cent at most; an export sorted by case
#: makes most of the file late.
LATE_WARNING = 0.05


def _bad_lines_message(path: Path, bad: list[BadLine], shown: int = 10) -> str:
    head = [f"  {b.error}" for b in bad[:shown]]
    more = [f"  ... and {len(bad) - shown:,} more"] if len(bad) > shown else []
    title = f"{path}: {len(bad):,} line(s) are not contract events; nothing was written:"
    hint = "fix them, or judge the rest with --skip-invalid FILE (the bad lines are kept there)"
    return "\n".join([title, *head, *more, hint])


def _write_alerts_guarded(alerts: list[Alert], out: Path) -> None:
    """Write ``out``, unless it is a run folder's ``alerts.jsonl`` and the alerts differ.

    A run's ``metrics.json`` describes its alerts by digest; replacing them with other alerts
    would leave every figure of that run describing alerts that are gone. The same alerts
    (the same events and rulebook) are harmless and are written.
    """
    from reports.render.report.integrity import DIGESTED_FILES, RunFolderError

    manifest = out.parent / MANIFEST
    if out.name != "alerts.jsonl" or not manifest.is_file():
        write_alerts(alerts, out)
        return
    recorded = json.loads(manifest.read_bytes()).get(DIGESTED_FILES["alerts.jsonl"])
    fd, name = tempfile.mkstemp(prefix=".alerts-", suffix=".partial", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write_alerts(alerts, tmp)
        if recorded is not None and sha256_of(tmp) != recorded:
            raise RunFolderError(
                f"{out}: these are the alerts of the run in {out.parent} (its metrics.json records their "
                "digest), and the alerts just detected differ from them; writing them there would leave that "
                "run's figures describing alerts that are gone. Nothing was written: choose another file "
                "with --out."
            )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


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
