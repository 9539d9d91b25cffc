"""What the deadline rules share: the case clock and their threshold types.

The promised limit of a case (its item's, or the instant limit), legal suspensions that
move it, and the timer arming every threshold rule does the same way, written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

import numpy as np
import numpy.typing as npt
from msgspec import Meta

from engine.rules.base import Rule
from engine.runtime.cases import CaseState
from engine.runtime.catalogue import ItemInfo
from engine.runtime.timers import TimerKey

__all__ = ["CaseClockRule", "InstantLimit", "SevereOverdue", "StepGrace", "WarningLead", "case_limit"]


WarningLead = Annotated[
    float,
    Meta(
        ge=0, description="时限预警: warn one working day before the promised limit (the usual 提前一天预警)."
    ),
]


SevereOverdue = Annotated[
    float,
    Meta(
        ge=0,
        description="Red card when still open five working days past the limit (severe 超时; county rules "
        "escalate serious delays, five working days is a common threshold).",
    ),
]


#: Shared by the overdue and severe rules (one section field).
InstantLimit = Annotated[
    float,
    Meta(
        gt=0,
        description="Instant cases (即办件) must close the same day; one working day catches cases that a "
        "real system left open without flagging same-day closures late in the afternoon.",
    ),
]


StepGrace = Annotated[
    float,
    Meta(
        ge=0,
        description="Extra working days beyond a step's catalogue limit before step.overdue; 0 applies "
        "the catalogue limit exactly, as the fixed flow (流程固化) prescribes.",
    ),
]


class CaseClockRule(Rule):
    """A timer at ``threshold`` working days of effective case time."""

    section = "deadline"
    kinds = ("case.accepted", "case.resumed")

    def reset(self) -> None:
        self._day = self.ctx.day_seconds
        self._schedule = self.ctx.schedule
        #: Read once per binding, like every parameter-derived value (parameters set later
        #: take effect at the next ``bind``, as an estimator's take effect at the next fit).
        self._instant = self.instant_limit()

    def instant_limit(self) -> float | None:
        """Limit for instant cases, in working days; None when the rule ignores them."""
        return None

    def threshold_days(self, limit_days: float, promised: bool) -> float | None:
        """Working days of effective case time at which the timer fires; None: no timer."""
        raise NotImplementedError

    def thresholds_many(
        self, limit_days: npt.NDArray[np.float64], promised: npt.NDArray[np.bool_]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """:meth:`threshold_days` and the limit for many arms at once (``nan``: no timer).

        ``limit_days`` is the item's promised limit where ``promised``; an instant case takes
        the rule's instant limit, as :meth:`_limit` does. The vectorised sweep path
        (:mod:`engine.vectorised.thresholds`) calls this; a generic test holds it equal to
        the scalar method.
        """
        instant = self.instant_limit()
        limit = np.where(promised, limit_days, np.nan if instant is None else instant)
        return self._thresholds_many(limit, promised), limit

    def _thresholds_many(
        self, limit: npt.NDArray[np.float64], promised: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.float64]:
        raise NotImplementedError

    def _limit(self, case: CaseState) -> tuple[float, bool] | None:
        """(limit in working days, promised?) or None when the item is unknown."""
        return case_limit(case, self._items, self.instant_limit())

    def check_one(self, event: object, case: CaseState) -> None:
        if not case.accepted or case.legal_suspended:
            return
        limit = case_limit(case, self._items, self._instant)
        if limit is None:
            return
        threshold = self.threshold_days(limit[0], limit[1])
        if threshold is None:
            return
        # The case clock: working time since acceptance, minus legal pauses. Re-arming after
        # an alert (a resume) is harmless: the engine raises each alert once.
        due = case.accept_idx + case.paused + threshold * self._day
        self._schedule((self.name, case.case_id, ""), due, case.timer_keys)

    def timer_one(self, case: CaseState, key: TimerKey, when: datetime) -> None:
        if case.legal_suspended:
            return
        limit = self._limit(case)
        if limit is None:
            return
        limit_days, promised = limit
        threshold = self.threshold_days(limit_days, promised)
        if threshold is None:
            return
        day = self.ctx.day_seconds
        accepted_at = case.accepted_at.isoformat() if case.accepted_at is not None else None
        self.emit_case(
            case,
            when,
            staff_id=case.holder,
            evidence={
                "accepted_at": accepted_at,
                "case_type": case.case_type,
                "limit_days": limit_days,
                "threshold_days": threshold,
                "paused_days": round(case.paused / day, 6),
                "open_steps": sorted(case.open_steps),
                # How far into the limit the clock is when the alert is raised.
                "score": round(threshold / limit_days, 6),
            },
        )


def case_limit(
    case: CaseState, items: Mapping[str, ItemInfo], instant: float | None
) -> tuple[float, bool] | None:
    """(limit in working days, promised?) of ``case``; None when its item is unknown.

    Instant cases (即办件) have no promised limit: they take ``instant`` (a rule's instant limit,
    which only catches exports from real systems that left them open), or None without one.
    """
    item = None if case.item_id is None else items.get(case.item_id)
    if item is None:
        return None
    if case.case_type == "promised" and item.promised_days > 0:
        return float(item.promised_days), True
    return None if instant is None else (float(instant), False)
