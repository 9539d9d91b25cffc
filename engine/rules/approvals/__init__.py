"""Approval rules: time limits, logic warnings (流程固化) and card escalation."""

from __future__ import annotations

# The import order below is the rules' registration order, which is their run order
# (engine.rules.registry); keep it explicit.
# isort: off
from engine.rules.approvals import deadline
from engine.rules.approvals import escalation
from engine.rules.approvals import logic
# isort: on

__all__ = ["deadline", "escalation", "logic"]
