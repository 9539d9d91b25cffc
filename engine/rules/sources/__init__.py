"""Source health: a department's system that stopped delivering records (opt-in)."""

from __future__ import annotations

from engine.rules.sources import silent

__all__ = ["silent"]
