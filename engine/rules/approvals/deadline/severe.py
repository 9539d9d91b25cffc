"""``deadline.severe``: red card: still open ``severe_overdue_days`` working days after the deadline."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from engine.rules.approvals.deadline.case_clock import (
    CaseClockRule,
    InstantLimit,
    SevereOverdue,
)
from engine.rules.registry import register

__all__ = ["DeadlineSevere"]


@register
class DeadlineSevere(CaseClockRule):
    """Red card: still open ``severe_overdue_days`` working days after the deadline."""

    name = "deadline.severe"
    level = "red"

    def __init__(
        self, *, severe_overdue_days: SevereOverdue = 5.0, instant_limit_days: InstantLimit = 1.0
    ) -> None:
        self.severe_overdue_days = severe_overdue_days
        self.instant_limit_days = instant_limit_days

    def instant_limit(self) -> float | None:
        return self.instant_limit_days

    def threshold_days(self, limit_days: float, promised: bool) -> float | None:
        return limit_days + self.severe_overdue_days

    def _thresholds_many(
        self, limit: npt.NDArray[np.float64], promised: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.float64]:
        return limit + self.severe_overdue_days
