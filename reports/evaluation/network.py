"""Accuracy and KPIs of a network of halls, per level and per unit, from per-hall counts.

Why counts and not a re-evaluation: a province-week is hundreds of millions of events; the
network run scores each hall where it was simulated (with the same :func:`reports.evaluate`
and :func:`reports.evaluation.discipline.evaluate_discipline` as a single hall run), keeps
only the *counts* of each hall (:class:`HallRecord`: true and false positives and misses
per rule, cases, completions, warnings), and adds them up here. Sums of counts are exact;
ratios are recomputed from the sums (pooled, so a big hall weighs as much as its cases), never
averaged over halls. Latency percentiles and bootstrap intervals do not add up, so a network
report has none; the per-hall runs are the place for those.

Groups: the whole network, each level (province, city, county, township halls), and each
unit of the second level (a prefecture city with every hall under it; the root's own hall
is a group of its own), so the unit groups, like the levels, partition the halls.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import msgspec

from reports.evaluation.accuracy import Score, prf
from reports.evaluation.discipline import DisciplineReport
from reports.evaluation.run import Evaluation

__all__ = [
    "DisciplineCounts",
    "Group",
    "HallRecord",
    "KpiCounts",
    "KpiRates",
    "NetworkAggregator",
    "NetworkReport",
    "RuleCounts",
    "RuleRow",
    "hall_record",
]

_DIGITS = 6


class RuleCounts(msgspec.Struct, frozen=True, kw_only=True):
    """One rule's (or all rules') counts in one hall."""

    name: str
    episodes: int
    alerts: int
    tp: int
    fp: int
    fn: int


class DisciplineCounts(msgspec.Struct, frozen=True, kw_only=True):
    """One discipline rule's counts in one camera hall (``grey``: neither hit nor false alarm)."""

    name: str
    positives: int
    alerts: int
    tp: int
    fp: int
    fn: int
    grey: int


class KpiCounts(msgspec.Struct, frozen=True, kw_only=True):
    """The additive part of a hall's KPIs (:class:`reports.evaluation.kpis.HallKpis`)."""

    cases_seen: int = 0
    cases_submitted: int = 0
    cases_accepted: int = 0
    cases_closed: int = 0
    promised_closed: int = 0
    early_completed: int = 0
    on_time_completed: int = 0
    deadline_warnings: int = 0
    step_warnings: int = 0
    logic_warnings: int = 0
    yellow_cards: int = 0
    red_cards: int = 0


class HallRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What a network run keeps of one hall: where it is, what it was, what it counted."""

    hall_id: str
    name: str
    level: str
    parent: str | None
    city: str | None
    template: str
    departments: int
    windows: int
    items: int
    cases_per_day: float
    cameras: bool
    partition: int
    events: int
    truth_episodes: int
    alerts: int
    late: int
    future: int
    duplicates: int
    rules: tuple[RuleCounts, ...]
    overall: RuleCounts
    discipline: tuple[DisciplineCounts, ...]
    kpis: KpiCounts


def hall_record(
    *,
    ids: dict[str, str | None],
    shape: dict[str, int | float | bool],
    partition: int,
    evaluation: Evaluation,
    discipline: DisciplineReport | None,
    engine_stats: dict[str, int],
) -> HallRecord:
    """A hall's record from its evaluation (``ids``: hall_id, name, level, parent, city,
    template; ``shape``: departments, windows, items, cases_per_day, cameras)."""

    def counts(score: Score) -> RuleCounts:
        return RuleCounts(
            name=score.name,
            episodes=score.episodes,
            alerts=score.alerts,
            tp=score.tp,
            fp=score.fp,
            fn=score.fn,
        )

    k = evaluation.kpis
    a = k.alerts
    return HallRecord(
        hall_id=str(ids["hall_id"]),
        name=str(ids["name"]),
        level=str(ids["level"]),
        parent=ids.get("parent"),
        city=ids.get("city"),
        template=str(ids["template"]),
        departments=int(shape["departments"]),
        windows=int(shape["windows"]),
        items=int(shape["items"]),
        cases_per_day=float(shape["cases_per_day"]),
        cameras=bool(shape["cameras"]),
        partition=partition,
        events=evaluation.facts.events,
        truth_episodes=evaluation.facts.truth_episodes,
        alerts=evaluation.facts.alerts,
        late=int(engine_stats.get("late", 0)),
        future=int(engine_stats.get("future", 0)),
        duplicates=int(engine_stats.get("duplicates", 0)),
        rules=tuple(counts(s) for s in evaluation.rules),
        overall=counts(evaluation.overall),
        discipline=tuple(
            DisciplineCounts(
                name=r.rule, positives=r.positives, alerts=r.alerts, tp=r.tp, fp=r.fp, fn=r.fn, grey=r.grey
            )
            for r in (discipline.rules if discipline is not None else ())
        ),
        kpis=KpiCounts(
            cases_seen=k.cases_seen,
            cases_submitted=k.cases_submitted,
            cases_accepted=k.cases_accepted,
            cases_closed=k.cases_closed,
            promised_closed=k.promised_closed,
            early_completed=k.early_completed,
            on_time_completed=k.on_time_completed,
            deadline_warnings=a.deadline_warnings,
            step_warnings=a.step_warnings,
            logic_warnings=a.logic_warnings,
            yellow_cards=a.yellow_cards,
            red_cards=a.red_cards,
        ),
    )


class RuleRow(msgspec.Struct, frozen=True, kw_only=True):
    """Summed counts of one rule over a group, with the pooled precision, recall and F1."""

    name: str
    episodes: int
    alerts: int
    tp: int
    fp: int
    fn: int
    precision: float | None
    recall: float | None
    f1: float | None
    grey: int | None = None


class KpiRates(msgspec.Struct, frozen=True, kw_only=True):
    """Pooled rates of a group: early completion, on time, overdue (among promised cases
    closed), warnings and cards per 10,000 cases seen."""

    early_completion_rate: float | None
    on_time_rate: float | None
    overdue_rate: float | None
    warnings_per_10k: float | None
    cards_per_10k: float | None


class Group(msgspec.Struct, frozen=True, kw_only=True):
    """A set of halls (the network, a level, a unit) and everything summed over it."""

    key: str
    label: str
    halls: int
    camera_halls: int
    windows: int
    events: int
    truth_episodes: int
    alerts: int
    late: int
    future: int
    duplicates: int
    overall: RuleRow
    rules: tuple[RuleRow, ...]
    discipline: tuple[RuleRow, ...]
    kpis: KpiCounts
    rates: KpiRates


class NetworkReport(msgspec.Struct, frozen=True, kw_only=True):
    """The network's ``metrics.json``: totals, one group per level, one per unit of ``unit_level``."""

    total: Group
    levels: tuple[Group, ...]
    unit_level: str | None
    units: tuple[Group, ...]


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, _DIGITS)


def _row(name: str, c: Counter[str], grey: bool = False) -> RuleRow:
    p, r, f = prf(c["tp"], c["fp"], c["fn"])
    return RuleRow(
        name=name,
        episodes=c["episodes"],
        alerts=c["alerts"],
        tp=c["tp"],
        fp=c["fp"],
        fn=c["fn"],
        precision=_r(p),
        recall=_r(r),
        f1=_r(f),
        grey=c["grey"] if grey else None,
    )


def _counts(rule: RuleCounts) -> dict[str, int]:
    return {"episodes": rule.episodes, "alerts": rule.alerts, "tp": rule.tp, "fp": rule.fp, "fn": rule.fn}


class _Tally:
    """Running sums of one group; adding a hall costs its record, not its events."""

    _SCALARS = ("events", "truth_episodes", "alerts", "late", "future", "duplicates", "windows")

    def __init__(self) -> None:
        self.scalars: Counter[str] = Counter()
        self.rules: dict[str, Counter[str]] = {}
        self.discipline: dict[str, Counter[str]] = {}
        self.overall: Counter[str] = Counter()
        self.kpis: Counter[str] = Counter()

    def add(self, rec: HallRecord) -> None:
        s = self.scalars
        s["halls"] += 1
        s["camera_halls"] += int(rec.cameras)
        for name in self._SCALARS:
            s[name] += getattr(rec, name)
        for rule in rec.rules:
            self.rules.setdefault(rule.name, Counter()).update(_counts(rule))
        self.overall.update(_counts(rec.overall))
        for d in rec.discipline:
            c = self.discipline.setdefault(d.name, Counter())
            c.update(
                {
                    "episodes": d.positives,
                    "alerts": d.alerts,
                    "tp": d.tp,
                    "fp": d.fp,
                    "fn": d.fn,
                    "grey": d.grey,
                }
            )
        self.kpis.update(msgspec.structs.asdict(rec.kpis))

    def group(self, key: str, label: str) -> Group:
        s, k = self.scalars, self.kpis
        kpis = KpiCounts(**{f: k[f] for f in KpiCounts.__struct_fields__})
        closed, seen = kpis.promised_closed, kpis.cases_seen
        warnings = kpis.deadline_warnings + kpis.step_warnings + kpis.logic_warnings
        cards = kpis.yellow_cards + kpis.red_cards
        rates = KpiRates(
            early_completion_rate=_r(kpis.early_completed / closed) if closed else None,
            on_time_rate=_r(kpis.on_time_completed / closed) if closed else None,
            overdue_rate=_r((closed - kpis.on_time_completed) / closed) if closed else None,
            warnings_per_10k=_r(warnings * 10_000 / seen) if seen else None,
            cards_per_10k=_r(cards * 10_000 / seen) if seen else None,
        )
        return Group(
            key=key,
            label=label,
            halls=s["halls"],
            camera_halls=s["camera_halls"],
            windows=s["windows"],
            events=s["events"],
            truth_episodes=s["truth_episodes"],
            alerts=s["alerts"],
            late=s["late"],
            future=s["future"],
            duplicates=s["duplicates"],
            overall=_row("all", self.overall),
            rules=tuple(_row(name, c) for name, c in self.rules.items()),
            discipline=tuple(_row(name, c, grey=True) for name, c in self.discipline.items()),
            kpis=kpis,
            rates=rates,
        )


class NetworkAggregator:
    """Adds hall records one at a time; :meth:`report` gives the groups.

    ``levels`` and ``unit_labels`` fix the order (and the labels) of the groups, so the
    report does not depend on the order halls arrive in: halls finish in any order on a
    pool, while the report must be byte-identical. Rule rows keep first-seen order, which
    is the rulebook's in every hall.
    """

    def __init__(self, *, levels: Iterable[str], unit_level: str | None, unit_labels: dict[str, str]) -> None:
        self._total = _Tally()
        self._levels = {name: _Tally() for name in levels}
        self._unit_level = unit_level
        self._unit_labels = dict(unit_labels)
        self._units = {key: _Tally() for key in self._unit_labels}
        self.halls = 0

    def add(self, rec: HallRecord) -> None:
        self.halls += 1
        self._total.add(rec)
        if rec.level not in self._levels:
            raise ValueError(f"hall {rec.hall_id}: level {rec.level!r} is not one of {list(self._levels)}")
        self._levels[rec.level].add(rec)
        unit = rec.city if rec.city is not None else rec.hall_id
        if unit not in self._units:
            raise ValueError(f"hall {rec.hall_id}: unit {unit!r} is not one of the network's units")
        self._units[unit].add(rec)

    def report(self, *, network: str = "network") -> NetworkReport:
        return NetworkReport(
            total=self._total.group("all", network),
            levels=tuple(t.group(name, name) for name, t in self._levels.items() if t.scalars["halls"]),
            unit_level=self._unit_level,
            units=tuple(
                t.group(key, self._unit_labels[key]) for key, t in self._units.items() if t.scalars["halls"]
            ),
        )
