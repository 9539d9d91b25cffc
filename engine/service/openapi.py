"""The OpenAPI document of the live service, with the event schema generated from the contract.

Why generated and not hand-written: the event contract's JSON Schema comes from the
msgspec Structs (``engine.contract.events``), so the API document cannot drift from what
the ingest route accepts; schema-driven fuzzers (schemathesis, run in the test suite with
all its checks) read it as is. Two things msgspec does not say are added here: instants
are RFC 3339 ``date-time`` strings (with an offset), and a hall id may not begin with ``~``
(reserved for the partitions of events without a hall).

Every status a route can answer is listed, with its body: a client generated from this
document handles 415, 429 and 503 as well as 202.
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.contract.event_base import INSTANT_PATTERN
from engine.service.centre.schema import network_board_schema
from engine.service.edge.guards import MAX_SILENT_MINUTES, MAX_UNIT, MAX_WORST

__all__ = ["openapi_document"]

_ERROR = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": ["integer", "null"]},
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
    "required": ["error"],
}
_ANY_OBJECT = {"type": "object"}


def _body(
    description: str, schema: dict[str, Any] = _ERROR, media: str = "application/json"
) -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "malformed JSON, or nested too deeply",
        401: "missing or unknown bearer token",
        403: "the token's role or scope does not allow this",
        404: "no such entry",
        409: "already decided",
        413: "body or batch too large",
        415: "unsupported Content-Type",
        421: "events of a hall another process of this node owns; see GET /v1/partitions",
        422: "invalid body or query parameter, naming the field",
        429: "queue full, or too many requests of this token in flight; see Retry-After",
        503: "not ready (rebuilding, a failed commit being recovered, or a log awaiting an operator)",
    }
    return {str(c): _body(text[c]) for c in codes}


def _datetimes(components: dict[str, Any]) -> None:
    """Mark every instant of the contract's Structs as an RFC 3339 ``date-time``."""
    seen: set[type] = set()

    def visit(t: msgspec.inspect.Type) -> None:
        if isinstance(t, msgspec.inspect.StructType) and t.cls not in seen:
            seen.add(t.cls)
            props = components.get(t.cls.__name__, {}).get("properties", {})
            for f in t.fields:
                inner = f.type.types if isinstance(f.type, msgspec.inspect.UnionType) else (f.type,)
                if any(isinstance(x, msgspec.inspect.DateTimeType) for x in inner):
                    prop = props.get(f.encode_name, {})
                    for option in prop.get("anyOf", [prop]):
                        if option.get("type") == "string":
                            option["format"] = "date-time"
                for x in inner:
                    visit(x)
        for attr in ("item_type", "types"):
            sub = getattr(t, attr, None)
            for x in sub if isinstance(sub, tuple) else ([sub] if sub is not None else []):
                visit(x)

    for t in msgspec.inspect.multi_type_info([ev.AnyEvent, Alert]):
        visit(t)
    for schema in components.values():
        hall = schema.get("properties", {}).get("hall_id")
        for option in (hall or {}).get("anyOf", [hall] if hall else []):
            if option.get("type") == "string":
                option["pattern"] = "^[^~]"


@functools.cache
def openapi_document(
    max_batch_events: int = 1000, max_page: int = 5000, *, node: bool = False
) -> dict[str, Any]:
    """The service's OpenAPI 3.1 document; ``node``: a process of a several-process node (its routes too)."""
    (event_ref, alert_ref), components = msgspec.json.schema_components(
        (list[ev.AnyEvent], Alert), ref_template="#/components/schemas/{name}"
    )
    _datetimes(components)
    event_ref = {**event_ref, "maxItems": max_batch_events}
    bearer: list[dict[str, list[str]]] = [{"bearer": []}]
    counts = {
        "type": "object",
        "properties": {"accepted": {"type": "integer"}, "duplicates": {"type": "integer"}},
        "required": ["accepted", "duplicates"],
    }
    page = {
        "type": "object",
        "properties": {
            "alerts": {"type": "array", "items": alert_ref},
            "next_cursor": {"type": "integer"},
            "more": {"type": "boolean"},
        },
        "required": ["alerts", "next_cursor", "more"],
    }
    known_item = {
        "anyOf": [
            {"type": "string"},
            {
                "type": "object",
                "properties": {"event_id": {"type": "string"}, "hall_id": {"type": ["string", "null"]}},
                "required": ["event_id"],
                "additionalProperties": False,
            },
        ]
    }
    known = {
        "type": "object",
        "properties": {"known": {"type": "integer"}, "missing": {"type": "array", "items": known_item}},
        "required": ["known", "missing"],
    }
    entry = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "hall": {"type": "string"}, "event_id": {"type": "string"},
            "kind": {"type": "string"}, "seq": {"type": "integer"},
            "state": {"enum": ["held", "released", "dropped"]}, "error": {"type": "string"},
            "at": {"type": "number"}, "decided_at": {"type": ["number", "null"]},
        },
        "required": ["id", "hall", "event_id", "kind", "state", "error"],
    }  # fmt: skip
    ready = {"type": "object", "properties": {"ready": {"type": "boolean"}, "reason": {"type": "string"}}}
    alert_params = [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in (
            ("cursor", {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}),
            ("since", {"type": "string", "format": "date-time"}),
            ("rule", {"type": "string"}),
            ("level", {"type": "string"}),
            ("hall", {"type": "string"}),
            ("department", {"type": "string"}),
            ("limit", {"type": "integer", "minimum": 1, "maximum": max_page}),
        )
    ]
    network_params = [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in (
            ("unit", {"type": "string", "maxLength": MAX_UNIT}),
            ("silent_minutes", {"type": "integer", "minimum": 1, "maximum": MAX_SILENT_MINUTES}),
            ("worst", {"type": "integer", "minimum": 1, "maximum": MAX_WORST}),
            ("now", {"type": "string", "format": "date-time", "pattern": INSTANT_PATTERN}),
        )
    ]
    public: list[dict[str, list[str]]] = []
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "supsim supervision engine", "version": "1"},
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": bearer,
        "paths": {
            "/v1/events": {
                "post": {
                    "summary": "Ingest a batch of contract events (all-or-nothing)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": event_ref},
                            "application/x-ndjson": {
                                "schema": {"type": "string", "description": "one contract event per line"}
                            },
                        },
                    },
                    "responses": {
                        "202": _body("durable", counts),
                        **_errors(400, 401, 403, *((421,) if node else ()), 413, 415, 422, 429, 503),
                    },
                }
            },
            "/v1/events/known": {
                "post": {
                    "summary": "Which of these events are in the log (an id alone: in any hall)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"type": "array", "items": known_item}}},
                    },
                    "responses": {
                        "200": _body("known count and missing items", known),
                        **_errors(400, 401, 403, 413, 415, 422, 429),
                    },
                }
            },
            "/v1/alerts": {
                "get": {
                    "summary": "Alerts in arrival order, filtered and paginated by cursor",
                    "parameters": alert_params,
                    "responses": {"200": _body("a page", page), **_errors(401, 403, 422, 429)},
                }
            },
            "/v1/board/network": {
                "get": {
                    "summary": "The centre's network board of one unit (province, city, county or hall)",
                    "description": "A unit's own hall and child units with open warnings and cards, "
                    "open and closed cases and closed-case KPIs; the same per level; the worst halls; "
                    "alerts per hour (24 h) and per local day (14 days) up to `now`; halls silent for "
                    "more than `silent_minutes`. Times are POSIX seconds. Units are read off the hall "
                    "ids (`{parent}_{code}{index}`); the root is the empty unit.",
                    "parameters": network_params,
                    "responses": {
                        "200": _body("the unit's board", network_board_schema()),
                        **_errors(401, 403, 404, 422, 429),
                    },
                }
            },
            "/v1/stats": {
                "get": {
                    "summary": "Ingest, engine, quarantine and alert counters",
                    "responses": {"200": _body("counters", _ANY_OBJECT), **_errors(401, 403, 429)},
                }
            },
            "/v1/quarantine": {
                "get": {
                    "summary": "Events the engine failed on (admin)",
                    "parameters": [
                        {
                            "name": "state",
                            "in": "query",
                            "required": False,
                            "schema": {"enum": ["held", "released", "dropped"]},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": max_page},
                        },
                    ],
                    "responses": {
                        "200": _body(
                            "entries, oldest first",
                            {"type": "object", "properties": {"entries": {"type": "array", "items": entry}}},
                        ),
                        **_errors(401, 403, 422, 429),
                    },
                }
            },
            "/v1/quarantine/{qid}/{action}": {
                "post": {
                    "summary": "Release (apply now) or drop a held event (admin)",
                    "parameters": [
                        {
                            "name": "qid",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 10**18 - 1},
                        },
                        {
                            "name": "action",
                            "in": "path",
                            "required": True,
                            "schema": {"enum": ["release", "drop"]},
                        },
                    ],
                    "responses": {
                        "200": _body("the entry as decided", entry),
                        **_errors(401, 403, 404, 409, 413, 429, 503),
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus text (a metrics, supervisor or admin token)",
                    "responses": {
                        "200": _body("exposition format 0.0.4", {"type": "string"}, "text/plain"),
                        **_errors(401, 403, 429),
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Liveness",
                    "security": public,
                    "responses": {"200": _body("alive", ready)},
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Readiness",
                    "security": public,
                    "responses": {"200": _body("ready", ready), "503": _body("not ready, and why", ready)},
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": public,
                    "responses": {"200": _body("OpenAPI 3.1", _ANY_OBJECT)},
                }
            },
            "/": {
                "get": {
                    "summary": "The supervision-centre page (the token is typed into it)",
                    "security": public,
                    "responses": {"200": _body("HTML", {"type": "string"}, "text/html")},
                }
            },
        },
    }
    if node:
        doc["paths"].update(_node_paths())
    return doc


def _node_paths() -> dict[str, Any]:
    """Routes a process of a several-process node adds (``supsim serve --processes N``)."""
    owner = {
        "type": "object",
        "properties": {"index": {"type": "integer"}, "url": {"type": "string"}},
        "required": ["index", "url"],
    }
    partition_map = {
        "type": "object",
        "properties": {
            "processes": {"type": "integer", "minimum": 1},
            "hash": {"type": "string"},
            "partition": {"type": "string"},
            "owners": {"type": "array", "items": owner},
        },
        "required": ["processes", "hash", "partition", "owners"],
    }
    facts = {
        "type": "object",
        "properties": {"halls": _ANY_OBJECT, "trend": _ANY_OBJECT},
        "required": ["halls", "trend"],
    }
    return {
        "/v1/partitions": {
            "get": {
                "summary": "Which process owns which hall (crc32 of the hall id), and each process's URL",
                "responses": {"200": _body("the partition map", partition_map), **_errors(401, 429)},
            }
        },
        "/v1/board/facts": {
            "get": {
                "summary": "This process's network-board facts and alert trend (its halls only)",
                "responses": {"200": _body("facts per hall and the trend", facts), **_errors(401, 403, 429)},
            }
        },
    }
