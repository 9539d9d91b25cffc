"""Approval rules: time limits, logic warnings (流程固化) and card escalation."""

from __future__ import annotations

# The import order below is the rules' registration order, which is their run order
# (engine.rules.registry); keep it explicit.
# isort: off
# (The deemed rules, 超时默认 and 缺席默认, are opt-in: see their modules.)
from engine.rules.approvals import deadline
from engine.rules.approvals import escalation
from engine.rules.approvals import logic
from engine.rules.approvals import deemed_approval
from engine.rules.approvals import deemed_consent
# isort: on

__all__ = ["deadline", "deemed_approval", "deemed_consent", "escalation", "logic"]
