"""Accuracy per rule by impairment kind and strength, and alert delay against sync interval.

Why a summary of its own: a grid sweeping impairment strengths (``data_quality.<field>``) asks
how each rule degrades as one impairment grows, not which variant to recommend. Each swept
field is one impairment *kind*; each of its values a *strength*. A cell (rule, kind, strength)
is the mean over seeds and over every variant holding that strength (the other swept fields
averaged out: the grid's marginal), so a kind's row reads left to right as "stronger". The
delay table does the same for each rule family against ``sync.every_minutes``, using the
sweep's own alert delay (:mod:`supsim.experiments.sweep_delivered`).
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import numpy as np

from reports.evaluation.matching import family_of
from reports.evaluation.sweeps.grid import QUALITY, Variant
from reports.evaluation.sweeps.score import SeedResult

__all__ = ["SYNC", "Cell", "DelayRow", "ImpairmentSummary", "summarise_impairments"]

#: The impairment field the delay table is drawn against.
SYNC = "sync.every_minutes"
_DIGITS = 4


class Cell(msgspec.Struct, frozen=True, kw_only=True):
    rule: str
    kind: str
    strength: float
    precision: float | None
    recall: float | None


class DelayRow(msgspec.Struct, frozen=True, kw_only=True):
    """Median alert delay (h) of one rule family at one sync interval, mean over variants and seeds."""

    family: str
    every_minutes: float
    delay_p50_h: float | None


class ImpairmentSummary(msgspec.Struct, frozen=True, kw_only=True):
    kinds: dict[str, list[float]]
    rules: list[str]
    seeds: list[int]
    cells: list[Cell]
    delay: list[DelayRow]


def _mean(xs: Sequence[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return round(float(np.mean(vals)), _DIGITS) if vals else None


def summarise_impairments(variants: Sequence[Variant], results: Sequence[SeedResult]) -> ImpairmentSummary:
    """The heat-map cells and the delay table of a sweep over impairment strengths."""
    kinds: dict[str, list[float]] = {}
    for v in variants:
        for kind, value in v.get(QUALITY, {}).items():
            if value not in kinds.setdefault(kind, []):
                kinds[kind].append(value)
    rules = list(dict.fromkeys(r.rule for res in results for s in res.scores for r in s.rules))
    cells: list[Cell] = []
    for rule in rules:
        for kind, values in kinds.items():
            for value in values:
                picked = [
                    r
                    for res in results
                    for v, s in zip(variants, res.scores, strict=True)
                    if v[QUALITY][kind] == value
                    for r in s.rules
                    if r.rule == rule
                ]
                cells.append(
                    Cell(
                        rule=rule,
                        kind=kind,
                        strength=value,
                        precision=_mean([r.precision for r in picked]),
                        recall=_mean([r.recall for r in picked]),
                    )
                )
    delay: list[DelayRow] = []
    families = list(dict.fromkeys(family_of(r) for r in rules))
    for family in families:
        for value in kinds.get(SYNC, []):
            per: dict[
                int, float | None
            ] = {}  # one delay per (seed, variant): the family's, shared by its rules
            for res in results:
                for i, (v, s) in enumerate(zip(variants, res.scores, strict=True)):
                    if v[QUALITY][SYNC] != value:
                        continue
                    for r in s.rules:
                        if family_of(r.rule) == family:
                            per[res.seed * len(variants) + i] = r.delay_p50_h
            delay.append(DelayRow(family=family, every_minutes=value, delay_p50_h=_mean(list(per.values()))))
    return ImpairmentSummary(
        kinds=kinds, rules=rules, seeds=[r.seed for r in results], cells=cells, delay=delay
    )
