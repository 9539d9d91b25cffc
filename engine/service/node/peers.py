"""The loopback HTTP client between the processes of a node.

Why a few lines of asyncio rather than an HTTP library: the peers are this same service on
127.0.0.1 (``Content-Length`` bodies, no redirects, no TLS), and the ``live`` extra should
not grow a client library for that. One connection per call (``Connection: close``): a call
costs a loopback connect, which the hand-off figures in ``docs/deployment.md`` include.

Every call carries :data:`LOCAL_HEADER`: the peer answers for its own halls only and never
forwards again, so a request crosses at most one hop.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

__all__ = ["LOCAL_HEADER", "PeerError", "PeerReply", "call"]

LOCAL_HEADER = "x-supsim-node-local"


class PeerError(RuntimeError):
    """A peer process did not answer (down, restarting, or too slow); the message names it."""


@dataclass(frozen=True, slots=True)
class PeerReply:
    status: int
    headers: dict[str, str]
    body: bytes


async def call(
    host: str,
    port: int,
    method: str,
    target: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    timeout: float = 30.0,
) -> PeerReply:
    """One request to the peer at ``host:port``; :class:`PeerError` if it cannot be had."""
    try:
        return await asyncio.wait_for(_call(host, port, method, target, headers or {}, body), timeout)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
        raise PeerError(f"process on port {port} did not answer {method} {target}: {exc!r}") from None


async def _call(
    host: str, port: int, method: str, target: str, headers: dict[str, str], body: bytes
) -> PeerReply:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
                 f"{LOCAL_HEADER}: 1", f"Content-Length: {len(body)}"]  # fmt: skip
        lines += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *fields = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        reply_headers: dict[str, str] = {}
        for field in fields:
            if ":" in field:
                name, _, value = field.partition(":")
                reply_headers[name.strip().lower()] = value.strip()
        length = reply_headers.get("content-length")
        data = await (reader.readexactly(int(length)) if length is not None else reader.read())
        return PeerReply(status, reply_headers, data)
    finally:
        writer.close()
        with contextlib.suppress(OSError):  # the reply is read; a reset while closing changes nothing
            await writer.wait_closed()
