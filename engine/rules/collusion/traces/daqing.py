"""``collusion.daqing``: Daqing 2021, any one identical machine code, file id or dongle serial.

The family's module docstring (``__init__``) says why the rule looks the way it does.
"""

from __future__ import annotations

from engine.rules.collusion.traces.bases import TraceRule
from engine.rules.registry import register

__all__ = ["DaqingRule"]


@register
class DaqingRule(TraceRule):
    name = "collusion.daqing"
    CLAUSES = (
        ("daqing mac", ("mac",)),
        ("daqing cpu", ("cpu_serial",)),
        ("daqing disk", ("disk_serial",)),
        ("daqing file-creation id", ("file_creation_id",)),
        ("daqing dongle", ("dongle_serial",)),
    )
