"""``deadline.warning``: 时限预警: a promised case is still open ``warning_lead_days`` before its limit."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from engine.rules.approvals.deadline.case_clock import (
    CaseClockRule,
    WarningLead,
)
from engine.rules.registry import register

__all__ = ["DeadlineWarning"]


@register
class DeadlineWarning(CaseClockRule):
    """时限预警: a promised case is still open ``warning_lead_days`` before its limit.

    Instant cases get no warning. When the lead is not shorter than the limit there is no
    warning either: a warning at acceptance would tell the supervisor nothing.
    """

    name = "deadline.warning"
    level = "warning"

    def __init__(self, *, warning_lead_days: WarningLead = 1.0) -> None:
        self.warning_lead_days = warning_lead_days

    def threshold_days(self, limit_days: float, promised: bool) -> float | None:
        if not promised:
            return None
        at = limit_days - self.warning_lead_days
        return at if at > 0 else None

    def _thresholds_many(
        self, limit: npt.NDArray[np.float64], promised: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.float64]:
        at = limit - self.warning_lead_days
        with np.errstate(invalid="ignore"):
            return np.where(promised & (at > 0), at, np.nan)
