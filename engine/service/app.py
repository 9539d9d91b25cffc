"""The live deployment: the engine behind an ASGI service (Starlette on uvicorn).

Why Starlette and msgspec on the hot path: ingest is decode → check → queue → commit, and
per-request framework overhead is what caps a single process. A validation framework
(FastAPI/pydantic) costs about three times the CPU per request for the same work, so the
contract's msgspec decoder is used directly and nothing else parses events.

Routes (see ``docs/deployment.md`` and ``GET /openapi.json``):

* ``POST /v1/events`` — a JSON array (or NDJSON with ``Content-Type: application/x-ndjson``)
  of contract events. 202 ``{"accepted", "duplicates"}`` once the batch is durable; a batch
  is all-or-nothing. 400 malformed JSON, 422 invalid events (index and field of each),
  401/403 token and scope, 413 body or batch too large, 429 + ``Retry-After`` queue full,
  503 + ``Retry-After`` not ready.
* ``POST /v1/events/known`` — which of the given (hall, event id) are in the log (loss checks).
* ``GET /v1/board/network?unit=`` — the centre's network board of one unit (its children,
  levels, worst halls, alert trend and silent sources; :mod:`engine.service.centre`).
* ``GET /v1/alerts``, ``GET /v1/stats``, ``GET /metrics`` (a scrape token), ``GET /healthz``,
  ``GET /readyz``, ``GET /openapi.json``, ``GET /`` (the supervision-centre page).
* ``GET /v1/quarantine``, ``POST /v1/quarantine/{id}/release|drop`` — events the engine
  failed on (:mod:`engine.service.isolation`); admin only.

Where the routes live (each module says why it is apart): :mod:`engine.service.handlers.ingest`,
:mod:`~engine.service.handlers.readers`, :mod:`~engine.service.handlers.admin` and
:mod:`~engine.service.handlers.health`, over the state, token guards and ``logged`` wrapper
they share (:mod:`~engine.service.handlers.state`). This module puts them together in one
``_Service`` per app and routes to them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engine.service.centre.units import UnitTree
from engine.service.config import ServiceConfig
from engine.service.edge.guards import BASE_HEADERS
from engine.service.handlers.admin import AdminRoutes
from engine.service.handlers.health import HealthRoutes
from engine.service.handlers.ingest import IngestRoutes
from engine.service.handlers.readers import ReaderRoutes
from engine.service.handlers.state import Endpoint, json_response, logger
from engine.service.node.layout import NodeLayout

__all__ = ["create_app"]


class _Service(IngestRoutes, ReaderRoutes, AdminRoutes, HealthRoutes):
    """State shared by the routes of one app (one process, one store, one writer), and the routes."""


def create_app(
    config: ServiceConfig,
    *,
    accept_log_loss: bool = False,
    units: UnitTree | None = None,
    node: NodeLayout | None = None,
) -> Starlette:
    """A Starlette app serving ``config``; the store opens and the engine rebuilds on startup.

    ``accept_log_loss`` is the operator's decision to go on with a log that holds less than
    was acknowledged (see :mod:`engine.service.integrity`); without it such a log keeps the
    service unready. ``units`` names the network's units and halls (``supsim serve --network``);
    without it the centre's network board reads the tree off the hall ids alone. ``node``
    makes this app one process of a node (:mod:`engine.service.node`): ``config.db`` is then
    its own log, and whole-node routes ask the other processes.
    """
    svc = _Service(config, accept_log_loss=accept_log_loss, units=units, node=node)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        logger.info("service starting: log %s, %d token(s)", config.db, len(config.tokens))
        await svc.writer.start()
        svc.loop_lag.start()
        try:
            yield
        finally:
            await svc.loop_lag.stop()
            await svc.writer.stop()
            svc.reader.close()
            logger.info("service stopped")

    endpoints: list[tuple[str, Endpoint, str]] = [
        ("/v1/events", svc.ingest, "POST"),
        ("/v1/events/known", svc.known, "POST"),
        ("/v1/alerts", svc.alerts, "GET"),
        ("/v1/board/network", svc.network, "GET"),
        ("/v1/stats", svc.stats, "GET"),
        ("/metrics", svc.metrics_text, "GET"),
        ("/healthz", svc.healthz, "GET"),
        ("/readyz", svc.readyz, "GET"),
        ("/openapi.json", svc.openapi, "GET"),
        ("/", svc.page, "GET"),
        ("/v1/quarantine", svc.quarantine, "GET"),
        ("/v1/quarantine/{qid}/{action}", svc.decide, "POST"),
    ]
    if node is not None:
        endpoints.append(("/v1/partitions", svc.partitions, "GET"))
        endpoints.append(("/v1/board/facts", svc.board_facts, "GET"))
    if config.parse_only_route:
        endpoints.append(("/v1/events/parse-only", svc.parse_only, "POST"))
    routes = [Route(path, svc.logged(fn), methods=[method]) for path, fn, method in endpoints]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: _http_error})
    app.router.redirect_slashes = False  # its redirect took the Location's host from the Host header
    app.state.service = svc
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 and 405 as JSON with the headers every answer carries (they were plain text)."""
    assert isinstance(exc, HTTPException)
    return json_response({"error": exc.detail}, exc.status_code, {**BASE_HEADERS, **(exc.headers or {})})
