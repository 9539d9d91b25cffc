"""``discipline.presence``: how the hall floor reads the detectors; it raises no alert."""

from __future__ import annotations

from engine.rules.base import RuleContext
from engine.rules.discipline.presence.bases import (
    DisciplineRule,
    HeartbeatGrace,
    LeaveDebounce,
    MinConfidence,
    ReturnDebounce,
)
from engine.rules.registry import register

__all__ = ["PresenceRule"]


@register
class PresenceRule(DisciplineRule):
    """``discipline.presence``: how the hall floor reads the detectors; it raises no alert.

    The settings shape the stable presence and camera health that every discipline rule sees,
    so they belong to no one alerting rule; as parameters of this rule they are swept, cloned
    and configured like any threshold. With the rule switched off the floor uses its defaults.
    """

    name = "discipline.presence"
    level = "warning"

    def __init__(
        self,
        *,
        min_confidence: MinConfidence = 0.6,
        leave_debounce_s: LeaveDebounce = 30.0,
        return_debounce_s: ReturnDebounce = 30.0,
        heartbeat_grace_s: HeartbeatGrace = 150.0,
    ) -> None:
        self.min_confidence = min_confidence
        self.leave_debounce_s = leave_debounce_s
        self.return_debounce_s = return_debounce_s
        self.heartbeat_grace_s = heartbeat_grace_s

    def bind(self, ctx: RuleContext) -> None:
        super().bind(ctx)
        self.book.configure(**self.get_params())
