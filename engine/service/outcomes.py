"""What the writer answers: the refusals a request may get, and the snapshot readers see.

Kept apart from the writer's loop (:mod:`engine.service.writer`) so that the routes depend on
the writer's interface, not on how it commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.service.centre.network import HallFacts

__all__ = ["Decision", "Overloaded", "Snapshot", "Unavailable"]


class Overloaded(Exception):
    """The queue is over its bound: answer 429."""


class Unavailable(Exception):
    """Not ready yet (rebuilding from the log) or broken: answer 503."""


class Decision(Exception):
    """A quarantine decision that cannot be made: ``status`` 404 (no such entry) or 409 (decided)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class Snapshot:
    """What readers may see, replaced (never mutated) by the writer after each commit."""

    engine: dict[str, int] = field(default_factory=dict)
    open_cases: dict[str, int] = field(default_factory=dict)
    board: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    open_board: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    events_stored: int = 0
    quarantine: dict[str, dict[str, int]] = field(default_factory=dict)
    halls: dict[str, HallFacts] = field(default_factory=dict)  # hall → the network board's facts
