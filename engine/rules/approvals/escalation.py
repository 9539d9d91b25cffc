"""Card escalation: repeated yellow cards in one department become a red card.

County rules escalate a department that keeps missing limits (红牌: "repeated yellow
cards"). The rule watches the alerts the engine raises, not the events: every yellow card
on a case counts for the case's department. When ``k`` of them fall within a rolling window
of ``window_days`` working days, the department gets a red card; the yellows that made it
are then spent, so the next red card needs ``k`` new ones (one red card per episode).
"""

from __future__ import annotations

from collections import deque
from typing import Annotated

from msgspec import Meta

from engine.contract.alerts import Alert
from engine.rules.base import Rule
from engine.rules.registry import register

__all__ = ["DepartmentRepeat"]


@register
class DepartmentRepeat(Rule):
    name = "deadline.department_repeat"
    level = "red"
    section = "department_repeat"
    observes_alerts = True

    def __init__(
        self,
        *,
        k: Annotated[
            int,
            Meta(
                ge=1,
                description='Red card for a department with 3 yellow cards ("repeated yellow cards" '
                "escalate)...",
            ),
        ] = 3,
        window_days: Annotated[
            float, Meta(gt=0, description="...within 20 working days (about one calendar month).")
        ] = 20.0,
    ) -> None:
        self.k = k
        self.window_days = window_days

    def reset(self) -> None:
        self._recent: dict[str, deque[tuple[float, str]]] = {}
        self._escalations: dict[str, int] = {}

    def alert_one(self, alert: Alert) -> None:
        dept = alert.department_id
        if alert.level != "yellow" or dept is None or not alert.subject.startswith("case:"):
            return
        idx = self.ctx.to_index(alert.ts)
        recent = self._recent.get(dept)
        if recent is None:
            recent = self._recent[dept] = deque()
        recent.append((idx, alert.subject))
        horizon = idx - self.window_days * self.ctx.day_seconds
        while recent and recent[0][0] <= horizon:
            recent.popleft()
        if len(recent) < self.k:
            return
        n = self._escalations.get(dept, 0) + 1
        self._escalations[dept] = n
        subjects = [s for _, s in recent]
        recent.clear()
        self.ctx.emit(
            self,
            f"department:{dept}",
            alert.ts,
            hall_id=alert.hall_id,
            department_id=dept,
            staff_id=None,
            discriminator=str(n),
            evidence={
                "yellow_cards": subjects,
                "escalation": n,
                "window_days": self.window_days,
                "score": len(subjects),
            },
        )
