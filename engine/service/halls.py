"""One rule engine per hall: the shape of the engine behind the live service.

Why partition by hall: the engine's watermark is the newest event time seen minus the
allowed lateness. Behind one shared engine, a hall whose terminals are a few minutes ahead
of another's would push the others' events past the watermark, and they would be late
through no fault of their own. Each hall's sources deliver in order, so an engine per hall
(keyed streams with a watermark per key, as stream processors do it) gives every hall the
same alerts as an in-process run of that hall's stream, whatever the interleaving of halls
on the wire. Rules never look across halls: cases, departments and staff all belong to one.

Events without a hall (tendering, a heartbeat not tied to a hall) go to the partition
named by :func:`partition_of`. The live service and the load harness's in-process
reference both use this class, so "the same stream" means the same thing for both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.contract.calendar import WorkingCalendar
from engine.core import Engine
from engine.rules.rulebook import Rulebook

__all__ = ["TRADING_PARTITION", "PartitionedEngine", "partition_of", "reference_alerts"]

TRADING_PARTITION = "~trading"
_GLOBAL_PARTITION = "~global"
_TENDERING = (ev.TenderPublished, ev.BidSubmitted, ev.BidsOpened, ev.ExpertScored, ev.TenderAwarded)


def partition_of(event: ev.Event) -> str:
    """The engine partition an event belongs to: its hall, else trading, else global."""
    hall = getattr(event, "hall_id", None)
    if hall:
        return str(hall)
    if isinstance(event, _TENDERING):
        return TRADING_PARTITION
    return _GLOBAL_PARTITION


class PartitionedEngine:
    """A map from partition to :class:`Engine`, created on first use, one calendar shared."""

    def __init__(self, rulebook: Rulebook | None = None, *, calendar: WorkingCalendar | None = None) -> None:
        self.rulebook = rulebook if rulebook is not None else Rulebook.default()
        self.calendar = calendar if calendar is not None else self.rulebook.build_calendar()
        self.engines: dict[str, Engine] = {}

    def engine(self, partition: str) -> Engine:
        eng = self.engines.get(partition)
        if eng is None:
            eng = self.engines[partition] = self.new_engine()
        return eng

    def new_engine(self, *, clock: Callable[[], float] | None = None) -> Engine:
        """A fresh engine with this rulebook and calendar, in no partition (for probes).

        A probe passes a ``clock`` reading the probed event's own instant: alone in an engine
        the event has no second source to confirm it, and it must be applied to be judged.
        """
        return Engine(self.rulebook, calendar=self.calendar, clock=clock)

    def fresh(self, partition: str) -> Engine:
        """Replace ``partition``'s engine by a fresh one (its state is rebuilt by the caller)."""
        eng = self.engines[partition] = self.new_engine()
        return eng

    def process_many(self, events: Sequence[ev.Event]) -> list[Alert]:
        """Apply a batch; each partition sees its events in arrival order."""
        return [a for _, a in self.process_keyed(events)]

    def process_keyed(self, events: Sequence[ev.Event]) -> list[tuple[str, Alert]]:
        """As :meth:`process_many`, each alert with the partition whose engine raised it."""
        groups: dict[str, list[ev.Event]] = {}
        for event in events:
            key = partition_of(event)
            group = groups.get(key)
            if group is None:
                groups[key] = [event]
            else:
                group.append(event)
        out: list[tuple[str, Alert]] = []
        for key in sorted(groups):
            out.extend((key, a) for a in self.engine(key).process_many(groups[key]))
        return out

    @property
    def stats(self) -> dict[str, int]:
        """Engine counters summed over partitions, plus the partition count."""
        total: dict[str, int] = {"partitions": len(self.engines)}
        for eng in self.engines.values():
            for name, value in eng.stats.items():
                total[name] = total.get(name, 0) + value
        return total

    def open_cases(self) -> dict[str, int]:
        return {key: len(eng.cases) for key, eng in sorted(self.engines.items())}

    def card_levels(self) -> dict[str, str]:
        levels: dict[str, str] = {}
        for eng in self.engines.values():
            levels.update(eng.card_levels)
        return levels


def reference_alerts(
    events: Iterable[ev.Event], rulebook: Rulebook | None = None, *, calendar: WorkingCalendar | None = None
) -> list[Alert]:
    """What a live deployment must hold after ingesting ``events`` (no end-of-stream flush).

    The service never calls :meth:`Engine.finish` (a live stream has no end), so neither
    does the reference; alerts are sorted by ``(ts, alert_id)``.
    """
    engine = PartitionedEngine(rulebook, calendar=calendar)
    batch: list[ev.Event] = []
    alerts: list[Alert] = []
    for event in events:
        batch.append(event)
        if len(batch) >= 20_000:
            alerts.extend(engine.process_many(batch))
            batch = []
    alerts.extend(engine.process_many(batch))
    alerts.sort(key=lambda a: (a.ts, a.alert_id))
    return alerts
