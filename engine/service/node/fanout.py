"""The routes that answer for the whole node: each asks every process (itself included) and merges.

Why every process, over loopback, rather than a shared database: each process owns its
halls' log and engines outright (no lock, no shared file between writers); a whole-node
read is rare next to ingest (a console polls every few seconds), so paying one loopback
request per process for it keeps the write path free of any sharing. The receiving
process has already checked the token; each peer checks it again (it is forwarded).

A peer that does not answer makes the whole-node answer 503 naming it: a partial
``/v1/stats`` or alert page would look complete to a client.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Sequence
from typing import Any

import msgspec

from engine.service.node.layout import NodeLayout
from engine.service.node.merge import (
    CursorError,
    merge_metrics,
    merge_stats,
    pack_cursor,
    split_limit,
    unpack_cursor,
)
from engine.service.node.peers import PeerError, PeerReply, call

__all__ = ["NodeDown", "NodeRoutes", "PeerRefused"]


class NodeDown(Exception):
    """A process of the node did not answer: the whole-node answer is 503."""


class PeerRefused(Exception):
    """A process answered other than 200 (a token, a bad query): that answer is passed on."""

    def __init__(self, reply: PeerReply) -> None:
        super().__init__(f"peer answered {reply.status}")
        self.reply = reply


class _Page(msgspec.Struct):
    alerts: list[msgspec.Raw]
    next_cursor: int
    more: bool


_PAGE = msgspec.json.Decoder(_Page)
_ENC = msgspec.json.Encoder()


class NodeRoutes:
    def __init__(self, layout: NodeLayout, timeout_s: float = 30.0) -> None:
        self.layout = layout
        self.timeout_s = timeout_s

    async def _ask(
        self, index: int, method: str, target: str, auth: str | None, body: bytes = b"", *, ok: bool = True
    ) -> PeerReply:
        headers = {"Authorization": auth} if auth is not None else {}
        if body:
            headers["Content-Type"] = "application/json"
        port = self.layout.peer_port(index)
        try:
            reply = await call(self.layout.host, port, method, target, headers=headers, body=body,
                               timeout=self.timeout_s)  # fmt: skip
        except PeerError as exc:
            raise NodeDown(f"process {index} of the node is unavailable ({exc})") from None
        if ok and reply.status != 200:
            raise PeerRefused(reply)
        return reply

    async def _all(self, target: str, auth: str | None) -> list[PeerReply]:
        n = self.layout.processes
        return list(await asyncio.gather(*(self._ask(i, "GET", target, auth) for i in range(n))))

    async def stats(self, auth: str | None) -> dict[str, Any]:
        replies = await self._all("/v1/stats", auth)
        return merge_stats([msgspec.json.decode(r.body) for r in replies])

    async def metrics(self, auth: str | None) -> str:
        replies = await self._all("/metrics", auth)
        return merge_metrics([r.body.decode("utf-8") for r in replies])

    async def alerts(
        self, query: Sequence[tuple[str, str]], cursor: int, limit: int, auth: str | None
    ) -> bytes:
        """One node page: each process's next alerts (``limit`` shared), under a packed cursor."""
        n = self.layout.processes
        try:
            positions = unpack_cursor(cursor, n)
        except CursorError as exc:
            raise ValueError(str(exc)) from None
        rest = [(k, v) for k, v in query if k not in ("cursor", "limit")]
        targets = [
            "/v1/alerts?" + urllib.parse.urlencode([*rest, ("cursor", str(pos)), ("limit", str(lim))])
            for pos, lim in zip(positions, split_limit(limit, n), strict=True)
        ]
        replies = await asyncio.gather(*(self._ask(i, "GET", t, auth) for i, t in enumerate(targets)))
        pages = [_PAGE.decode(r.body) for r in replies]
        bodies = [bytes(a) for p in pages for a in p.alerts]
        next_cursor = pack_cursor([p.next_cursor for p in pages])
        more = any(p.more for p in pages)
        tail = f',"next_cursor":{next_cursor},"more":{"true" if more else "false"}}}'.encode()
        return b'{"alerts":[' + b",".join(bodies) + b"]" + tail

    async def known(self, items: Sequence[str | dict[str, Any]], auth: str | None) -> dict[str, Any]:
        """Which events the node holds: an item with a hall asks its owner, any other every process."""
        n = self.layout.processes
        asked: list[list[int]] = [[] for _ in range(n)]  # process → indices of the items it is asked
        for k, item in enumerate(items):
            hall = item.get("hall_id") if isinstance(item, dict) else None
            owners = [self.layout.owner(hall)] if hall else range(n)
            for i in owners:
                asked[i].append(k)
        missing_at: list[int] = [0] * len(items)  # how many of the asked processes miss it
        replies = await asyncio.gather(
            *(
                self._ask(i, "POST", "/v1/events/known", auth, _ENC.encode([items[k] for k in ks]))
                for i, ks in enumerate(asked)
                if ks
            )
        )
        for ks, reply in zip([ks for ks in asked if ks], replies, strict=True):
            gone = {_ENC.encode(m) for m in msgspec.json.decode(reply.body)["missing"]}
            for k in ks:
                if _ENC.encode(items[k]) in gone:
                    missing_at[k] += 1
        wanted = [1 if isinstance(it, dict) and it.get("hall_id") else n for it in items]
        missing = [it for it, m, w in zip(items, missing_at, wanted, strict=True) if m == w]
        return {"known": len(items) - len(missing), "missing": missing}

    async def ready(self) -> tuple[bool, dict[str, Any]]:
        """Ready when every process is; otherwise which are not, and why."""

        async def one(i: int) -> dict[str, Any]:
            try:
                reply = await self._ask(i, "GET", "/readyz", None, ok=False)
            except NodeDown as exc:
                return {"ready": False, "reason": str(exc)}
            out: dict[str, Any] = msgspec.json.decode(reply.body)
            return out

        answers = await asyncio.gather(*(one(i) for i in range(self.layout.processes)))
        ready = all(a.get("ready") for a in answers)
        body: dict[str, Any] = {"ready": ready, "processes": len(answers)}
        if not ready:
            body["reason"] = "; ".join(
                f"process {i}: {a.get('reason', 'not ready')}"
                for i, a in enumerate(answers)
                if not a.get("ready")
            )
        return ready, body

    async def quarantine(self, query: Sequence[tuple[str, str]], auth: str | None) -> dict[str, Any]:
        """Every process's entries, ids made node-wide (``local × N + process``), oldest first each."""
        target = "/v1/quarantine?" + urllib.parse.urlencode(list(query))
        replies = await self._all(target, auth)
        n = self.layout.processes
        entries = []
        for i, reply in enumerate(replies):
            for e in msgspec.json.decode(reply.body)["entries"]:
                e["id"] = e["id"] * n + i
                entries.append(e)
        entries.sort(key=lambda e: (e["at"], e["id"]))
        return {"entries": entries}

    async def decide(self, qid: int, action: str, auth: str | None) -> PeerReply:
        """Release or drop node-wide entry ``qid`` at the process that holds it (its answer passed on)."""
        n = self.layout.processes
        index, local = qid % n, qid // n
        reply = await self._ask(index, "POST", f"/v1/quarantine/{local}/{action}", auth, ok=False)
        if reply.status == 200:
            entry = msgspec.json.decode(reply.body)
            entry["id"] = entry["id"] * n + index
            return PeerReply(200, reply.headers, _ENC.encode(entry))
        return reply

    async def facts(self, auth: str | None) -> list[dict[str, Any]]:
        """Each process's network-board facts (``GET /v1/board/facts``), for the node's board."""
        return [msgspec.json.decode(r.body) for r in await self._all("/v1/board/facts", auth)]

    async def forward_events(self, index: int, bodies: Sequence[bytes], auth: str | None) -> PeerReply:
        """Hand events owned by process ``index`` to it (one JSON array); its answer, whatever it is."""
        return await self._ask(index, "POST", "/v1/events", auth, b"[" + b",".join(bodies) + b"]", ok=False)
