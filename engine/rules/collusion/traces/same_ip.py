"""``collusion.same_ip``: the same upload IP, a weak signal (warning only, never debarment).

The family's module docstring (``__init__``) says why the rule looks the way it does.
"""

from __future__ import annotations

from engine.rules.collusion.traces.bases import TraceRule
from engine.rules.registry import register

__all__ = ["SameIpRule"]


@register
class SameIpRule(TraceRule):
    name = "collusion.same_ip"
    level = "warning"
    CLAUSES = (("same upload ip", ("ip",)),)
