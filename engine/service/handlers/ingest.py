"""The ingest routes: ``POST /v1/events`` and its bench baseline ``POST /v1/events/parse-only``.

Why the checks run in this order (token, scope of role, content type, declared length, queue
room, body, decode, scope of each event): each is cheaper than the next, so a request that is
refused is refused before the service reads or decodes its body. A batch is all-or-nothing,
and answered 202 only once durable. On a node (:mod:`engine.service.node`), a batch with
events of halls another process owns is split and handed to the owners
(:meth:`IngestRoutes._ingest_across`), unless it came from a peer: then it is answered 421.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from engine.service.auth import scope_error
from engine.service.edge.guards import EVENT_TYPES, check_content_type, read_body
from engine.service.handlers.state import ServiceState, json_response, logger
from engine.service.ingest import Batch, IngestError, decode_batch
from engine.service.node.fanout import NodeDown
from engine.service.node.handoff import split_by_owner
from engine.service.node.peers import PeerReply
from engine.service.outcomes import Overloaded, Unavailable

__all__ = ["IngestRoutes"]


class IngestRoutes(ServiceState):
    """The routes that take events in."""

    async def _checked_events(self, request: Request, parse: bool) -> Batch | Response:
        who = self._who(request)
        if isinstance(who, Response):
            self.metrics.request(401)
            return who
        if not who.can_post:
            return self._fail(403, f"role {who.role} may not post events")
        media = check_content_type(request, EVENT_TYPES)
        limit = self.config.max_body_bytes
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return self._fail(413, f"body exceeds {limit} bytes; split the batch")
        if not parse and self.writer.pending >= self.config.queue_bound_events:
            return self._fail(429, "ingest queue is full; retry later", self.retry)
        body = await read_body(request, limit)
        ndjson = media == "application/x-ndjson"
        try:
            batch = decode_batch(body, ndjson=ndjson, max_events=self.config.max_batch_events)
        except IngestError as exc:
            logger.debug("rejected a batch with %d: %s", exc.status, exc)
            self.metrics.request(exc.status)
            return json_response(exc.payload, exc.status)
        denied = []
        for i, event in enumerate(batch.events):
            if (refused := scope_error(who, event)) is not None:
                denied.append({"index": i, "field": refused[0], "message": refused[1]})
        if denied:
            self.metrics.request(403)
            return json_response({"error": "events out of this token's scope", "errors": denied}, 403)
        return batch

    async def ingest(self, request: Request) -> Response:
        t0 = time.perf_counter()
        batch = await self._checked_events(request, parse=False)
        if isinstance(batch, Response):
            return batch
        if self.node is not None:
            own, own_bodies, foreign = split_by_owner(self.node, batch.events, batch.encoded)
            if foreign:
                if self._fanned(request) is None:
                    owners = ", ".join(str(i) for i in sorted(foreign))
                    return self._fail(
                        421, f"events of halls owned by process(es) {owners}; see GET /v1/partitions"
                    )
                return await self._ingest_across(request, own, own_bodies, foreign, t0)
        try:
            accepted, duplicates = await self.writer.submit(batch.events, batch.encoded)
        except Overloaded:
            return self._fail(429, "ingest queue is full; retry later", self.retry)
        except Unavailable as exc:
            logger.debug("refused a batch with 503: %s", exc)
            return self._fail(503, str(exc), self.retry)
        self.metrics.request(202)
        self.metrics.ingest_served(time.perf_counter() - t0)
        return json_response({"accepted": accepted, "duplicates": duplicates}, 202)

    async def _ingest_across(
        self,
        request: Request,
        own: list[Any],
        own_bodies: list[bytes],
        foreign: dict[int, list[bytes]],
        t0: float,
    ) -> Response:
        """A batch spanning processes: own events to the writer, the others handed to their owners.

        Answered 202 once every part is acknowledged; otherwise the first refusal (see
        :mod:`engine.service.node.handoff` for why a resend is then safe).
        """
        assert self.nodes is not None
        auth = request.headers.get("authorization")
        parts: list[Awaitable[Any]] = [
            self.nodes.forward_events(i, b, auth) for i, b in sorted(foreign.items())
        ]
        if own:
            parts.append(self.writer.submit(own, own_bodies))
        results = await asyncio.gather(*parts, return_exceptions=True)
        accepted = duplicates = 0
        for result in results:
            if isinstance(result, Overloaded):
                return self._fail(429, "ingest queue is full; retry later", self.retry)
            if isinstance(result, Unavailable | NodeDown):
                return self._fail(503, str(result), self.retry)
            if isinstance(result, BaseException):
                raise result
            if isinstance(result, PeerReply):
                if result.status != 202:
                    self.metrics.request(result.status)
                    retry = (
                        {"Retry-After": result.headers["retry-after"]}
                        if "retry-after" in result.headers
                        else None
                    )
                    return Response(result.body, result.status, media_type="application/json", headers=retry)
                answer = msgspec.json.decode(result.body)
                accepted += answer["accepted"]
                duplicates += answer["duplicates"]
            else:
                accepted += result[0]
                duplicates += result[1]
        self.metrics.request(202)
        self.metrics.ingest_served(time.perf_counter() - t0)
        return json_response({"accepted": accepted, "duplicates": duplicates}, 202)

    async def parse_only(self, request: Request) -> Response:
        """The same stack up to (not including) the queue: the baseline of the ingest bench."""
        batch = await self._checked_events(request, parse=True)
        if isinstance(batch, Response):
            return batch
        return json_response({"accepted": len(batch.events), "duplicates": 0}, 202)
