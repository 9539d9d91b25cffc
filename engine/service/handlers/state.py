"""What every route of one app shares: its store, writer and metrics, the token guards, the wrapper.

Why a cap on each token's requests in flight: the queue bound protects the writer, but a
single client opening hundreds of requests at once would still occupy the event loop and
the connection table for everyone; past ``max_requests_per_token`` it gets 429 at once.

Why every route is wrapped by :meth:`ServiceState.logged`: an exception that escapes a handler
would otherwise reach the client as a bare 500 and the server's log only through uvicorn's own
logger. Wrapped, it is logged here with its traceback (``logger.exception``), counted in
``/metrics`` as a 500, and answered as JSON like every other error. Refused requests (4xx,
and 503 while broken) are the client's or the state's doing and are logged at DEBUG only.

Why the logger keeps the name ``engine.service.app``: it is the name operators filter the
service's request log by, and it stayed the same when the handlers left that module.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from engine.rules.rulebook import Rulebook, load_rulebook
from engine.service.auth import Principal, TokenTable
from engine.service.centre.page import centre_page
from engine.service.centre.units import UnitTree
from engine.service.config import ServiceConfig
from engine.service.edge.guards import BASE_HEADERS, BadRequest
from engine.service.halls import PartitionedEngine
from engine.service.metrics import Metrics
from engine.service.node.fanout import NodeDown, NodeRoutes, PeerRefused
from engine.service.node.layout import NodeLayout
from engine.service.node.peers import LOCAL_HEADER
from engine.service.store import EventStore, StoreReader
from engine.service.upkeep.loop_lag import LoopLag
from engine.service.writer import IngestWriter

__all__ = ["MAX_PAGE", "SMALL_BODY", "Endpoint", "ServiceState", "json_response", "logger"]

logger = logging.getLogger("engine.service.app")

_ENC = msgspec.json.Encoder()
#: The largest page of alerts or quarantine entries one request may ask for.
MAX_PAGE = 5000
#: The body bound of requests that expect none (a quarantine decision).
SMALL_BODY = 1024

Endpoint = Callable[[Request], Awaitable[Response]]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_ENC.encode(data), status_code=status, media_type="application/json", headers=headers)


class ServiceState:
    """State shared by the routes of one app (one process, one store, one writer)."""

    def __init__(
        self,
        config: ServiceConfig,
        *,
        accept_log_loss: bool = False,
        units: UnitTree | None = None,
        node: NodeLayout | None = None,
    ) -> None:
        self.config = config
        self.node = node
        self.nodes = NodeRoutes(node) if node is not None else None
        self.units = units if units is not None else UnitTree()
        self.tokens = TokenTable(config.tokens)
        book = load_rulebook(config.rulebook) if config.rulebook else Rulebook.default()
        self.calendar = book.build_calendar(config.calendar.override())
        self.metrics = Metrics()
        self.loop_lag = LoopLag()
        self.store = EventStore(config.db)
        self.reader: StoreReader = self.store.reader()
        self.writer = IngestWriter(
            self.store,
            PartitionedEngine(book, calendar=self.calendar),
            self.metrics,
            bound=config.queue_bound_events,
            group_max=config.group_max_events,
            retry_s=config.retry_after_s,
            accept_loss=accept_log_loss,
            units=self.units,
            tidy_idle_s=config.heap_tidy_idle_s,
        )
        self.retry = {"Retry-After": str(config.retry_after_s)}
        self.inflight: Counter[str] = Counter()
        self.page_html, self.page_headers = centre_page()

    def _fail(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        self.metrics.request(status)
        return json_response({"error": message}, status, headers)

    def _fanned(self, request: Request) -> NodeRoutes | None:
        """The node's routes when this request is to be answered for the whole node, else None.

        A request from a peer (:data:`LOCAL_HEADER`) is answered for this process's halls only.
        """
        if self.nodes is None or LOCAL_HEADER in request.headers:
            return None
        return self.nodes

    def logged(self, endpoint: Endpoint) -> Endpoint:
        """``endpoint`` with the per-token cap, refusals answered, escaping exceptions logged.

        Any exception is logged with its traceback and answered 500; a :class:`BadRequest`
        is the client's doing and answered with its status. Every answer carries the
        base security headers.
        """
        cap = self.config.max_requests_per_token
        inflight = self.inflight

        async def guarded(request: Request) -> Response:
            key = request.headers.get("authorization")
            if key is not None:
                if inflight[key] >= cap:
                    response = self._fail(
                        429, f"more than {cap} requests of this token in flight", self.retry
                    )
                    response.headers.update(BASE_HEADERS)
                    return response
                inflight[key] += 1
            try:
                response = await endpoint(request)
            except BadRequest as exc:
                response = self._fail(exc.status, str(exc))
            except NodeDown as exc:
                logger.warning("%s %s: %s", request.method, request.url.path, exc)
                response = self._fail(503, str(exc), self.retry)
            except ClientDisconnect:  # a client that left mid-body (or a flaky network): not our error
                logger.info("%s %s: the client left before its body came", request.method, request.url.path)
                response = self._fail(400, "the request body did not arrive whole")
            except PeerRefused as exc:  # a peer's refusal (token, query) is the answer
                self.metrics.request(exc.reply.status)
                response = Response(exc.reply.body, exc.reply.status, media_type="application/json")
            except Exception:
                logger.exception("%s %s failed", request.method, request.url.path)
                response = self._fail(500, "internal error; the service log has the details")
            finally:
                if key is not None:
                    inflight[key] -= 1
                    if not inflight[key]:
                        del inflight[key]
            for name, value in BASE_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return guarded

    def _who(self, request: Request) -> Principal | Response:
        who = self.tokens.lookup(request.headers.get("authorization"))
        if who is None:
            return json_response(
                {"error": "missing or unknown bearer token"}, 401, {"WWW-Authenticate": "Bearer"}
            )
        return who

    def _guard(self, request: Request, allowed: Callable[[Principal], bool], what: str) -> Response | None:
        who = self._who(request)
        if isinstance(who, Response):
            self.metrics.request(401)
            return who
        if not allowed(who):
            return self._fail(403, f"role {who.role} may not {what}")
        return None

    def _reader_guard(self, request: Request) -> Response | None:
        return self._guard(request, lambda who: who.can_read, "read alerts or stats")
