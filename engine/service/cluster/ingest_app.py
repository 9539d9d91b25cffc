"""The stateless ingest process: the ``supsim serve`` API, acknowledged by a replicated JetStream stream.

``POST /v1/events`` takes the same bodies, tokens and scopes as ``supsim serve`` (the same
decoder, :func:`engine.service.ingest.decode_body`, the same token table and
:func:`engine.service.auth.scope_error`) and answers the same codes. What differs is when
202 is sent: after JetStream has acknowledged *every* event of the batch on the ``EVENTS``
stream, which it does once a majority of the stream's replicas (2 of 3) hold it. If any
event of the batch is not acknowledged in time (a server died, a leader election is under
way) the answer is 503 with ``Retry-After``; the client resends the whole batch and the
events that did reach the stream are dropped as duplicates by their message id.

A process keeps no state of its own, so any number can run behind one port
(``SO_REUSEPORT``: the kernel spreads connections over them) and any of them can die.

The centre page (``GET /``, the same file as ``supsim serve``'s) and the read routes
(``GET /v1/alerts``, ``GET /v1/stats``, ``POST /v1/events/known``,
``GET /v1/board/network``) are served from the process's view of the streams
(:mod:`engine.service.cluster.view`); the network board merges the halls' facts the workers
publish to the STATUS bucket (:mod:`engine.service.cluster.facts`) with the alert trend of
the view, and lists the workers that lag.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator
from datetime import datetime, tzinfo
from typing import Any

import msgspec
from nats.aio.client import Client
from nats.js import JetStreamContext
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from engine.contract import events as ev
from engine.rules.rulebook import Rulebook, load_rulebook
from engine.service.auth import Principal, TokenTable, load_tokens, scope_error
from engine.service.centre.network import UnknownUnit, network_board
from engine.service.centre.page import centre_page
from engine.service.cluster.facts import FactsView
from engine.service.cluster.jetstream import connect
from engine.service.cluster.layout import (
    ALERTS_STREAM,
    EVENTS_STREAM,
    STATUS_BUCKET,
    ClusterConfig,
    event_subject,
    msg_id,
    partition_of_key,
)
from engine.service.cluster.view import AlertFilter, AlertsView, EventIndex
from engine.service.edge.guards import BadRequest, network_query
from engine.service.halls import partition_of
from engine.service.ingest import IngestError, decode_body

__all__ = ["create_ingest_app"]

logger = logging.getLogger(__name__)

_ENC = msgspec.json.Encoder()
_IDS = msgspec.json.Decoder(list[str])
_MAX_PAGE = 5000


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_ENC.encode(data), status_code=status, media_type="application/json", headers=headers)


def _offset(tz: tzinfo, now: float | None) -> float:
    """UTC offset (seconds) of ``tz`` at ``now`` (the wall clock when None)."""
    delta = datetime.fromtimestamp(now if now is not None else time.time(), tz).utcoffset()
    return delta.total_seconds() if delta is not None else 0.0


class _Ingest:
    def __init__(self, config: ClusterConfig, index: int) -> None:
        self.config = config
        self.index = index
        self.tokens = TokenTable(load_tokens(config.tokens))
        self.nc: Client | None = None
        self.js: JetStreamContext | None = None
        self.view: AlertsView | None = None
        self.facts = FactsView(None, workers=config.workers, partitions=config.partitions)
        self.index_: EventIndex | None = None
        self.counts: dict[str, int] = {"accepted": 0, "duplicates": 0, "unavailable": 0, "batches": 0}
        self.retry = {"Retry-After": "1"}
        self._rate_at: tuple[float, int] | None = None  # (monotonic s, EVENTS last_seq) at the rate's start
        self._rate = 0.0
        self.in_flight: dict[str, asyncio.Future[Any]] = {}  # Nats-Msg-Id → its publish, until acknowledged
        book = load_rulebook(config.rulebook) if config.rulebook else Rulebook.default()
        self.tz = book.build_calendar().tz  # the network board's days are the halls' local days

    def _who(self, request: Request) -> Principal | None:
        return self.tokens.lookup(request.headers.get("authorization"))

    async def ingest(self, request: Request) -> Response:
        who = self._who(request)
        if who is None:
            return _json({"error": "missing or unknown bearer token"}, 401, {"WWW-Authenticate": "Bearer"})
        if not who.can_post:
            return _json({"error": f"role {who.role} may not post events"}, 403)
        limit = self.config.max_body_bytes
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return _json({"error": f"body exceeds {limit} bytes; split the batch"}, 413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return _json({"error": f"body exceeds {limit} bytes; split the batch"}, 413)
        ndjson = "ndjson" in request.headers.get("content-type", "")
        try:
            events = decode_body(bytes(body), ndjson=ndjson, max_events=self.config.max_batch_events)
        except IngestError as exc:
            return _json(exc.payload, exc.status)
        denied = [
            {"index": i, "field": "$.kind", "message": reason}
            for i, e in enumerate(events)
            if (reason := scope_error(who, e)) is not None
        ]
        if denied:
            return _json({"error": "events out of this token's scope", "errors": denied}, 403)
        if self.js is None or self.nc is None or not self.nc.is_connected:
            self.counts["unavailable"] += 1
            return _json({"error": "not connected to the event stream; retry"}, 503, self.retry)
        try:
            duplicates = await self._publish(events)
        except Exception as exc:
            self.counts["unavailable"] += 1
            logger.debug("a batch of %d events was not acknowledged: %s", len(events), exc)
            return _json({"error": f"the event stream did not acknowledge the batch ({exc!r}); retry"},
                         503, self.retry)  # fmt: skip
        self.counts["batches"] += 1
        self.counts["accepted"] += len(events) - duplicates
        self.counts["duplicates"] += duplicates
        return _json({"accepted": len(events) - duplicates, "duplicates": duplicates}, 202)

    async def _publish(self, events: list[ev.Event]) -> int:
        """Publish each event once; return the duplicates once all are acknowledged, else raise.

        Why an event already in flight is not published again: a replicated stream never
        answers a message whose ``Nats-Msg-Id`` matches one it has not committed yet, so a
        batch that holds the same event twice (a terminal resending it), or that races another
        batch holding it, would wait out ``ack_timeout_s`` every time. The repeat waits on the
        first publish's acknowledgement instead and counts as a duplicate.
        """
        assert self.js is not None
        parts = self.config.partitions
        futures: list[asyncio.Future[Any]] = []
        repeats = 0
        for e in events:
            key = partition_of(e)
            mid = msg_id("event", key, e.event_id)
            flying = self.in_flight.get(mid)
            if flying is not None:
                repeats += 1
                if flying not in futures:
                    futures.append(flying)
                continue
            subject = event_subject(partition_of_key(key, parts), key)
            f = await self.js.publish_async(subject, _ENC.encode(e), headers={"Nats-Msg-Id": mid})
            self.in_flight[mid] = f
            f.add_done_callback(functools.partial(self._landed, mid))
            futures.append(f)
        # One wait for the whole batch (a wait_for per event costs a task per event).
        _, pending = await asyncio.wait(futures, timeout=self.config.ack_timeout_s)
        for f in pending:
            f.cancel()
        if pending or any(f.cancelled() for f in futures):  # cancelled: another batch's wait gave up on it
            raise TimeoutError(f"{len(pending)} of {len(futures)} events not acknowledged in time")
        failed = [f.exception() for f in futures if f.exception() is not None]
        if failed:
            raise failed[0]  # type: ignore[misc]
        return repeats + sum(1 for f in futures if f.result().duplicate)

    def _landed(self, mid: str, done: asyncio.Future[Any]) -> None:
        """Forget an acknowledged (or abandoned) publish: a later one of the same id is a plain duplicate."""
        if self.in_flight.get(mid) is done:
            del self.in_flight[mid]

    def _reader(self, request: Request) -> Response | None:
        who = self._who(request)
        if who is None:
            return _json({"error": "missing or unknown bearer token"}, 401, {"WWW-Authenticate": "Bearer"})
        if not who.can_read:
            return _json({"error": f"role {who.role} may not read alerts or stats"}, 403)
        if self.view is None or self.index_ is None:
            return _json({"error": "starting"}, 503, self.retry)
        return None

    async def alerts(self, request: Request) -> Response:
        if (denied := self._reader(request)) is not None:
            return denied
        assert self.view is not None
        p = request.query_params
        try:
            since = p.get("since")
            q = AlertFilter(
                cursor=int(p.get("cursor", "0")),
                since=datetime.fromisoformat(since).timestamp() if since else None,
                rule=p.get("rule"),
                level=p.get("level"),
                hall=p.get("hall"),
                department=p.get("department"),
                limit=max(1, min(int(p.get("limit", "500")), _MAX_PAGE)),
            )
        except ValueError as exc:
            return _json({"error": f"bad query parameter: {exc}"}, 422)
        bodies, cursor, more = self.view.page(q)
        tail = f',"next_cursor":{cursor},"more":{"true" if more else "false"}}}'.encode()
        return Response(b'{"alerts":[' + b",".join(bodies) + b"]" + tail, media_type="application/json")

    async def network(self, request: Request) -> Response:
        """The centre's network board: the workers' hall facts (else raised alerts) and the view's trend."""
        if (denied := self._reader(request)) is not None:
            return denied
        assert self.view is not None
        facts = self.facts.hall_facts()
        try:
            q = network_query(request)
            lagging = self.facts.lagging(time.time(), self.config.worker_lag_s) if facts is not None else []
            out = network_board(
                facts if facts is not None else self.view.hall_facts(),
                self.view.trend,
                self.view.trend.tree,
                q.unit,
                now=q.now,
                worst=q.worst,
                silent_s=q.silent_minutes * 60.0,
                counts="open" if facts is not None else "raised",
                tz_offset_s=_offset(self.tz, q.now),
                lagging=lagging,
            )
        except BadRequest as exc:
            return _json({"error": str(exc)}, exc.status)
        except UnknownUnit:
            return _json({"error": f"no hall under unit {q.unit[:80]!r}"}, 404)
        return _json(out)

    async def known(self, request: Request) -> Response:
        if (denied := self._reader(request)) is not None:
            return denied
        assert self.index_ is not None
        try:
            ids = _IDS.decode(await request.body())
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            return _json({"error": f"expected a JSON array of event ids ({exc})"}, 422)
        try:
            found = await self.index_.known(ids)
        except Exception as exc:
            return _json({"error": f"the event stream could not be read: {exc}"}, 503, self.retry)
        missing = [i for i in ids if i not in found]
        return _json({"known": len(ids) - len(missing), "missing": missing})

    async def _workers(self) -> dict[str, Any]:
        assert self.js is not None
        kv = await self.js.key_value(STATUS_BUCKET)
        out: dict[str, Any] = {}
        try:
            keys = await kv.keys()
        except Exception:  # no keys yet
            return out
        for key in keys:
            if not key.startswith("worker."):  # the halls' facts (facts.<p>) are the board's
                continue
            entry = await kv.get(key)
            if entry.value:
                out[key] = msgspec.json.decode(entry.value)
        return out

    def _stream_rate(self, last_seq: int) -> float:
        """Events/s the EVENTS stream grew by, over at least a second (the network's ingest rate)."""
        now = time.monotonic()
        if self._rate_at is None:
            self._rate_at = (now, last_seq)
        elif now - self._rate_at[0] >= 1.0:
            t0, seq0 = self._rate_at
            self._rate = max(0, last_seq - seq0) / (now - t0)
            self._rate_at = (now, last_seq)
        return round(self._rate, 3)

    async def page(self, request: Request) -> Response:
        """The centre page, as ``supsim serve`` sends it; it reads the routes below with its token."""
        html, headers = centre_page()
        return HTMLResponse(html, headers=headers)

    async def stats(self, request: Request) -> Response:
        if (denied := self._reader(request)) is not None:
            return denied
        assert self.js is not None and self.view is not None and self.index_ is not None
        try:
            events = (await self.js.stream_info(EVENTS_STREAM)).state
            alerts = (await self.js.stream_info(ALERTS_STREAM)).state
            workers = await self._workers()
        except Exception as exc:
            return _json({"error": f"the cluster could not be asked: {exc!r}"}, 503, self.retry)
        parts = [p for w in workers.values() for p in w.get("partitions", {}).values()]
        return _json(
            {
                "ready": True,
                # what the centre page reads, as `supsim serve` names it (`open_by_hall` it has not:
                # the workers publish open counts per hall, not per department; the page then shows
                # `alerts_by_hall`, the alerts raised)
                "ingest_rate": self._stream_rate(events.last_seq),
                "events_stored": events.messages,
                "queue_events": sum(int(p.get("pending", 0)) for p in parts),
                "engine": {k: sum(int(p.get(k, 0)) for p in parts) for k in ("open_cases", "late", "future")},
                "ingest_index": self.index,
                "ingest": self.counts,
                "events_stream": {"messages": events.messages, "last_seq": events.last_seq},
                "alerts_stream": {"messages": alerts.messages, "last_seq": alerts.last_seq},
                "alerts_seen_seq": self.view.last_seq,
                "alerts_view": len(self.view),
                "alerts_view_duplicates": self.view.duplicates,
                "alerts_by_rule": dict(sorted(self.view.by_rule.items())),
                "alerts_by_hall": self.view.alerts_by_hall(),
                "workers": workers,
                "event_index": self.index_.stats(),
                "now": time.time(),
            }
        )

    async def metrics(self, request: Request) -> Response:
        lines = [
            "# TYPE supsim_cluster_ingest_events_total counter",
            *(f'supsim_cluster_ingest_events_total{{result="{k}"}} {v}' for k, v in self.counts.items()),
            "# TYPE supsim_cluster_alerts_view gauge",
            f"supsim_cluster_alerts_view {len(self.view) if self.view else 0}",
        ]
        return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")

    async def healthz(self, request: Request) -> Response:
        return _json({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        if self.nc is None or not self.nc.is_connected or self.view is None:
            return _json({"ready": False, "reason": "not connected to NATS"}, 503, self.retry)
        return _json({"ready": True})


def create_ingest_app(config: ClusterConfig, index: int = 0) -> Starlette:
    """A Starlette app for ingest process ``index`` of the cluster ``config``."""
    svc = _Ingest(config, index)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        svc.nc = await connect(config.nats_urls, name=f"supsim-ingest-{index}")
        svc.js = svc.nc.jetstream(timeout=config.ack_timeout_s)
        stop = asyncio.Event()
        view = AlertsView(svc.js)
        task = asyncio.create_task(view.run(stop))
        svc.facts.js = svc.js
        facts_task = asyncio.create_task(svc.facts.run(stop))
        svc.view, svc.index_ = view, EventIndex(svc.js)
        logger.info("ingest %d connected to %s", index, config.nats_urls)
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(task, facts_task, return_exceptions=True)
            await svc.nc.close()

    routes = [
        Route("/", svc.page, methods=["GET"]),
        Route("/v1/events", svc.ingest, methods=["POST"]),
        Route("/v1/events/known", svc.known, methods=["POST"]),
        Route("/v1/alerts", svc.alerts, methods=["GET"]),
        Route("/v1/stats", svc.stats, methods=["GET"]),
        Route("/v1/board/network", svc.network, methods=["GET"]),
        Route("/metrics", svc.metrics, methods=["GET"]),
        Route("/healthz", svc.healthz, methods=["GET"]),
        Route("/readyz", svc.readyz, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.ingest = svc
    return app
