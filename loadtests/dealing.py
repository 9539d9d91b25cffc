"""Which Locust process, and which user in it, replays which source.

Why two levels: across processes the split must be fixed in advance (each process reads
the same plan and must take a disjoint share without talking to the others), so process
``w`` of ``workers`` takes the sources with ``index % workers == w``. Inside a process it
must not be: Locust deals users to workers round-robin over all user classes together, so
how many users of a role a process gets is known only once they have started. The sources
are therefore dealt to the users present when the replay starts — a user of the source's
role if there is one, else any — and none is left unsent whatever the distribution.

Kept apart from the locustfile so that it can be tested without importing Locust (whose
import patches the standard library for gevent).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

__all__ = ["deal", "share"]

S = TypeVar("S")


def share(sources: Sequence[S], worker_index: int, workers: int) -> list[S]:
    """The sources process ``worker_index`` of ``workers`` replays (every source exactly once)."""
    workers = max(workers, 1)
    return [s for i, s in enumerate(sources) if i % workers == worker_index]


def deal(sources: Sequence[Any], users: Sequence[Any]) -> dict[int, list[Any]]:
    """Sources → users (keyed by ``id``): round-robin over the users of the source's role, else all.

    A source has a ``role``; so has a user. Without users nothing is dealt.
    """
    out: dict[int, list[Any]] = {id(u): [] for u in users}
    turn: dict[str, int] = {}
    for src in sources:
        pool = [u for u in users if u.role == src.role] or list(users)
        if not pool:
            continue
        k = turn.get(src.role, 0)
        turn[src.role] = k + 1
        out[id(pool[k % len(pool)])].append(src)
    return out
