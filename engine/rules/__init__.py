"""Rules: the base class, the registry, the shipped families and the rulebook that configures them.

A rule is one class in one file under its family (``approvals/``, ``collusion/``,
``discipline/``, ``complaints/``, ``inspections/``), registered by the ``@register`` line above it;
its thresholds are its keyword-only ``__init__`` parameters, whose annotations carry their bounds
and descriptions.
The rulebook's sections and the shipped default YAML are derived from those signatures.
"""

from __future__ import annotations

from engine.rules.base import Rule, RuleContext
from engine.rules.builtin import COLLUSION_RULE_NAMES, DISCIPLINE_RULE_NAMES, LOGIC_RULE_NAMES, RULE_NAMES
from engine.rules.registry import REGISTRY, register, rule_class, unregister
from engine.rules.rulebook import build_rules

__all__ = [
    "COLLUSION_RULE_NAMES",
    "DISCIPLINE_RULE_NAMES",
    "LOGIC_RULE_NAMES",
    "REGISTRY",
    "RULE_NAMES",
    "Rule",
    "RuleContext",
    "build_rules",
    "register",
    "rule_class",
    "unregister",
]
