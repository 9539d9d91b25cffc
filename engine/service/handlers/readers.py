"""The reading routes: known events, alerts, the network board, stats, metrics, the partition map.

Why apart from ingest: these answer other clients (supervisors, the centre page, scrapers,
loss checks) and only read, from the store's reader connection and the snapshot the writer
publishes; none of them touches the writer's queue. On a node, each asks the other
processes (:class:`engine.service.node.fanout.NodeRoutes`) unless the request came from one;
``board_facts`` and ``partitions`` exist only on a node, for those whole-node answers.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from engine.service.centre.network import HallFacts, UnknownUnit, network_board
from engine.service.centre.trend import AlertTrend
from engine.service.edge.guards import (
    JSON_TYPES,
    BadRequest,
    check_content_type,
    network_query,
    query_datetime,
    query_int,
    read_body,
)
from engine.service.handlers.state import MAX_PAGE, ServiceState, json_response
from engine.service.metrics import render_calendar_metrics, render_quarantine_metrics, side_output_counts
from engine.service.store import AlertQuery

__all__ = ["ReaderRoutes"]


class _Known(msgspec.Struct, forbid_unknown_fields=True):
    """One item of ``POST /v1/events/known``: an event id and its hall (None: no hall)."""

    event_id: str
    hall_id: str | None = None


_KNOWN = msgspec.json.Decoder(list[_Known | str])


class ReaderRoutes(ServiceState):
    """The routes that read what the service holds."""

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
            return json_response(
                await nodes.known(msgspec.to_builtins(items), request.headers.get("authorization"))
            )
        keys = [(i.hall_id, i.event_id) if isinstance(i, _Known) else ("~*", i) for i in items]
        found = self.reader.has_events(keys)
        missing = [i for i, k in zip(items, keys, strict=True) if k not in found]
        out = [i if isinstance(i, str) else {"event_id": i.event_id, "hall_id": i.hall_id} for i in missing]
        return json_response({"known": len(items) - len(missing), "missing": out})

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
            limit=query_int(request, "limit", 500, 1, MAX_PAGE),
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
        return json_response(out)

    async def board_facts(self, request: Request) -> Response:
        """This process's network-board facts and alert trend, for a node's board (one process's halls)."""
        if (denied := self._reader_guard(request)) is not None:
            return denied
        halls = {h: dataclasses.asdict(f) for h, f in self.writer.snapshot.halls.items()}
        return json_response({"halls": halls, "trend": self.writer.trend.export()})

    async def partitions(self, request: Request) -> Response:
        """The node's partition map: which process owns which hall, and its own URL."""
        who = self._who(request)
        if isinstance(who, Response):
            self.metrics.request(401)
            return who
        assert self.node is not None
        return json_response(self.node.map())

    def _tz_offset(self, now: float | None) -> float:
        """The calendar's UTC offset (seconds) at ``now``: the trend's days are local days."""
        at = datetime.fromtimestamp(now if now is not None else time.time(), self.calendar.tz)
        offset = at.utcoffset()
        return offset.total_seconds() if offset is not None else 0.0

    async def stats(self, request: Request) -> Response:
        if (denied := self._reader_guard(request)) is not None:
            return denied
        if (nodes := self._fanned(request)) is not None:
            return json_response(await nodes.stats(request.headers.get("authorization")))
        snap = self.writer.snapshot
        m = self.metrics
        return json_response(
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
        text += self.writer.heap.render()
        text += self.writer.checkpoints.render()
        text += self.loop_lag.render()
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
