"""Request checks shared by the routes: content types, bounded bodies, strict query values, headers.

Why strict: every value a client sends is either what the API document says or refused
with a 4xx that names it. A ``text/plain`` body, a cursor beyond SQLite's 64-bit integers,
a ``since`` without an offset or a limit out of range used to be accepted (or crash with a
500); each now has one answer. Bodies are read with a bound on every route, so no route can
be made to buffer an arbitrary amount of memory.

Why these response headers: the centre page is the one place where the service's output is
rendered by a browser. ``Content-Security-Policy`` allows only the page's own inline
script and style (by hash), requests to its own origin, and no framing; ``nosniff`` keeps a
browser from reading a JSON answer as HTML; ``no-referrer`` keeps the page's address out of
other sites' logs.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

import msgspec
from starlette.requests import Request

from engine.contract.event_base import instant_error

__all__ = [
    "BASE_HEADERS",
    "BadRequest",
    "NetworkQuery",
    "check_content_type",
    "network_query",
    "page_headers",
    "query_datetime",
    "query_int",
    "read_body",
]

JSON_TYPES = ("application/json",)
EVENT_TYPES = ("application/json", "application/x-ndjson")
MAX_INT = 2**63 - 1

BASE_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Cache-Control": "no-store"}
_DT = msgspec.json.Decoder(datetime)


class BadRequest(Exception):
    """A request refused before the route's work: HTTP ``status`` and the message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def check_content_type(request: Request, allowed: tuple[str, ...]) -> str:
    """The request's media type if it is one of ``allowed``, else :class:`BadRequest` 415."""
    raw = request.headers.get("content-type", "")
    media = raw.split(";", 1)[0].strip().lower()
    if media not in allowed:
        got = f"`{raw[:80]}`" if raw else "none"
        raise BadRequest(415, f"Content-Type must be one of {', '.join(allowed)} (got {got})")
    coding = request.headers.get("content-encoding", "identity").strip().lower()
    if coding != "identity":  # before: a gzip body read as "malformed JSON", a br label ignored
        raise BadRequest(415, f"Content-Encoding `{coding[:40]}` is not taken; send the body uncompressed")
    return media


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or :class:`BadRequest` 413 as soon as it exceeds ``limit`` bytes."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise BadRequest(413, f"body exceeds {limit} bytes; split it")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BadRequest(413, f"body exceeds {limit} bytes; split it")
    return bytes(body)


def query_int(request: Request, name: str, default: int, lo: int, hi: int = MAX_INT) -> int:
    """An integer query parameter within ``lo..hi``, else :class:`BadRequest` 422."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[+-]?\d{1,19}", raw.strip()):
        raise BadRequest(422, f"query parameter `{name}` must be an integer in {lo}..{hi} (got {raw[:40]!r})")
    value = int(raw)
    if not lo <= value <= hi:
        raise BadRequest(422, f"query parameter `{name}` must be an integer in {lo}..{hi} (got {value})")
    return value


def query_datetime(request: Request, name: str) -> float | None:
    """An RFC 3339 date-time with its offset (the OpenAPI ``date-time``), as POSIX seconds."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        value = _DT.decode(msgspec.json.encode(raw))
    except (msgspec.ValidationError, msgspec.DecodeError):
        value = None
    if value is None or value.tzinfo is None:
        raise BadRequest(
            422, f"query parameter `{name}` must be an RFC 3339 date-time with an offset (got {raw[:40]!r})"
        )
    return value.timestamp()


#: Bounds of ``GET /v1/board/network``'s query (the OpenAPI document states the same).
MAX_UNIT = 128
MAX_SILENT_MINUTES = 30 * 24 * 60
MAX_WORST = 100


@dataclass(frozen=True, slots=True)
class NetworkQuery:
    """The query of ``GET /v1/board/network``: the unit (``""``: the network), thresholds, a fixed now."""

    unit: str
    silent_minutes: int
    worst: int
    now: float | None


def network_query(request: Request) -> NetworkQuery:
    """The network board's query, checked: each bad value is a 422 naming its parameter."""
    unit = request.query_params.get("unit", "")
    if len(unit) > MAX_UNIT:
        raise BadRequest(422, f"query parameter `unit` must be at most {MAX_UNIT} characters")
    return NetworkQuery(
        unit=unit,
        silent_minutes=query_int(request, "silent_minutes", 60, 1, MAX_SILENT_MINUTES),
        worst=query_int(request, "worst", 10, 1, MAX_WORST),
        now=query_instant(request, "now"),
    )


def query_instant(request: Request, name: str) -> float | None:
    """:func:`query_datetime` held to the event contract's instants (year 2000-2100, offset within
    ±14:00), as the API document's pattern says: the board's local days need a real UTC offset, and
    ``9999-12-31`` or ``0001-01-01`` have none in the calendar's zone (a 500 before)."""
    posix = query_datetime(request, name)
    if posix is not None:
        raw = request.query_params[name]
        if (why := instant_error(_DT.decode(msgspec.json.encode(raw)))) is not None:
            raise BadRequest(422, f"query parameter `{name}`: {why}")
    return posix


def _hashes(html: str, tag: str) -> list[str]:
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.S)
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(b.encode("utf-8")).digest()).decode() + "'"
        for b in blocks
    ]


def page_headers(html: str) -> dict[str, str]:
    """Headers of the centre page: a CSP admitting exactly its inline script and style."""
    csp = (
        "default-src 'none'; "
        f"script-src {' '.join(_hashes(html, 'script'))}; "
        f"style-src {' '.join(_hashes(html, 'style'))}; "
        "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return {**BASE_HEADERS, "Content-Security-Policy": csp, "Referrer-Policy": "no-referrer"}
