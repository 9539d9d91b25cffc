"""Events of another process's halls, found in a batch a process received, and where they go.

Why a hand-off at all: the node's public port is shared (``SO_REUSEPORT``), so a client that
does not hold the partition map reaches any process. The process that received the batch
keeps its own halls' events and forwards the others, already decoded and checked, to their
owner's own port; the client is answered once every part is acknowledged. A client that
holds the map (``GET /v1/partitions``) sends each hall to its owner and skips this hop.

A batch that spans processes is all-or-nothing per process, not across them: if one part
is refused (429, 503) the client gets that refusal and resends the batch; the parts already
stored are then counted as duplicates, as for any resend.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.contract import events as ev
from engine.service.halls import partition_of
from engine.service.node.layout import NodeLayout

__all__ = ["split_by_owner"]


def split_by_owner(
    layout: NodeLayout, events: Sequence[ev.Event], encoded: Sequence[bytes]
) -> tuple[list[ev.Event], list[bytes], dict[int, list[bytes]]]:
    """This process's events and their encodings, and the encodings of the others by owner."""
    own: list[ev.Event] = []
    own_bodies: list[bytes] = []
    foreign: dict[int, list[bytes]] = {}
    for event, body in zip(events, encoded, strict=True):
        owner = layout.owner(partition_of(event))
        if owner == layout.index:
            own.append(event)
            own_bodies.append(body)
        else:
            foreign.setdefault(owner, []).append(body)
    return own, own_bodies, foreign
