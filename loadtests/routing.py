"""Where a source sends its events: straight to the process that owns its hall, when the node says.

Why: a node of several processes (``supsim serve --processes N``) answers any process's
halls on its public port by handing them over internally, one loopback request more per
batch. A client that fetches ``GET /v1/partitions`` once can send each hall to its owner's
own port instead, as a partition-aware client would in production. A deployment without
that route (one process, the cluster) answers 404 and every source keeps the public URL.

``SUPSIM_NODE_ROUTING=public`` keeps the public URL even on a node: the hand-off's cost is
measured that way.
"""

from __future__ import annotations

import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping
from typing import Any

import msgspec

__all__ = ["fetch_partitions", "owner_url"]


def fetch_partitions(host: str, token: str, timeout: float = 5.0) -> dict[str, Any] | None:
    """The node's partition map, or None when the deployment has none (404)."""
    req = urllib.request.Request(
        host.rstrip("/") + "/v1/partitions", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            out: dict[str, Any] = msgspec.json.decode(resp.read())
            return out
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def owner_url(partitions: Mapping[str, Any] | None, hall: str | None) -> str | None:
    """The base URL of the process owning ``hall`` (``crc32 mod N``); None: use the public URL.

    A source without a hall may send tendering and global events, which two partitions own:
    it stays on the public URL and the node hands its events over.
    """
    if partitions is None or not hall:
        return None
    owners = partitions["owners"]
    url: str = owners[zlib.crc32(hall.encode("utf-8")) % int(partitions["processes"])]["url"]
    return url
