"""The reference supervision engine: event contract, calendar, rules, runtime, scoring.

The engine consumes events and raises alerts; it never imports the simulator and never
sees what really happened, which keeps accuracy figures honest.
"""

from __future__ import annotations

__all__: list[str] = []
