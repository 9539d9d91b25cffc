"""``discipline.yellow_card``: the ladder's middle rung for a staff member in a calendar month.

The family's module docstring (``__init__``) says why the rule looks the way it does.
"""

from __future__ import annotations

from engine.rules.discipline.conduct.bases import (
    LadderCardRule,
    YellowAfter,
)
from engine.rules.registry import register

__all__ = ["YellowCardRule"]


@register
class YellowCardRule(LadderCardRule):
    name = "discipline.yellow_card"
    level = "yellow"
    _param = "yellow_after"

    def __init__(self, *, yellow_after: YellowAfter = 2) -> None:
        self.yellow_after = yellow_after
