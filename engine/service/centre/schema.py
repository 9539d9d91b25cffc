"""The JSON Schema of ``GET /v1/board/network``'s answer (:mod:`engine.service.centre.network`).

Why written out in full: schemathesis checks every answer against the document, so a field
added to the board and not here fails the suite rather than reaching clients undocumented.
"""

from __future__ import annotations

from typing import Any

__all__ = ["network_board_schema"]

_INT = {"type": "integer", "minimum": 0}
_NUM_OR_NULL = {"type": ["number", "null"]}
_INT_OR_NULL = {"type": ["integer", "null"], "minimum": 0}
_RATE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
_UNIT_PROPS = {"id": {"type": "string"}, "name": {"type": "string"}, "level": {"type": "string"}}
_UNIT = {"type": "object", "properties": _UNIT_PROPS, "required": list(_UNIT_PROPS)}
_ROW_PROPS = {
    "halls": _INT,
    "reporting": _INT,
    "warning": _INT,
    "yellow": _INT,
    "red": _INT,
    "open_cases": _INT_OR_NULL,
    "closed": _INT_OR_NULL,
    "overdue_rate": _RATE,
    "early_rate": _RATE,
    "silent": _INT,
}


def _object(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(props)}


def network_board_schema() -> dict[str, Any]:
    bucket = _object({"start": {"type": "number"}, "count": _INT})
    silent = _object({**_UNIT_PROPS, "last_event": _NUM_OR_NULL, "silent_minutes": _NUM_OR_NULL})
    lagging = _object(
        {
            "worker": _INT,
            "reason": {"enum": ["no status", "status stale", "behind the stream"]},
            "partitions": {"type": "array", "items": _INT},
            "halls": _INT,
            "status_age_s": _NUM_OR_NULL,
            "behind_s": _NUM_OR_NULL,
            "pending": _INT_OR_NULL,
        }
    )
    return _object(
        {
            "unit": _UNIT,
            "path": {"type": "array", "items": _UNIT, "minItems": 1},
            "counts": {"enum": ["open", "raised"]},
            "now": _NUM_OR_NULL,
            "tz_offset_s": {"type": "number"},
            "total": _object(_ROW_PROPS),
            "children": {
                "type": "array",
                "items": _object(
                    {**_UNIT_PROPS, "own": {"type": "boolean"}, **_ROW_PROPS, "alerts_24h": _INT}
                ),
            },
            "levels": {"type": "array", "items": _object({"level": {"type": "string"}, **_ROW_PROPS})},
            "worst": {
                "type": "array",
                "items": _object(
                    {**_UNIT_PROPS, "warning": _INT, "yellow": _INT, "red": _INT, "open_cases": _INT_OR_NULL}
                ),
            },
            "trend": _object(
                {"hours": {"type": "array", "items": bucket}, "days": {"type": "array", "items": bucket}}
            ),
            "sources": {
                "anyOf": [
                    {"type": "null"},
                    _object(
                        {
                            "silent_minutes": {"type": "number"},
                            "silent_count": _INT,
                            "silent": {"type": "array", "items": silent},
                            "lagging": {"type": "array", "items": lagging},
                        }
                    ),
                ]
            },
        }
    )
