"""The data-quality part of ``supsim run``: deliver the world's stream impaired, and say how.

Why a module of its own: a run without ``data_quality:`` must not change by a byte, so
everything the section adds (the impaired delivery, ``impairments.jsonl``, the
``data_quality`` block of ``metrics.json``) is done here and only called when the scenario
has the section.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from reports.render.integrity import sha256_of
from sim.common.result import SimResult
from sim.common.scenario import Scenario
from sim.quality.layer import Delivered, impair
from sim.quality.records import write_impairments

__all__ = ["IMPAIRMENTS_FILE", "deliver", "write_quality_files"]

#: The impairment truth of a run whose scenario has a ``data_quality:`` section.
IMPAIRMENTS_FILE = "impairments.jsonl"


def deliver(scenario: Scenario, world: SimResult, seed: int) -> tuple[SimResult, Delivered]:
    """``world`` with its stream as the engine receives it, and the delivery (with its truth)."""
    assert scenario.data_quality is not None
    delivered = impair(scenario.data_quality, world.events, seed=seed, start=world.start, end=world.end)
    return replace(world, events=delivered.events), delivered


def write_quality_files(out: Path, delivered: Delivered) -> dict[str, Any]:
    """Write ``impairments.jsonl``; return the ``data_quality`` block of ``metrics.json``."""
    write_impairments(delivered.impairments, out / IMPAIRMENTS_FILE)
    return {
        "impairments_sha256": sha256_of(out / IMPAIRMENTS_FILE),
        "delivery": delivered.stats,
    }
