"""Card levels per subject: warning < yellow < red, and a card never goes down.

A supervision centre escalates (预警 → 黄牌 → 红牌); once a department or a case holds a
red card, a later warning about it is still a fact worth recording, but it must not make
the displayed card look better. The board therefore keeps the highest level seen per
subject, and every alert, whatever its level, is kept by the runtime.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.contract.alerts import Alert

__all__ = ["LEVEL_RANK", "CardBoard", "level_rank"]

#: Order of the card levels. A rule-specific severity that is not a card ranks below them.
LEVEL_RANK: Mapping[str, int] = {"warning": 1, "yellow": 2, "red": 3}


def level_rank(level: str) -> int:
    return LEVEL_RANK.get(level, 0)


class CardBoard:
    """Highest card level per subject."""

    __slots__ = ("_levels",)

    def __init__(self) -> None:
        self._levels: dict[str, str] = {}

    def record(self, alert: Alert) -> bool:
        """Note ``alert``; returns True when it raised (or first set) its subject's level."""
        current = self._levels.get(alert.subject)
        if current is not None and level_rank(alert.level) <= level_rank(current):
            return False
        self._levels[alert.subject] = alert.level
        return True

    def level(self, subject: str) -> str | None:
        return self._levels.get(subject)

    def levels(self) -> dict[str, str]:
        """A copy, sorted by subject so that it serialises identically on every run."""
        return {s: self._levels[s] for s in sorted(self._levels)}

    def __len__(self) -> int:
        return len(self._levels)
