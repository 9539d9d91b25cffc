"""``deadline.overdue``: 超时 (yellow card): the case is still open after its deadline."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from engine.rules.approvals.deadline.case_clock import (
    CaseClockRule,
    InstantLimit,
)
from engine.rules.registry import register

__all__ = ["DeadlineOverdue"]


@register
class DeadlineOverdue(CaseClockRule):
    """超时 (yellow card): the case is still open after its deadline."""

    name = "deadline.overdue"
    level = "yellow"

    def __init__(self, *, instant_limit_days: InstantLimit = 1.0) -> None:
        self.instant_limit_days = instant_limit_days

    def instant_limit(self) -> float | None:
        return self.instant_limit_days

    def threshold_days(self, limit_days: float, promised: bool) -> float | None:
        return limit_days

    def _thresholds_many(
        self, limit: npt.NDArray[np.float64], promised: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.float64]:
        return limit
