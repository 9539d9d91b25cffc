"""Public-resource trading (docs/bidding.md): trace rules as the regulations state them, price
screens, experts and agents, cards with debarment, ring recovery."""

from __future__ import annotations

# The import order below is the rules' registration order, which is their run order
# (engine.rules.registry); keep it explicit.
# isort: off
from engine.rules.collusion import traces
from engine.rules.collusion import screens
from engine.rules.collusion import parties
from engine.rules.collusion import rings
# isort: on

__all__ = ["parties", "rings", "screens", "traces"]
