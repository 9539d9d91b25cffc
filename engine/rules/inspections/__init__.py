"""Inspection rules: rectification deadlines (整改期限) and units named twice in twelve months (评优资格)."""

from __future__ import annotations

# The import order below is the rules' registration order, which is their run order
# (engine.rules.registry); keep it explicit.
# isort: off
from engine.rules.inspections import rectification
from engine.rules.inspections import named
# isort: on

__all__ = ["named", "rectification"]
