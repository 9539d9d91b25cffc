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

Why a cap on each token's requests in flight: the queue bound protects the writer, but a
single client opening hundreds of requests at once would still occupy the event loop and
the connection table for everyone; past ``max_requests_per_token`` it gets 429 at once.

Why every route is wrapped by ``_Service.logged``: an exception that escapes a handler would
otherwise reach the client as a bare 500 and the server's log only through uvicorn's own
logger. Wrapped, it is logged here with its traceback (``logger.exception``), counted in
``/metrics`` as a 500, and answered as JSON like every other error. Refused requests (4xx,
and 503 while broken) are the client's or the state's doing and are logged at DEBUG only.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from importlib import resources
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from engine.rules.rulebook import Rulebook, load_rulebook
from engine.service.auth import Principal, TokenTable, scope_error
from engine.service.centre.network import HallFacts, UnknownUnit, network_board
from engine.service.centre.trend import AlertTrend
from engine.service.centre.units import UnitTree
from engine.service.config import ServiceConfig
from engine.service.edge.guards import (
    BASE_HEADERS,
    EVENT_TYPES,
    JSON_TYPES,
    BadRequest,
    check_content_type,
    network_query,
    page_headers,
    query_datetime,
    query_int,
    read_body,
)
from engine.service.halls import PartitionedEngine
from engine.service.ingest import Batch, IngestError, decode_batch
from engine.service.metrics import (
    Metrics,
    render_calendar_metrics,
    render_quarantine_metrics,
    side_output_counts,
)
from engine.service.node.fanout import NodeDown, NodeRoutes, PeerRefused
from engine.service.node.handoff import split_by_owner
from engine.service.node.layout import NodeLayout
from engine.service.node.peers import LOCAL_HEADER, PeerReply
from engine.service.openapi import openapi_document
from engine.service.outcomes import Decision, Overloaded, Unavailable
from engine.service.store import AlertQuery, EventStore, QuarantineEntry, StoreReader
from engine.service.writer import IngestWriter

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

_ENC = msgspec.json.Encoder()
_MAX_PAGE = 5000
_SMALL_BODY = 1024


class _Known(msgspec.Struct, forbid_unknown_fields=True):
    """One item of ``POST /v1/events/known``: an event id and its hall (None: no hall)."""

    event_id: str
    hall_id: str | None = None


_KNOWN = msgspec.json.Decoder(list[_Known | str])


_Endpoint = Callable[[Request], Awaitable[Response]]


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_ENC.encode(data), status_code=status, media_type="application/json", headers=headers)


def _entry(e: QuarantineEntry) -> dict[str, Any]:
    return {
        "id": e.id, "hall": e.part, "event_id": e.event_id, "kind": e.kind, "seq": e.seq,
        "state": e.state, "error": e.error, "at": e.at, "decided_at": e.decided_at,
    }  # fmt: skip


class _Service:
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
        )
        self.retry = {"Retry-After": str(config.retry_after_s)}
        self.inflight: Counter[str] = Counter()
        html = resources.files("engine.service").joinpath("static/centre.html").read_text(encoding="utf-8")
        self.page_html = html
        self.page_headers = page_headers(html)

    def _fail(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        self.metrics.request(status)
        return _json({"error": message}, status, headers)

    def _fanned(self, request: Request) -> NodeRoutes | None:
        """The node's routes when this request is to be answered for the whole node, else None.

        A request from a peer (:data:`LOCAL_HEADER`) is answered for this process's halls only.
        """
        if self.nodes is None or LOCAL_HEADER in request.headers:
            return None
        return self.nodes

    def logged(self, endpoint: _Endpoint) -> _Endpoint:
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
            return _json({"error": "missing or unknown bearer token"}, 401, {"WWW-Authenticate": "Bearer"})
        return who

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
            return _json(exc.payload, exc.status)
        denied = []
        for i, event in enumerate(batch.events):
            reason = scope_error(who, event)
            if reason is not None:
                denied.append({"index": i, "field": "$.kind", "message": reason})
        if denied:
            self.metrics.request(403)
            return _json({"error": "events out of this token's scope", "errors": denied}, 403)
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
        return _json({"accepted": accepted, "duplicates": duplicates}, 202)

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
        return _json({"accepted": accepted, "duplicates": duplicates}, 202)

    async def parse_only(self, request: Request) -> Response:
        """The same stack up to (not including) the queue: the baseline of the ingest bench."""
        batch = await self._checked_events(request, parse=True)
        if isinstance(batch, Response):
            return batch
        return _json({"accepted": len(batch.events), "duplicates": 0}, 202)

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

    async def known(self, request: Request) -> Response:
        """Which of the given events the log holds. Items: ``{"event_id", "hall_id"}``.

        A bare string is an event id looked up in every hall (present in any: known); give
        the hall to ask about one hall's event, since halls number their events independently.
        """
        if (denied := self._reader_guard(request)) is not None:
            return denied
        check_content_type(request, JSON_TYPES)
        body = await read_body(request, self.config.max_body_bytes)
        try:
            items = _KNOWN.decode(body)
        except RecursionError:
            raise BadRequest(400, "JSON nested too deeply") from None
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise BadRequest(
                422, f"expected a JSON array of event ids or {{event_id, hall_id}} ({exc})"
            ) from None
        if (nodes := self._fanned(request)) is not None:
            return _json(await nodes.known(msgspec.to_builtins(items), request.headers.get("authorization")))
        keys = [(i.hall_id, i.event_id) if isinstance(i, _Known) else ("~*", i) for i in items]
        found = self.reader.has_events(keys)
        missing = [i for i, k in zip(items, keys, strict=True) if k not in found]
        out = [i if isinstance(i, str) else {"event_id": i.event_id, "hall_id": i.hall_id} for i in missing]
        return _json({"known": len(items) - len(missing), "missing": out})

    async def alerts(self, request: Request) -> Response:
        if (denied := self._reader_guard(request)) is not None:
            return denied
        p = request.query_params
        q = AlertQuery(
            cursor=query_int(request, "cursor", 0, 0),
            since=query_datetime(request, "since"),
            rule=p.get("rule"),
            level=p.get("level"),
            hall=p.get("hall"),
            department=p.get("department"),
            limit=query_int(request, "limit", 500, 1, _MAX_PAGE),
        )
        if (nodes := self._fanned(request)) is not None:
            try:
                page = await nodes.alerts(
                    list(p.multi_items()), q.cursor, q.limit, request.headers.get("authorization")
                )
            except ValueError as exc:
                raise BadRequest(422, f"query parameter `cursor`: {exc}") from None
            return Response(page, media_type="application/json")
        bodies, cursor, more = self.reader.alerts(q)
        tail = f',"next_cursor":{cursor},"more":{"true" if more else "false"}}}'.encode()
        payload = b'{"alerts":[' + b",".join(bodies) + b"]" + tail
        return Response(payload, media_type="application/json")

    async def network(self, request: Request) -> Response:
        if (denied := self._reader_guard(request)) is not None:
            return denied
        board = network_query(request)
        now = board.now
        facts: dict[str, HallFacts] | Any = self.writer.snapshot.halls
        trend = self.writer.trend
        if (nodes := self._fanned(request)) is not None:
            facts, trend = {}, AlertTrend(self.units)
            for part in await nodes.facts(request.headers.get("authorization")):
                facts.update({hall: HallFacts(**f) for hall, f in part["halls"].items()})
                trend.absorb(part["trend"])
        try:
            out = network_board(
                facts,
                trend,
                self.units,
                board.unit,
                now=now,
                tz_offset_s=self._tz_offset(now),
                silent_s=board.silent_minutes * 60.0,
                worst=board.worst,
            )
        except UnknownUnit:
            raise BadRequest(404, f"no hall under unit {board.unit[:80]!r}") from None
        return _json(out)

    async def board_facts(self, request: Request) -> Response:
        """This process's network-board facts and alert trend, for a node's board (one process's halls)."""
        if (denied := self._reader_guard(request)) is not None:
            return denied
        halls = {h: dataclasses.asdict(f) for h, f in self.writer.snapshot.halls.items()}
        return _json({"halls": halls, "trend": self.writer.trend.export()})

    async def partitions(self, request: Request) -> Response:
        """The node's partition map: which process owns which hall, and its own URL."""
        who = self._who(request)
        if isinstance(who, Response):
            self.metrics.request(401)
            return who
        assert self.node is not None
        return _json(self.node.map())

    def _tz_offset(self, now: float | None) -> float:
        """The calendar's UTC offset (seconds) at ``now``: the trend's days are local days."""
        at = datetime.fromtimestamp(now if now is not None else time.time(), self.calendar.tz)
        offset = at.utcoffset()
        return offset.total_seconds() if offset is not None else 0.0

    async def stats(self, request: Request) -> Response:
        if (denied := self._reader_guard(request)) is not None:
            return denied
        if (nodes := self._fanned(request)) is not None:
            return _json(await nodes.stats(request.headers.get("authorization")))
        snap = self.writer.snapshot
        m = self.metrics
        return _json(
            {
                "ready": self.writer.ready,
                "events_stored": snap.events_stored,
                "events_accepted": m.events_accepted,
                "events_duplicate": m.events_duplicate,
                "replayed_on_start": self.writer.replayed,
                "ingest_rate": round(m.ingest_rate(), 3),
                "queue_events": self.writer.pending,
                "queue_bound": self.config.queue_bound_events,
                "engine": snap.engine,
                "side_output": side_output_counts(snap.engine),
                "open_cases": snap.open_cases,
                "alerts_by_hall": snap.board,
                "open_by_hall": snap.open_board,
                "alerts_by_rule": dict(sorted(m.alerts_by_rule.items())),
                "calendar": self.calendar.coverage(),
                "quarantine": snap.quarantine,
            }
        )

    async def metrics_text(self, request: Request) -> Response:
        if (denied := self._guard(request, lambda who: who.can_scrape, "scrape /metrics")) is not None:
            return denied
        if (nodes := self._fanned(request)) is not None:
            text = await nodes.metrics(request.headers.get("authorization"))
            return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
        text = self.metrics.render(
            queue_depth=self.writer.pending,
            queue_bound=self.config.queue_bound_events,
            engine=self.writer.snapshot.engine,
        )
        text += render_calendar_metrics(self.calendar.coverage())
        text += render_quarantine_metrics(self.writer.snapshot.quarantine)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

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
        limit = query_int(request, "limit", 500, 1, _MAX_PAGE)
        if (nodes := self._fanned(request)) is not None:
            return _json(
                await nodes.quarantine(
                    list(request.query_params.multi_items()), request.headers.get("authorization")
                )
            )
        return _json({"entries": [_entry(e) for e in self.reader.quarantine(state, limit)]})

    async def decide(self, request: Request) -> Response:
        if (denied := self._admin_guard(request)) is not None:
            return denied
        await read_body(request, _SMALL_BODY)  # nothing expected; bounded like every body
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
        return _json(_entry(entry))

    async def healthz(self, request: Request) -> Response:
        return _json({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        if (nodes := self._fanned(request)) is not None:
            ready, body = await nodes.ready()
            return _json(body, 200 if ready else 503, None if ready else self.retry)
        if self.writer.broken is not None:
            return _json({"ready": False, "reason": self.writer.broken}, 503)
        if not self.writer.ready:
            return _json({"ready": False, "reason": "rebuilding state from the log"}, 503, self.retry)
        return _json({"ready": True})

    async def openapi(self, request: Request) -> Response:
        return _json(openapi_document(self.config.max_batch_events, _MAX_PAGE, node=self.node is not None))

    async def page(self, request: Request) -> Response:
        return HTMLResponse(self.page_html, headers=self.page_headers)


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
        try:
            yield
        finally:
            await svc.writer.stop()
            svc.reader.close()
            logger.info("service stopped")

    endpoints: list[tuple[str, _Endpoint, str]] = [
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
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.service = svc
    return app
