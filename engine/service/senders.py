"""The sending system of each event, and the senders each hall has: the service's event-time sources.

Why: a hall may have several systems posting to the service (its window terminals, its
cameras, its complaints platform), each with its own token. Each posts its records in its
own order, but nothing orders one system's posts against another's, so with one watermark
per hall a system running ahead makes the other's records late and the alerts depend on
how the two feeds happened to interleave. The hall's engine therefore keeps one clock per
sender (:meth:`engine.core.Engine._sender_clocks`) when the hall has more than one.

A sender is named from the event alone, ``<hall>/<role>``, by the role whose token may post
it (:func:`engine.service.auth.scope_error`): approval records come only from window
terminals, ``camera.*`` only from cameras, complaints and inspections only from the
complaints platform. Naming it from the event rather than from the request keeps the log's
replay (a restart, a quarantine decision) identical to the live run without storing the
token. A hall's heartbeat may be posted by its terminals or its platform: it counts as the
terminals' (the harness sends it so), and a platform's heartbeat could then be late.

A hall's senders are the roles of the tokens scoped to it: every one of them holds the
hall's release from its first record on, so a token for a system that never posts holds
that hall's alerts back (give such a system no token, or have it send heartbeats).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from engine.contract import events as ev
from engine.service.auth import _CAMERA, _COMPLAINTS_ONLY, _HALL_ROLES, TokenSpec

__all__ = ["hall_senders", "sender_of"]


def sender_of(event: ev.Event) -> str:
    """``<hall>/<role>`` of the system that may post ``event`` (``window`` for the rest of a hall's)."""
    hall = getattr(event, "hall_id", None)
    if isinstance(event, _CAMERA):
        return f"{hall}/camera"
    if isinstance(event, _COMPLAINTS_ONLY):
        return f"{hall}/complaints"
    return f"{hall}/window"


def hall_senders(tokens: Iterable[TokenSpec]) -> Mapping[str, tuple[str, ...]]:
    """Hall → its senders (``<hall>/<role>``, sorted), from the tokens scoped to it."""
    roles: dict[str, set[str]] = {}
    for spec in tokens:
        if spec.role in _HALL_ROLES and spec.hall:
            roles.setdefault(spec.hall, set()).add(f"{spec.hall}/{spec.role}")
    return {hall: tuple(sorted(names)) for hall, names in sorted(roles.items())}
