"""Sweeps for rule designers: where does each discipline rule break as detectors get noisier?

Two axes: the detector's true-positive rate (the world is re-simulated for each value,
same seed, so only the detector changes) and the engine's leave debounce (the engine is
re-run on the same stream). Each cell is one :func:`reports.evaluation.discipline.evaluate_discipline`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec

from engine.replay import detect
from engine.rules.rulebook import Rulebook
from reports.evaluation.discipline import evaluate_discipline
from reports.render.text_table import markdown_table
from sim.common.scenario import Scenario
from sim.common.sections.cameras import Cameras
from sim.hall.world import simulate

__all__ = ["SweepCell", "render_sweep", "sweep_discipline"]


class SweepCell(msgspec.Struct, frozen=True, kw_only=True):
    tpr: float
    leave_debounce_s: float
    rule: str
    precision: float
    recall: float
    f1: float
    latency_median_s: float | None


def sweep_discipline(
    scenario: Scenario,
    rulebook: Rulebook,
    *,
    tprs: Sequence[float] = (0.95, 0.9, 0.8, 0.7),
    debounces: Sequence[float] = (0.0, 30.0, 60.0, 120.0),
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[SweepCell]:
    """Every (TPR, debounce) cell for every discipline rule; the scenario must have ``cameras``.

    ``progress(done, total)`` is called after each cell (for a progress bar).
    """
    cams = scenario.cameras if scenario.cameras is not None else Cameras()
    out: list[SweepCell] = []
    done, total = 0, len(tprs) * len(debounces)
    for tpr in tprs:
        det = msgspec.structs.replace(cams.detector, tpr=tpr)
        world = simulate(
            msgspec.structs.replace(scenario, cameras=msgspec.structs.replace(cams, detector=det)), seed=seed
        )
        for deb in debounces:
            done += 1
            section = msgspec.structs.replace(rulebook.rules.discipline, leave_debounce_s=deb)
            book = msgspec.structs.replace(
                rulebook, rules=msgspec.structs.replace(rulebook.rules, discipline=section)
            )
            alerts = detect(world.events, book, calendar=world.calendar, reference=world.end).alerts
            report = evaluate_discipline(alerts, world.truth, calendar=world.calendar, section=section)
            out += [
                SweepCell(
                    tpr=tpr,
                    leave_debounce_s=deb,
                    rule=s.rule,
                    precision=s.precision,
                    recall=s.recall,
                    f1=s.f1,
                    latency_median_s=s.latency_median_s,
                )
                for s in report.rules
            ]
            if progress is not None:
                progress(done, total)
    return out


def render_sweep(cells: Sequence[SweepCell], rule: str = "discipline.absence") -> str:
    """F1 of one rule as a TPR × debounce table (Markdown)."""
    tprs = sorted({c.tpr for c in cells}, reverse=True)
    debs = sorted({c.leave_debounce_s for c in cells})
    f1 = {(c.tpr, c.leave_debounce_s): c.f1 for c in cells if c.rule == rule}
    lines = [f"F1 of `{rule}` by detector TPR (rows) and leave debounce in seconds (columns)", ""]
    rows = [[f"{t:.2f}", *(f"{f1.get((t, d), 0.0):.3f}" for d in debs)] for t in tprs]
    head = ["TPR", *(f"{d:.0f} s" for d in debs)]
    lines += markdown_table(head, rows, right=range(len(head)))
    return "\n".join(lines) + "\n"
