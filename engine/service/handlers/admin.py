"""The admin routes: ``GET /v1/quarantine`` and ``POST /v1/quarantine/{id}/release|drop``.

Why admin only, and apart: these show and decide on the events the engine failed on
(:mod:`engine.service.isolation`): releasing one applies it now, dropping one leaves it out
for good. That is an operator's decision, not a supervisor's read, so it takes an admin
token and is kept away from the reading routes.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from engine.service.edge.guards import BadRequest, query_int, read_body
from engine.service.handlers.state import MAX_PAGE, SMALL_BODY, ServiceState, json_response
from engine.service.outcomes import Decision, Unavailable
from engine.service.store import QuarantineEntry

__all__ = ["AdminRoutes"]


def _entry(e: QuarantineEntry) -> dict[str, Any]:
    return {
        "id": e.id, "hall": e.part, "event_id": e.event_id, "kind": e.kind, "seq": e.seq,
        "state": e.state, "error": e.error, "at": e.at, "decided_at": e.decided_at,
    }  # fmt: skip


class AdminRoutes(ServiceState):
    """The routes that see and decide on quarantined events."""

    def _admin_guard(self, request: Request) -> Response | None:
        return self._guard(request, lambda who: who.is_admin, "see or decide on quarantined events")

    async def quarantine(self, request: Request) -> Response:
        if (denied := self._admin_guard(request)) is not None:
            return denied
        state = request.query_params.get("state")
        if state is not None and state not in ("held", "released", "dropped"):
            raise BadRequest(
                422, f"query parameter `state` must be held, released or dropped (got {state[:40]!r})"
            )
        limit = query_int(request, "limit", 500, 1, MAX_PAGE)
        if (nodes := self._fanned(request)) is not None:
            return json_response(
                await nodes.quarantine(
                    list(request.query_params.multi_items()), request.headers.get("authorization")
                )
            )
        return json_response({"entries": [_entry(e) for e in self.reader.quarantine(state, limit)]})

    async def decide(self, request: Request) -> Response:
        if (denied := self._admin_guard(request)) is not None:
            return denied
        await read_body(request, SMALL_BODY)  # nothing expected; bounded like every body
        raw, action = request.path_params["qid"], request.path_params["action"]
        if action not in ("release", "drop"):
            raise BadRequest(404, f"no such action {action[:40]!r}; use release or drop")
        if not raw.isdigit() or len(raw) > 18:
            raise BadRequest(404, f"no quarantined event {raw[:40]}")
        if (nodes := self._fanned(request)) is not None:
            reply = await nodes.decide(int(raw), action, request.headers.get("authorization"))
            self.metrics.request(reply.status)
            return Response(reply.body, reply.status, media_type="application/json")
        try:
            entry = await self.writer.decide(int(raw), action)
        except Decision as exc:
            return self._fail(exc.status, str(exc))
        except Unavailable as exc:
            return self._fail(503, str(exc), self.retry)
        return json_response(_entry(entry))
