"""The routes anyone may call: ``/healthz``, ``/readyz``, ``/openapi.json`` and the centre page ``/``.

Why no token: probes (a load balancer, an orchestrator) and a browser opening the page hold
none, and none of these answers says anything about events or alerts. Why ``/healthz`` and
``/readyz`` differ: the process is alive (healthz) long before it may take events (readyz),
which waits for the engine to be rebuilt from the log and says 503 with the reason while it
is rebuilding or when the log cannot be used.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from engine.service.handlers.state import MAX_PAGE, ServiceState, json_response
from engine.service.openapi import openapi_document

__all__ = ["HealthRoutes"]


class HealthRoutes(ServiceState):
    """Liveness, readiness, the API's own description and the supervision-centre page."""

    async def healthz(self, request: Request) -> Response:
        return json_response({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        if (nodes := self._fanned(request)) is not None:
            ready, body = await nodes.ready()
            return json_response(body, 200 if ready else 503, None if ready else self.retry)
        if self.writer.broken is not None:
            return json_response({"ready": False, "reason": self.writer.broken}, 503)
        if not self.writer.ready:
            return json_response({"ready": False, "reason": "rebuilding state from the log"}, 503, self.retry)
        return json_response({"ready": True})

    async def openapi(self, request: Request) -> Response:
        return json_response(
            openapi_document(self.config.max_batch_events, MAX_PAGE, node=self.node is not None)
        )

    async def page(self, request: Request) -> Response:
        return HTMLResponse(self.page_html, headers=self.page_headers)
