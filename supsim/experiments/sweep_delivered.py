"""Scoring a sweep's variants on the stream as delivered: engine settings under impaired data.

Why a path of its own: a grid that names engine settings (the rulebook's ``sources``
section) changes what every rule sees, and a scenario with ``data_quality:`` must be judged on
the impaired stream ``supsim run`` gives its engine, not on the world's clean one. So each
variant runs the streaming engine on the delivered stream (no batch path: the vectorised
traces know nothing of watermarks per source, copies or skew) with the scored rules
enabled, and is scored as ``supsim run`` scores it: matched to the violation truth, each
error attributed against the same variant on the clean stream
(:mod:`reports.evaluation.attribution`), which gives the false alarms caused by data quality
per 1,000 cases. The alert delay is measured as docs/data_quality.md defines it: the stream
is fed in arrivals of :data:`ARRIVAL` records, and an alert's delay is the newest record's
event time when it came out minus the alert's own time.

A grid naming impairment strengths (``data_quality.<field>``) delivers the world once per
variant, with that strength set on every source system; each variant then also keeps its
figures per scored rule (:class:`~reports.evaluation.sweeps.score.RuleScore`), which the
impairment heat maps (:mod:`reports.render.plots.impairments`) draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
import numpy as np

from engine.contract.alerts import Alert
from engine.contract.events import Event
from engine.core import Engine
from engine.replay import fixed_clock
from engine.rules import build_rules
from engine.rules.rulebook import Rulebook
from reports.evaluation.accuracy import prf
from reports.evaluation.attribution import RuleFigures, attribute
from reports.evaluation.matching import RULE_TO_TRUTH, family_of
from reports.evaluation.sweeps.grid import ENGINE, QUALITY, Grid, GridError, Variant, apply_settings, variants
from reports.evaluation.sweeps.score import RuleScore, SeedScore, working_days
from sim.common.result import SimResult
from sim.common.scenario import Scenario
from sim.common.sections.quality import (
    Backfill,
    ClockSpec,
    DataQuality,
    Duplicates,
    OldCatalogue,
    StatusMapping,
    SyncSpec,
)
from sim.quality.layer import Delivered

__all__ = ["ARRIVAL", "apply_impairments", "score_delivered", "scored_rules"]

#: Records per arrival when the delay is measured (an exchange batch of a few dozen records).
ARRIVAL = 64


def scored_rules(grid: Grid, book: Rulebook) -> tuple[str, ...]:
    """The rules a grid with engine settings is scored on (see :class:`Grid`): those it names in
    ``rules``, else its swept rules, else every deadline and logic rule the rulebook enables."""
    if grid.rules_scored:
        return grid.rules_scored
    if grid.rules():
        return grid.rules()
    return tuple(r for r in book.rules.enabled if r in RULE_TO_TRUTH)


#: A section a system lacks, before the swept field (the only one that then matters) is set on it.
_EMPTY: dict[str, msgspec.Struct] = {
    "sync": SyncSpec(every_minutes=1.0),
    "clock": ClockSpec(),
    "backfill": Backfill(rate=0.0),
    "duplicates": Duplicates(rate=0.0),
    "old_catalogue": OldCatalogue(rate=0.0),
    "status_mapping": StatusMapping(rate=0.0),
}


def apply_impairments(dq: DataQuality, settings: dict[str, float], *, where: str = "grid") -> DataQuality:
    """``dq`` with a variant's impairment strengths (``{"sync.every_minutes": 60.0}``) set on every
    system, checked against the section's bounds as a scenario file is."""
    systems = []
    for system in dq.systems:
        changes: dict[str, Any] = {}
        for name, value in settings.items():
            section, _, field = name.partition(".")
            if section == "missing":  # a map of approval-event kind -> chance: set one kind
                changes["missing"] = {**changes.get("missing", system.missing), field: value}
                continue
            current = changes.get(section) or getattr(system, section)
            if current is None:  # a system without the section: start from its defaults
                current = _EMPTY[section]
            fields: dict[str, float] = {field: value}
            if name == "sync.every_minutes" and isinstance(current, SyncSpec):
                # a nightly sync at 02:00 swept to hourly keeps its phase: offset within the interval
                fields["offset_minutes"] = current.offset_minutes % value if value > 0 else 0.0
            try:
                changes[section] = msgspec.structs.replace(current, **fields)
            except ValueError as exc:
                raise GridError(
                    f"{where}: `$.params.{QUALITY}.{name}` - {exc} on system {system.name!r}"
                ) from None
        systems.append(msgspec.structs.replace(system, **changes))
    try:
        return msgspec.convert(msgspec.to_builtins(msgspec.structs.replace(dq, systems=systems)), DataQuality)
    except msgspec.ValidationError as exc:
        raise GridError(f"{where}: `$.params` - impairment out of range on data_quality ({exc})") from None


def _run(
    events: Sequence[Event], book: Rulebook, variant: Variant, world: SimResult, rules: tuple[str, ...]
) -> tuple[list[Alert], list[float], set[str]]:
    """Alerts of the scored rules, each one's delay (s), and subjects of records set aside."""
    from supsim.experiments.run_quality import SET_ASIDE

    only = book.with_enabled(*rules)
    built = [r.clone().set_params(**variant[r.name]) if r.name in variant else r for r in build_rules(only)]
    engine = Engine(only, calendar=world.calendar, rules=built, clock=fixed_clock(world.end))
    alerts: list[Alert] = []
    delays: list[float] = []
    for i in range(0, len(events), ARRIVAL):
        out = engine.process_many(events[i : i + ARRIVAL])
        newest = engine.newest_event
        alerts.extend(out)
        delays.extend(0.0 if newest is None else newest - a.ts.timestamp() for a in out)
    last = engine.finish()
    newest = engine.newest_event
    alerts.extend(last)
    delays.extend(0.0 if newest is None else max(0.0, newest - a.ts.timestamp()) for a in last)
    set_aside = {r.subject for r in engine.side_output if r.reason in SET_ASIDE and r.subject}
    return alerts, delays, set_aside


def _per_rule(
    figs: Sequence[RuleFigures], alerts: Sequence[Alert], delays: Sequence[float]
) -> tuple[RuleScore, ...]:
    """Each scored rule's precision and recall on the delivered stream, and its family's median
    alert delay (h): the delay is the engine's, shared by a family's rules waiting on one stream."""
    by_family: dict[str, list[float]] = {}
    for a, d in zip(alerts, delays, strict=True):
        by_family.setdefault(family_of(a.rule), []).append(d)
    out = []
    for f in figs:
        fam = by_family.get(family_of(f.rule), [])
        out.append(
            RuleScore(
                rule=f.rule,
                precision=f.impaired.precision,
                recall=f.impaired.recall,
                delay_p50_h=float(np.percentile(fam, 50)) / 3600.0 if fam else None,
            )
        )
    return tuple(out)


def score_delivered(
    scenario: Scenario, world: SimResult, book: Rulebook, grid: Grid, *, seed: int, where: str = "grid"
) -> list[SeedScore]:
    """Score every variant of ``grid`` on ``world`` as its engine receives it."""
    clean_world = world
    delivered: Delivered | None = None
    if scenario.data_quality is not None:
        from supsim.experiments.run_quality import deliver

        world, delivered = deliver(scenario, clean_world, seed)
    cal = world.calendar
    days = working_days(cal, world.start.date(), world.end.date())
    # Cases any delivered record mentions: the denominator ``supsim run`` uses.
    n_cases = len({c for e in world.events if (c := getattr(e, "case_id", None))})
    rules = scored_rules(grid, book)
    out: list[SeedScore] = []
    for variant in variants(grid):
        vbook = apply_settings(book, variant.get(ENGINE, {}), where=where)
        if QUALITY in variant:
            if scenario.data_quality is None:
                raise GridError(
                    f"{where}: `$.params` - impairments swept on a scenario without data_quality:"
                )
            from supsim.experiments.run_quality import deliver

            dq = apply_impairments(scenario.data_quality, variant[QUALITY], where=where)
            world, delivered = deliver(msgspec.structs.replace(scenario, data_quality=dq), clean_world, seed)
        alerts, delays, set_aside = _run(world.events, vbook, variant, world, rules)
        if delivered is not None:
            clean, _, _ = _run(clean_world.events, vbook, variant, world, rules)
            impairments = delivered.impairments
        else:  # nothing impaired: the run is its own comparison, every error the rule's
            clean, impairments = alerts, []
        att = attribute(
            alerts,
            clean,
            world.truth,
            impairments,
            set_aside=set_aside,
            n_cases=n_cases,
            tolerance_s=grid.tolerance_s,
            on_source_clock=grid.source_clock,
        )
        figs = [f for f in att.rules if f.rule in rules]
        tp = sum(f.impaired.tp for f in figs)
        fp = sum(f.impaired.fp for f in figs)
        fn = sum(f.impaired.fn for f in figs)
        by_data = sum(
            n for f in figs for cause, n in f.false_alarms.items() if cause.startswith("impairment:")
        )
        precision, recall, f1 = prf(tp, fp, fn)
        scored = [d for a, d in zip(alerts, delays, strict=True) if a.rule in rules]
        out.append(
            SeedScore(
                alerts=len(scored),
                tp=tp,
                fp=fp,
                fn=fn,
                precision=precision,
                recall=recall,
                f1=f1,
                latency_p50_h=None,
                alerts_per_day=len(scored) / days if days else 0.0,
                data_false_alarms_per_1000=(
                    round(by_data * 1000 / n_cases, 2) if delivered is not None and n_cases else None
                ),
                delay_p50_h=float(np.percentile(scored, 50)) / 3600.0 if scored else None,
                delay_p90_h=float(np.percentile(scored, 90)) / 3600.0 if scored else None,
                rules=_per_rule(figs, alerts, delays) if QUALITY in variant else (),
            )
        )
    return out
