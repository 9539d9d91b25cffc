"""Source health: a department's system that stopped delivering records (opt-in) or names item
codes the catalogue does not know."""

from __future__ import annotations

from engine.rules.sources import silent, unknown_item

__all__ = ["silent", "unknown_item"]
