"""The data-quality part of ``supsim run``: deliver the world's stream impaired, and judge why.

Why a module of its own: a run without ``data_quality:`` must not change by a byte, so
everything the section adds (the impaired delivery, ``impairments.jsonl``, the clean
comparison run, the ``data_quality`` block of ``metrics.json`` and its summary section) is
done here and only called when the scenario has the section.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import msgspec

from engine.contract.alerts import Alert
from engine.contract.events import Event
from engine.core import Engine
from engine.replay import fixed_clock
from engine.rules.rulebook import Rulebook
from reports.evaluation.attribution import attribute
from reports.render.report.integrity import sha256_of
from sim.common.result import SimResult
from sim.common.scenario import Scenario
from sim.quality.layer import Delivered, impair
from sim.quality.records import write_impairments

__all__ = ["IMPAIRMENTS_FILE", "SET_ASIDE", "clean_alerts", "deliver", "quality_block", "write_quality_files"]

#: The impairment truth of a run whose scenario has a ``data_quality:`` section.
IMPAIRMENTS_FILE = "impairments.jsonl"

#: Side-output reasons that mean a record was not applied because of when it came.
SET_ASIDE = frozenset({"late", "after_close", "future"})


def deliver(scenario: Scenario, world: SimResult, seed: int) -> tuple[SimResult, Delivered]:
    """``world`` with its stream as the engine receives it, and the delivery (with its truth)."""
    assert scenario.data_quality is not None
    delivered = impair(scenario.data_quality, world.events, seed=seed, start=world.start, end=world.end)
    return replace(world, events=delivered.events), delivered


def clean_alerts(events: list[Event], book: Rulebook, world: SimResult) -> list[Alert]:
    """The alerts the engine raises on the world's own stream: the comparison for attribution."""
    engine = Engine(book, calendar=world.calendar, clock=fixed_clock(world.end))
    alerts = engine.process_many(events)
    alerts.extend(engine.finish())
    alerts.sort(key=lambda a: (a.ts, a.alert_id))
    return alerts


def quality_block(
    delivered: Delivered,
    alerts: list[Alert],
    clean: list[Alert],
    world: SimResult,
    set_aside_subjects: set[str],
    n_cases: int,
) -> dict[str, Any]:
    """The ``data_quality`` block of ``metrics.json`` (without the file digest)."""
    attribution = attribute(
        alerts, clean, world.truth, delivered.impairments, set_aside=set_aside_subjects, n_cases=n_cases
    )
    return {"delivery": delivered.stats, "attribution": msgspec.to_builtins(attribution)}


def write_quality_files(out: Path, delivered: Delivered, block: dict[str, Any]) -> dict[str, Any]:
    """Write ``impairments.jsonl``; return ``block`` with its digest."""
    write_impairments(delivered.impairments, out / IMPAIRMENTS_FILE)
    return {"impairments_sha256": sha256_of(out / IMPAIRMENTS_FILE), **block}
