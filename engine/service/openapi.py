"""The OpenAPI document of the live service, with the event schema generated from the contract.

Why generated and not hand-written: the event contract's JSON Schema comes from the
msgspec Structs (``engine.contract.events``), so the API document cannot drift from what the ingest
route actually accepts; schema-driven fuzzers (schemathesis) read it as is.
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec

from engine.contract import events as ev
from engine.contract.alerts import Alert

__all__ = ["openapi_document"]


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}


@functools.cache
def openapi_document() -> dict[str, Any]:
    (event_ref, alert_ref), components = msgspec.json.schema_components(
        (list[ev.AnyEvent], Alert), ref_template="#/components/schemas/{name}"
    )
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
    }
    alert_params = [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in (
            ("cursor", {"type": "integer", "minimum": 0}),
            ("since", {"type": "string", "format": "date-time"}),
            ("rule", {"type": "string"}),
            ("level", {"type": "string"}),
            ("hall", {"type": "string"}),
            ("department", {"type": "string"}),
            ("limit", {"type": "integer", "minimum": 1, "maximum": 5000}),
        )
    ]
    return {
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
                            "application/x-ndjson": {"schema": {"type": "string"}},
                        },
                    },
                    "responses": {
                        "202": {
                            "description": "durable",
                            "content": {"application/json": {"schema": counts}},
                        },
                        "400": _error("malformed JSON"),
                        "401": _error("missing or unknown token"),
                        "403": _error("out of the token's scope"),
                        "413": _error("body or batch too large"),
                        "422": _error("invalid events: index, field and reason of each"),
                        "429": _error("queue full; see Retry-After"),
                        "503": _error("not ready; see Retry-After"),
                    },
                }
            },
            "/v1/events/known": {
                "post": {
                    "summary": "Which of these event ids are in the log",
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"type": "array", "items": {"type": "string"}}}
                        }
                    },
                    "responses": {"200": _error("known count and missing ids")},
                }
            },
            "/v1/alerts": {
                "get": {
                    "summary": "Alerts in arrival order, filtered and paginated by cursor",
                    "parameters": alert_params,
                    "responses": {
                        "200": {"description": "a page", "content": {"application/json": {"schema": page}}}
                    },
                }
            },
            "/v1/stats": {
                "get": {"summary": "Ingest, engine and alert counters", "responses": {"200": _error("")}}
            },
            "/metrics": {
                "get": {"summary": "Prometheus text", "security": [], "responses": {"200": _error("")}}
            },
            "/healthz": {"get": {"summary": "Liveness", "security": [], "responses": {"200": _error("")}}},
            "/readyz": {"get": {"summary": "Readiness", "security": [], "responses": {"200": _error("")}}},
        },
    }
