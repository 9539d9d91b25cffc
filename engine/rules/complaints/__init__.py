"""Complaint rules: answer and feedback limits (限时办结, 及时反馈), repeat and substantiated complaints."""

from __future__ import annotations

# The import order below is the rules' registration order, which is their run order
# (engine.rules.registry); keep it explicit.
# isort: off
from engine.rules.complaints import overdue
from engine.rules.complaints import feedback
from engine.rules.complaints import repeat
from engine.rules.complaints import substantiated
# isort: on

__all__ = ["feedback", "overdue", "repeat", "substantiated"]
