"""Where the world writes what happened: the event stream and the injected ground truth.

Events are appended as they happen (SimPy time only moves forward) and sorted once at the
end. Logic violations and look-alikes are labelled at the moment they are injected, with
the onset set to the timestamp of the offending record exactly as the engine will see it;
deadline and step episodes are computed afterwards from the stream (:mod:`sim.hall.timing_truth`).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Literal

from engine.contract.events import Event
from sim.common.truth import Episode, Params
from sim.hall.misconduct import LOOKALIKE_CONFUSES

__all__ = ["CaseRef", "Recorder"]


class CaseRef:
    """The identity of a case as truth records need it (hall, department, item)."""

    __slots__ = ("department_id", "hall_id", "id", "item_id")

    def __init__(self, case_id: str, hall_id: str, department_id: str, item_id: str) -> None:
        self.id = case_id
        self.hall_id = hall_id
        self.department_id = department_id
        self.item_id = item_id


class Recorder:
    """Collects events and truth episodes; counts what was injected."""

    __slots__ = ("counts", "events", "truth")

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.truth: list[Episode] = []
        self.counts: Counter[str] = Counter()

    def violation(
        self,
        case: CaseRef,
        kind: str,
        ts: datetime,
        staff_id: str | None = None,
        **params: str | float | None,
    ) -> None:
        """An injected logic violation, detectable at ``ts`` (the offending record's time)."""
        self.counts[f"injected.{kind}"] += 1
        self._episode(case, kind, ts, staff_id, params, cause="injected")

    def lookalike(
        self,
        case: CaseRef,
        kind: str,
        ts: datetime,
        staff_id: str | None = None,
        **params: str | float | None,
    ) -> None:
        """A look-alike negative: legal, but resembling the kinds in ``LOOKALIKE_CONFUSES``."""
        self.counts[f"lookalike.{kind}"] += 1
        self._episode(
            case,
            kind,
            ts,
            staff_id,
            params,
            cause="lookalike",
            lookalike=True,
            confuses=LOOKALIKE_CONFUSES[kind],
        )

    def _episode(
        self,
        case: CaseRef,
        kind: str,
        ts: datetime,
        staff_id: str | None,
        params: dict[str, str | float | None],
        *,
        cause: Literal["injected", "lookalike"],
        lookalike: bool = False,
        confuses: tuple[str, ...] = (),
    ) -> None:
        self.truth.append(
            Episode(
                episode_id=f"{kind}:case:{case.id}",
                kind=kind,
                subject=f"case:{case.id}",
                onset=ts,
                end=ts,
                lookalike=lookalike,
                confuses=confuses,
                cause=cause,
                hall_id=case.hall_id,
                department_id=case.department_id,
                staff_id=staff_id,
                params=_params(case, params),
            )
        )

    def injected(self, kind: str) -> None:
        """Count an injected kind whose truth is computed later (``slow_walking``)."""
        self.counts[f"injected.{kind}"] += 1


def _params(case: CaseRef, params: dict[str, str | float | None]) -> Params:
    out: Params = {"item_id": case.item_id}
    out.update(params)
    return out
