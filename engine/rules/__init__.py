"""The rule registry: rule names → classes, and building the rules a rulebook enables.

The registry is the one list of rules; the rulebook validates ``rules.enabled`` against it
and :func:`build_rules` configures each enabled class from its rulebook section, field by
field, because every keyword-only parameter of a rule is named after a field of its section.
Rules are built in registry order so that, when several rules look at the same event, they
run (and raise their alerts) in the same order on every run.
"""

from __future__ import annotations

from engine.rules.base import Rule, RuleContext
from engine.rules.registry import (
    COLLUSION_RULE_NAMES,
    DISCIPLINE_RULE_NAMES,
    LOGIC_RULE_NAMES,
    REGISTRY,
    RULE_NAMES,
    rule_class,
)
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
    "rule_class",
]
