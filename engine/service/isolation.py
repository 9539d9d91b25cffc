"""Applying one hall's events to its engine so that an event the engine fails on harms nobody.

Why: the engine is trusted code, but a contract-valid event can still make it raise (an
instant that overflows a date computation, a limit that overflows a timer). Before, such an
exception failed the whole group commit, marked the service broken for every hall, and the
event stayed in the log to break the next start again. Now each partition (hall) is applied
on its own; when its engine raises:

1. the error is logged with its traceback;
2. the partition's engine, whose state is now unknown, is thrown away;
3. the culprit is looked for among the events that can be involved: the new ones and the
   stored ones still inside the engine's reorder window (event time at or after the old
   watermark minus the allowed lateness; the engine applies an event only when the
   watermark passes it, so the event that fails is often not the one that arrived). Each is
   *probed* alone in a fresh engine (apply, then ``finish()`` to flush it through); those
   that raise are quarantined;
4. a fresh engine is rebuilt from the partition's log minus the quarantined events, exactly
   as a restart would, and the new events are applied;
5. if that still raises (a failure that needs context, so no event fails alone), the events
   are applied one at a time; the one that raises and every event still in the reorder
   window at that moment are quarantined together, since which of them is at fault cannot
   be told. An operator reads the errors and releases the innocent ones.

Quarantined events stay in the log (a resend is still a duplicate) and the replay on start
skips them, so a restart rebuilds the state the live service reached and is not poisoned
again. The same function serves the live commit, the replay on start and the recovery
after a failed commit.
"""

from __future__ import annotations

import logging
import math
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import msgspec

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.core import Engine
from engine.replay import fixed_clock
from engine.service.halls import PartitionedEngine

__all__ = ["Outcome", "Poison", "apply_partition", "describe", "event_head"]

logger = logging.getLogger(__name__)

_MAX_ERROR = 4000


class _Head(msgspec.Struct):
    kind: str = "?"
    event_id: str = "?"


_HEAD = msgspec.json.Decoder(_Head)


def event_head(body: bytes) -> tuple[str, str]:
    """(kind, event_id) of a stored body that no longer decodes as a contract event."""
    try:
        head = _HEAD.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return "?", "?"
    return str(head.kind)[:64], str(head.event_id)[:128]


def describe(exc: BaseException) -> str:
    """The exception with its traceback, as kept in the quarantine table (bounded)."""
    text = "".join(traceback.format_exception(exc))
    return text if len(text) <= _MAX_ERROR else text[:200] + "\n…\n" + text[-(_MAX_ERROR - 210) :]


@dataclass(slots=True)
class Poison:
    """An event taken out of its partition's stream, and why."""

    seq: int
    event: ev.Event
    error: str


@dataclass(slots=True)
class Outcome:
    """What applying a partition's new events produced.

    ``alerts`` are the engine's alerts in order. When the engine was rebuilt (``rebuilt``),
    they include those re-raised by replaying the partition's log (the store ignores ids it
    holds), and the board of the partition is to be recounted from them.
    """

    alerts: list[Alert] = field(default_factory=list)
    poison: list[Poison] = field(default_factory=list)
    rebuilt: bool = False


_Item = tuple[int, ev.Event]


def _ts(event: ev.Event) -> float:
    return event.ts.timestamp()


def _probe(make: Callable[..., Engine], event: ev.Event) -> BaseException | None:
    eng = make(clock=fixed_clock(event.ts))
    try:
        eng.process_many([event])
        eng.finish()
    except Exception as exc:
        return exc
    return None


def apply_partition(
    engines: PartitionedEngine,
    part: str,
    new: Sequence[_Item],
    history: Callable[[int], list[_Item]],
) -> Outcome:
    """Apply ``new`` (seq, event) of partition ``part``; quarantine what the engine fails on.

    ``history(before_seq)`` returns the partition's stored events with a smaller seq, in
    arrival order, without those already quarantined; it is called only after a failure.
    """
    eng = engines.engine(part)
    wm = eng.watermark
    try:
        return Outcome(alerts=eng.process_many([e for _, e in new]))
    except Exception as exc:
        logger.error(
            "the engine of partition %s failed on a batch of %d event(s); isolating the culprit",
            part, len(new), exc_info=exc,
        )  # fmt: skip
    lateness = float(engines.rulebook.allowed_lateness)
    floor = wm.timestamp() - lateness if wm is not None else -math.inf
    past = history(new[0][0]) if new else []
    candidates = [(s, e) for s, e in past if _ts(e) >= floor] + list(new)
    poison: list[Poison] = []
    for seq, event in candidates:
        if (err := _probe(engines.new_engine, event)) is not None:
            poison.append(Poison(seq, event, describe(err)))
    held = {p.seq for p in poison}
    out = Outcome(poison=poison, rebuilt=True)
    eng = engines.fresh(part)
    try:
        out.alerts = eng.process_many([e for s, e in past if s not in held])
        out.alerts += eng.process_many([e for s, e in new if s not in held])
    except Exception:
        _one_by_one(engines, part, [*past, *new], held, lateness, out)
    for p in out.poison:
        logger.warning("quarantined event %s (%s) of partition %s", p.event.event_id, _kind(p.event), part)
    return out


def _kind(event: ev.Event) -> str:
    return str(type(event).__struct_config__.tag)


def _one_by_one(
    engines: PartitionedEngine, part: str, items: list[_Item], held: set[int], lateness: float, out: Outcome
) -> None:
    """Step 5: apply singly; on a failure hold the trigger and the reorder window, rebuild, go on."""
    applied: list[_Item] = []
    alerts: list[Alert] = []
    eng = engines.fresh(part)
    for seq, event in items:
        if seq in held:
            continue
        wm = eng.watermark
        try:
            alerts += eng.process_many([event])
        except Exception as exc:
            floor = wm.timestamp() - lateness if wm is not None else -math.inf
            window = [(s, e) for s, e in applied if _ts(e) >= floor]
            why = describe(exc)
            note = (
                f"held with the {len(window)} event(s) in the reorder window when {event.event_id} failed\n"
            )
            for s, e in [*window, (seq, event)]:
                out.poison.append(Poison(s, e, note + why))
                held.add(s)
            applied = [(s, e) for s, e in applied if s not in held]
            eng = engines.fresh(part)
            alerts = eng.process_many([e for _, e in applied])  # raises only if context mattered twice
            continue
        applied.append((seq, event))
    out.alerts = alerts
