"""``discipline.blue_card``: the blue rung (提醒, a reminder), at level ``warning``, the lowest card rank."""

from __future__ import annotations

from engine.rules.discipline.conduct.bases import (
    BlueAfter,
    LadderCardRule,
)
from engine.rules.registry import register

__all__ = ["BlueCardRule"]


@register
class BlueCardRule(LadderCardRule):
    """The blue rung (提醒, a reminder) travels at level ``warning``, the lowest card rank."""

    name = "discipline.blue_card"
    level = "warning"
    _param = "blue_after"

    def __init__(self, *, blue_after: BlueAfter = 1) -> None:
        self.blue_after = blue_after
