"""The supervision centre's board of *open* warnings and cards, by hall and department.

Why a board apart from the alert log: the log (``GET /v1/alerts``) keeps every alert ever
raised, which is what an audit needs; a supervisor on duty needs what is still open. Two
kinds of subject, two rules, both read off the hall's engine after each commit:

* **A case** (``case:<id>``): its alerts are open while the case is among the engine's open
  cases, and leave the board when the case closes (an alert raised by the closing event
  itself is therefore never open: the case it is about is settled).
* **Anything else** (a department, a staff member, a bidder…): one card per subject, the
  latest alert whose level is the subject's card level on the engine's card board. Cards
  never go down, so such a card stays until an operator resets the engine; a later alert
  at the same level replaces the earlier one (one card per subject, not one per alert).

Why per partition: cases and cards live in the engine of one hall (or the trading or
global partition), and only events of that partition can close its cases or raise its
cards, so after a commit only the partitions the commit touched are recounted; the board
is the sum of the per-partition counts. The board depends only on the engine state and
the alerts in arrival order, so a restart that replays the log rebuilds the same board.

Why the board also tallies closed cases: the engine drops a case's state when it closes,
so the centre's KPIs (overdue and early-completion rates, :mod:`engine.service.centre`)
are taken here, when a case leaves the board: whether a deadline alert (``deadline.*``)
was raised about it while it was open. Only cases with an alert are remembered until they
close, so the tally costs nothing for the cases that never had one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, NamedTuple

from engine.contract.alerts import Alert
from engine.service.halls import PartitionedEngine

__all__ = ["CellCounts", "ClosedTally", "OpenBoard"]

_Cell = tuple[str, str, str]  # hall, department, level
_WARNED, _OVERDUE = 1, 2  # flags of a case: a deadline alert of any level; the limit passed
_OVERDUE_RULES = frozenset({"deadline.overdue", "deadline.severe"})


class CellCounts:
    """Counts by (hall, department, level), published as hall → department → level → count.

    Why not a Counter sorted into nested dicts after each commit: that rebuilt every cell
    that ever had an alert, so a commit's upkeep grew with the halls (41 ms a commit with
    1,536 halls × 12 departments × 3 levels, measured; a service running for months reaches
    that). Here a view rebuilds only the halls whose counts changed since the last one, and
    the rest is a shallow copy (none when nothing changed). Neither a view nor a hall's nested
    dict is changed once published (a changed hall gets a new one in a new view), so a reader
    holding an older view sees it whole. Views are sorted by hall, department and level, and
    leave out cells at zero, as the sorted rebuild did.
    """

    def __init__(self) -> None:
        self._by_hall: dict[str, Counter[tuple[str, str]]] = {}
        self._views: dict[str, dict[str, dict[str, int]]] = {}
        self._dirty: set[str] = set()

    def add(self, cell: _Cell, n: int = 1) -> None:
        """Move one cell's count by ``n``."""
        hall, dept, level = cell
        self._by_hall.setdefault(hall, Counter())[(dept, level)] += n
        self._dirty.add(hall)

    def update(self, counts: Counter[_Cell]) -> None:
        for cell, n in counts.items():
            self.add(cell, n)

    def subtract(self, counts: Counter[_Cell]) -> None:
        for cell, n in counts.items():
            self.add(cell, -n)

    def view(self) -> dict[str, dict[str, dict[str, int]]]:
        """hall → department → level → count, for the cells not at zero (never changed afterwards)."""
        if not self._dirty:
            return self._views
        views = dict(self._views)  # the published one stays as it was
        added = False
        for hall in self._dirty:
            out: dict[str, dict[str, int]] = {}
            for (dept, level), n in sorted(self._by_hall[hall].items()):
                if n:
                    out.setdefault(dept, {})[level] = n
            if out:
                added = added or hall not in views
                views[hall] = out
            else:
                views.pop(hall, None)
        self._dirty.clear()
        self._views = dict(sorted(views.items())) if added else views
        return self._views


class ClosedTally(NamedTuple):
    """Closed cases of one partition that had a deadline alert: any (``warned``), past the limit."""

    warned: int = 0
    overdue: int = 0


class OpenBoard:
    def __init__(self, engine: PartitionedEngine) -> None:
        self.engine = engine
        self._case_alerts: dict[str, dict[str, list[_Cell]]] = {}
        self._cards: dict[str, dict[str, _Cell]] = {}
        self._counts: dict[str, Counter[_Cell]] = {}
        self._total = CellCounts()  # the sum of _counts, kept as partitions change
        self._flags: dict[str, dict[str, int]] = {}  # partition → case → deadline flags
        self._closed: dict[str, ClosedTally] = {}

    def add(self, keyed: Iterable[tuple[str, Alert]]) -> set[str]:
        """Note new alerts (partition, alert) in arrival order; returns the partitions touched."""
        touched: set[str] = set()
        for part, a in keyed:
            touched.add(part)
            cell = (a.hall_id or "", a.department_id or "", a.level)
            if a.subject.startswith("case:"):
                case = a.subject[5:]
                self._case_alerts.setdefault(part, {}).setdefault(case, []).append(cell)
                if a.rule.startswith("deadline."):
                    flags = self._flags.setdefault(part, {})
                    flags[case] = flags.get(case, 0) | _WARNED | (_OVERDUE if a.rule in _OVERDUE_RULES else 0)
            elif self.engine.engine(part).cards.level(a.subject) == a.level:
                self._cards.setdefault(part, {})[a.subject] = cell
        return touched

    def reset(self, partition: str) -> None:
        """Forget a partition's alerts: its engine was rebuilt and they are added again."""
        self._case_alerts.pop(partition, None)
        self._cards.pop(partition, None)
        self._flags.pop(partition, None)
        self._closed.pop(partition, None)
        self._total.subtract(self._counts.pop(partition, Counter()))

    def refresh(self, partitions: Iterable[str]) -> None:
        """Drop the alerts of cases no longer open and recount ``partitions``."""
        for part in partitions:
            eng = self.engine.engines.get(part)
            open_cases = eng.cases if eng is not None else {}
            cases = self._case_alerts.get(part, {})
            flags = self._flags.get(part, {})
            warned = overdue = 0
            for case_id in [c for c in cases if c not in open_cases]:
                del cases[case_id]
                bits = flags.pop(case_id, 0)
                warned += bits & _WARNED
                overdue += (bits & _OVERDUE) >> 1
            if warned:
                old = self._closed.get(part, ClosedTally())
                self._closed[part] = ClosedTally(old.warned + warned, old.overdue + overdue)
            counts: Counter[_Cell] = Counter()
            for cells in cases.values():
                counts.update(cells)
            counts.update(self._cards.get(part, {}).values())
            self._total.subtract(self._counts.get(part, Counter()))
            self._total.update(counts)
            self._counts[part] = counts

    def state(self) -> dict[str, Any]:
        """What the board remembers beyond the engines (for a worker's snapshot, with the engines).

        Why: a cluster worker restores its engines from a snapshot and replays only the tail, so
        the alerts of still-open cases and the closed-case tallies must come back with them; the
        counts are recomputed from these by :meth:`restore`.
        """
        return {
            "case_alerts": self._case_alerts,
            "cards": self._cards,
            "flags": self._flags,
            "closed": self._closed,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Take back what :meth:`state` gave (engines already restored) and recount every partition."""
        self._case_alerts = state["case_alerts"]
        self._cards = state["cards"]
        self._flags = state["flags"]
        self._closed = state["closed"]
        self._counts = {}
        self._total = CellCounts()
        self.refresh(list(self.engine.engines))

    def open_alerts(self, partition: str) -> int:
        """Alerts on the board for one partition (for tests and metrics)."""
        return sum(self._counts.get(partition, Counter()).values())

    def open_levels(self, partition: str) -> dict[str, int]:
        """level → open count of one partition (as of the last refresh)."""
        out: dict[str, int] = {}
        for (_, _, level), n in self._counts.get(partition, Counter()).items():
            if n:
                out[level] = out.get(level, 0) + n
        return out

    def closed_tally(self, partition: str) -> ClosedTally:
        """Closed cases of ``partition`` that had a deadline alert while open."""
        return self._closed.get(partition, ClosedTally())

    def open_subjects(self, partition: str) -> set[str]:
        """Subjects with something on the board in one partition (as of the last refresh)."""
        cases = {f"case:{c}" for c in self._case_alerts.get(partition, {})}
        return cases | set(self._cards.get(partition, {}))

    def board(self) -> dict[str, dict[str, dict[str, int]]]:
        """hall → department → level → open count, sorted (a stable JSON for the page).

        Why a running total: summing every partition's counts after each commit grew with
        the number of halls (1.2 ms a commit with 1,000 halls, measured); ``refresh`` now
        moves the total by the difference of the partitions it recounts, and the total's view
        rebuilds only the halls that changed (:class:`CellCounts`).
        """
        return self._total.view()
