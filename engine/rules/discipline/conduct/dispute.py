"""``discipline.dispute``: raised-voice detections at one window within a short window route it for review.

The family's module docstring (``__init__``) says why the rule looks the way it does.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from engine.contract import events as ev
from engine.rules.discipline.conduct.bases import (
    DisputeCooldown,
    DisputeMinAlerts,
    DisputeMinConfidence,
    DisputeWindow,
)
from engine.rules.discipline.floor import WindowState
from engine.rules.discipline.presence import DisciplineRule
from engine.rules.registry import register

__all__ = ["DisputeRule"]


@register
class DisputeRule(DisciplineRule):
    name = "discipline.dispute"
    level = "warning"

    def __init__(
        self,
        *,
        dispute_min_alerts: DisputeMinAlerts = 2,
        dispute_window_minutes: DisputeWindow = 3.0,
        dispute_min_confidence: DisputeMinConfidence = 0.6,
        dispute_cooldown_minutes: DisputeCooldown = 10.0,
    ) -> None:
        self.dispute_min_alerts = dispute_min_alerts
        self.dispute_window_minutes = dispute_window_minutes
        self.dispute_min_confidence = dispute_min_confidence
        self.dispute_cooldown_minutes = dispute_cooldown_minutes

    def reset(self) -> None:
        super().reset()
        self._recent: dict[str, deque[datetime]] = {}
        self._last: dict[str, datetime] = {}

    def audio(self, event: ev.AudioAlert, win: WindowState | None) -> None:
        if win is None or event.confidence < self.dispute_min_confidence:
            return
        wid = win.window_id
        recent = self._recent.setdefault(wid, deque())
        last = self._last.get(wid)
        cooling = last is not None and event.ts - last < timedelta(minutes=self.dispute_cooldown_minutes)
        recent.append(event.ts)
        while recent and event.ts - recent[0] > timedelta(minutes=self.dispute_window_minutes):
            recent.popleft()
        if cooling:
            self._last[wid] = event.ts
            return
        if len(recent) >= self.dispute_min_alerts:
            self._last[wid] = event.ts
            self.emit_for(
                win.subject,
                event.ts,
                win,
                {"window_id": wid, "detections": len(recent), "first": recent[0].isoformat()},
                self.next_tag(wid, event.ts),
            )
