"""The network board: one unit's children, levels, worst halls, alert trend and silent sources.

Why computed per request from per-hall facts: the facts of a hall change with every commit
that touches it, while a supervisor looks at one unit at a time. One pass over the halls
(1,742 in a province) sums them into the unit's children and levels; the trend is read from
counters kept per unit (:mod:`engine.service.centre.trend`). ``docs/scale.md`` has the
measured cost with 1,000 halls.

What the KPIs mean (the engine drops a case's state when it closes, so these are what it can
say): ``overdue_rate`` is the share of closed cases that were still open past their limit
(``deadline.overdue`` or ``deadline.severe`` was raised about them); ``early_rate`` the share
closed before any deadline alert, i.e. before the warning point (``warning_lead_days``
ahead of a promised limit) — 提前办结 as far as the engine can tell it. Where facts are only
raised alerts (a cluster whose workers have not all published yet), ``counts`` says
``raised`` and the KPIs are null.

Why ``sources.lagging``: in the cluster the facts come from workers, and a worker that stopped
reporting or fell behind the stream leaves its halls' facts stale; the cluster passes such
workers in so the board says so. ``supsim serve`` has no workers: the list is always empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from engine.service.centre.trend import AlertTrend
from engine.service.centre.units import ROOT, UnitTree

__all__ = ["HallFacts", "UnknownUnit", "network_board"]

_LEVELS = ("warning", "yellow", "red")
_MAX_SILENT = 500


class UnknownUnit(LookupError):
    """No hall under the unit asked for, and no network file naming it."""


@dataclass(frozen=True, slots=True)
class HallFacts:
    """What the centre knows of one hall; ``None``: the source of the facts cannot tell."""

    warning: int = 0
    yellow: int = 0
    red: int = 0
    open_cases: int | None = None
    closed: int | None = None
    closed_warned: int | None = None
    closed_overdue: int | None = None
    last_event: float | None = None


_NO_FACTS = HallFacts()


class _Row:
    """Sums of one row; the KPIs over the halls that report them (``reporting``)."""

    __slots__ = ("closed", "halls", "open", "open_cases", "overdue", "reporting", "silent", "warned")

    def __init__(self) -> None:
        self.halls = self.silent = self.reporting = 0
        self.open_cases = self.closed = self.warned = self.overdue = 0
        self.open = [0, 0, 0]

    def add(self, f: HallFacts, silent: bool) -> None:
        self.halls += 1
        self.silent += silent
        self.open[0] += f.warning
        self.open[1] += f.yellow
        self.open[2] += f.red
        if f.open_cases is None or f.closed is None or f.closed_warned is None or f.closed_overdue is None:
            return
        self.reporting += 1
        self.open_cases += f.open_cases
        self.closed += f.closed
        self.warned += f.closed_warned
        self.overdue += f.closed_overdue

    def out(self) -> dict[str, Any]:
        known = self.reporting > 0
        rate = known and self.closed > 0
        return {
            "halls": self.halls,
            "reporting": self.reporting,
            **dict(zip(_LEVELS, self.open, strict=True)),
            "open_cases": self.open_cases if known else None,
            "closed": self.closed if known else None,
            "overdue_rate": round(self.overdue / self.closed, 4) if rate else None,
            "early_rate": round((self.closed - self.warned) / self.closed, 4) if rate else None,
            "silent": self.silent,
        }


def _row(rows: dict[str, _Row], key: str) -> _Row:
    row = rows.get(key)
    if row is None:
        row = rows[key] = _Row()
    return row


def _unit(tree: UnitTree, unit: str) -> dict[str, str]:
    name, level = tree.label(unit)
    return {"id": unit, "name": name, "level": level}


def _silent(tree: UnitTree, hall: str, last: float, now: float | None) -> dict[str, Any]:
    """A silent hall: its newest event time and for how long it has been quiet (None: never heard)."""
    heard = last >= 0
    minutes = round((now - last) / 60, 1) if heard and now is not None else None
    return {**_unit(tree, hall), "last_event": last if heard else None, "silent_minutes": minutes}


def network_board(
    facts: Mapping[str, HallFacts],
    trend: AlertTrend,
    tree: UnitTree,
    unit: str = ROOT,
    *,
    now: float | None = None,
    tz_offset_s: float = 0.0,
    silent_s: float = 3600.0,
    worst: int = 10,
    counts: Literal["open", "raised"] = "open",
    lagging: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The board of ``unit`` (``""``: the whole network); :class:`UnknownUnit` if nothing is under it.

    ``now`` defaults to the newest event time of any hall (the network's stream time), else the
    newest alert: a replayed or simulated stream is judged in its own time.
    """
    halls: Iterable[str] = facts.keys()
    if tree.units:
        halls = set(halls) | set(tree.halls())
    if now is None:
        times = [f.last_event for f in facts.values() if f.last_event is not None]
        now = max(times) if times else trend.newest
    path = tree.path(unit)
    depth = len(path) - 1
    children: dict[str, _Row] = {}
    levels: dict[str, _Row] = {}
    total = _Row()
    hall_rows: list[tuple[str, HallFacts]] = []
    silent: list[tuple[float, str]] = []
    for hall in halls:
        chain = tree.ancestors(hall)
        if len(chain) <= depth or chain[depth] != unit:
            continue
        f = facts.get(hall, _NO_FACTS)
        # no event times where only alerts are known (`raised`): see `sources`
        last = f.last_event
        quiet = counts == "open" and (last is None or (now is not None and now - last > silent_s))
        child = chain[depth + 1] if len(chain) > depth + 1 else hall
        level = tree.label(hall)[1]
        for row in (_row(children, child), _row(levels, level), total):
            row.add(f, quiet)
        hall_rows.append((hall, f))
        if quiet:
            silent.append((last if last is not None else -1.0, hall))
    if not hall_rows and unit != ROOT and unit not in tree.units:
        raise UnknownUnit(unit)
    this_hour = (now // 3600) * 3600 if now is not None else None
    child_rows = []
    for child, row in children.items():
        recent = 0 if this_hour is None else trend.count(child, this_hour - 23 * 3600, this_hour + 3600)
        child_rows.append({**_unit(tree, child), "own": child == unit, **row.out(), "alerts_24h": recent})
    child_rows.sort(key=lambda r: (not r["own"], r["id"]))
    ranked = sorted(hall_rows, key=lambda hf: (-hf[1].red, -hf[1].yellow, -hf[1].warning, hf[0]))
    worst_rows = [
        {**_unit(tree, h), "warning": f.warning, "yellow": f.yellow, "red": f.red, "open_cases": f.open_cases}
        for h, f in ranked[:worst]
        if f.red or f.yellow or f.warning
    ]
    silent.sort()
    sources: dict[str, Any] | None = None
    if counts == "open":
        sources = {
            "silent_minutes": round(silent_s / 60, 3),
            "silent_count": len(silent),
            "silent": [_silent(tree, h, t, now) for t, h in silent[:_MAX_SILENT]],
            "lagging": [dict(w) for w in lagging],
        }
    return {
        "unit": _unit(tree, unit),
        "path": [_unit(tree, u) for u in path],
        "counts": counts,
        "now": now,
        "tz_offset_s": tz_offset_s,
        "total": total.out(),
        "children": child_rows,
        "levels": [{"level": lv, **row.out()} for lv, row in sorted(levels.items())],
        "worst": worst_rows,
        "trend": trend.series(unit, now, tz_offset_s) if now is not None else {"hours": [], "days": []},
        "sources": sources,
    }
