"""Hall discipline on camera streams (docs/cameras.md): leaving the post, dead cameras, empty
windows while people queue, attendance against the roster, disputes, and the blue/yellow/red
ladder per staff member and month."""

from __future__ import annotations

# The import order below is the rules' registration order, which is their run order
# (engine.rules.registry); keep it explicit.
# isort: off
from engine.rules.discipline import presence
from engine.rules.discipline import capacity
from engine.rules.discipline import conduct
# isort: on

__all__ = ["capacity", "conduct", "presence"]
