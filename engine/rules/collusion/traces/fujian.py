"""``collusion.fujian``: Fujian 2018, MAC, CPU and disk serial all identical, or one dongle serial.

The family's module docstring (``__init__``) says why the rule looks the way it does.
"""

from __future__ import annotations

from engine.rules.collusion.traces.bases import TraceRule
from engine.rules.registry import register

__all__ = ["FujianRule"]


@register
class FujianRule(TraceRule):
    name = "collusion.fujian"
    CLAUSES = (
        ("fujian mac+cpu+disk", ("mac", "cpu_serial", "disk_serial")),
        ("fujian dongle", ("dongle_serial",)),
        ("fujian document hardware record", ("file_creation_id",)),
    )
