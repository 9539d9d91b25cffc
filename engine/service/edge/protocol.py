"""uvicorn's HTTP protocol with the limits a service exposed to careless or hostile clients needs.

Why: uvicorn bounds neither the time a client may take to send its request head or body
nor the number of open connections. A client that opens connections and trickles a header
byte now and then (slowloris) holds a descriptor each for ever: 1,100 of them exhausted a
1,024-descriptor process and reset 49 of 50 probes. This subclass adds, per connection:

* a **head deadline**: the request line and headers must be complete within
  ``head_timeout_s`` of the connection opening or of the previous response (an idle
  keep-alive connection is also closed earlier by uvicorn's own ``timeout_keep_alive``);
* a **body deadline**: the body must be complete within ``body_timeout_s`` of the headers;
* a **head size bound**: more than ``max_head_bytes`` before the headers end: 431, closed;
* a **connection bound** that does not starve clients: when ``max_connections`` are open,
  the oldest connection still *waiting for a request head* (idle or slow) is closed to make
  room; a connection whose request is being read or served is never closed for this. Only
  when every open connection is busy is the newcomer answered 503 and closed.

A client that sends its request promptly is therefore served however many slow ones are
open; the slow ones are the ones that lose their place.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["ConnectionLimits", "guarded_protocol"]

_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
)
_HEAD_TOO_BIG = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
)


class _HeadTooBig(Exception):
    """The request line and headers exceed ``max_head_bytes``."""


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    head_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    max_head_bytes: int = 65536
    max_connections: int = 800


def guarded_protocol(limits: ConnectionLimits) -> type[HttpToolsProtocol]:
    """A protocol class for ``uvicorn.run(http=...)`` enforcing ``limits`` (one per server)."""
    waiting: dict[_Guarded, None] = {}  # connections waiting for a request head, oldest first

    class _Bound(_Guarded):
        _limits = limits
        _waiting = waiting

    return _Bound


class _Guarded(HttpToolsProtocol):
    _limits: ConnectionLimits
    _waiting: dict[_Guarded, None]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._head_bytes = 0

    # --- deadlines ------------------------------------------------------------------

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def _await_head(self) -> None:
        self._head_bytes = 0
        self._waiting[self] = None
        self._arm(self._limits.head_timeout_s)

    # --- the protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self._limits.max_connections:
            victim = next((c for c in self._waiting if c is not self), None)
            if victim is None:
                transport.write(_BUSY)
                transport.close()
                return
            self._waiting.pop(victim, None)
            victim._disarm()
            victim.transport.close()
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._waiting.pop(self, None)
        self._disarm()
        super().connection_lost(exc)

    def _count_head(self, n: int) -> None:
        self._head_bytes += n
        if self._head_bytes > self._limits.max_head_bytes:
            raise _HeadTooBig  # uvicorn turns a callback's exception into send_400_response

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)
        super().on_header(name, value)

    def send_400_response(self, msg: str) -> None:
        if self._head_bytes > self._limits.max_head_bytes:
            self._waiting.pop(self, None)
            self._disarm()
            self.transport.write(_HEAD_TOO_BIG)
            self.transport.close()
            return
        super().send_400_response(msg)

    def on_headers_complete(self) -> None:
        self._waiting.pop(self, None)
        self._arm(self._limits.body_timeout_s)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._await_head()
