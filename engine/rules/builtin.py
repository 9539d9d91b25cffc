"""The shipped rules: importing this module registers every rule family, in run order.

Families register in the order imported here (approvals, collusion, discipline, complaints,
inspections, sources); within a
family, in the order its package imports its modules. The name tuples below are the shipped
rules, fixed at import; the live registry (:data:`engine.rules.registry.REGISTRY`) may hold
more (a user's or a test's rule).
"""

from __future__ import annotations

# Import order is registration order, which is run order: keep it explicit.
# isort: off
from engine.rules import approvals, collusion, discipline
from engine.rules import complaints
from engine.rules import inspections
from engine.rules import sources

# isort: on
from engine.rules.registry import REGISTRY

__all__ = [
    "COLLUSION_RULE_NAMES",
    "COMPLAINT_RULE_NAMES",
    "DISCIPLINE_RULE_NAMES",
    "FAMILIES",
    "INSPECTION_RULE_NAMES",
    "LOGIC_RULE_NAMES",
    "RULE_NAMES",
]

#: The family packages, in run order; their docstrings head their rules in the default rulebook.
FAMILIES = (approvals, collusion, discipline, complaints, inspections, sources)

RULE_NAMES: tuple[str, ...] = tuple(REGISTRY)
LOGIC_RULE_NAMES: tuple[str, ...] = tuple(n for n in RULE_NAMES if n.startswith("logic."))
COLLUSION_RULE_NAMES: tuple[str, ...] = tuple(n for n in RULE_NAMES if n.startswith("collusion."))
DISCIPLINE_RULE_NAMES: tuple[str, ...] = tuple(n for n in RULE_NAMES if n.startswith("discipline."))
COMPLAINT_RULE_NAMES: tuple[str, ...] = tuple(n for n in RULE_NAMES if n.startswith("complaint."))
INSPECTION_RULE_NAMES: tuple[str, ...] = tuple(n for n in RULE_NAMES if n.startswith("inspection."))
