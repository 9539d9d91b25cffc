"""The reference supervision engine: contract, runtime, rules, the assembled ``Engine``, service.

Rooms, lowest first: ``contract`` (events, alerts, calendar: shared with the simulator),
``runtime`` (event time and state), ``rules`` (families, registry, rulebook), ``core``
(:class:`engine.core.Engine`), ``vectorised`` (sweep column paths) and ``service`` (the live
deployment). The engine never imports the simulator and never sees what really happened,
which keeps accuracy figures honest.
"""

from __future__ import annotations

__all__: list[str] = []
