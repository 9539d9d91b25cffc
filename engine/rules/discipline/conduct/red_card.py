"""``discipline.red_card``: the ladder's top rung for a staff member in a calendar month.

The family's module docstring (``__init__``) says why the rule looks the way it does.
"""

from __future__ import annotations

from engine.rules.discipline.conduct.bases import (
    LadderCardRule,
    RedAfter,
)
from engine.rules.registry import register

__all__ = ["RedCardRule"]


@register
class RedCardRule(LadderCardRule):
    name = "discipline.red_card"
    level = "red"
    _param = "red_after"

    def __init__(self, *, red_after: RedAfter = 3) -> None:
        self.red_after = red_after
