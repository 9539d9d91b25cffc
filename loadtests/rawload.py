"""A lean HTTP/1.1 load generator: pre-built requests over kept-alive sockets, for route benches.

Why not Locust or httpx here: a route bench compares two routes of one server (the durable
ingest and its parse-only baseline), and the comparison means something only if the client
is not the limit. An httpx client spends about as much CPU per request as the parse-only
route itself (measured: 0.30 s of client CPU against 0.09 s of server CPU for 296 batches of
100 events), so the "baseline" it reports is the client's speed. Here every request is
built once, before the clock starts, and the answer is read with one scan for the header
end and ``Content-Length``: a few microseconds of client CPU a request. Its own CPU is part
of every result (:attr:`Blast.client_cpu_s`), so a reader can check it was not the limit.

It is for 127.0.0.1 benches of our own service: no TLS, no redirects, no chunked answers
(the service answers with ``Content-Length``), one request in flight per connection.
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Blast", "Request", "blast", "build_post"]

#: A request ready to write, with the port it goes to.
Request = tuple[int, bytes]


def build_post(
    host: str, port: int, path: str, token: str, body: bytes, media: str = "application/json"
) -> Request:
    """One complete ``POST`` request, headers and body, ready to write to ``port``."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: {media}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return port, head.encode("ascii") + body


@dataclass
class Blast:
    """What one run sent and got back.

    ``latencies_s`` counts from each request's due time in a paced run (open model: a slow
    answer delays the next request of its connection, and that delay is counted), and from
    its send otherwise.
    """

    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)

    def rate(self, per_request: float = 1.0) -> float:
        """Requests (times ``per_request``, e.g. events a body) per second of wall time."""
        return self.requests * per_request / self.wall_s if self.wall_s > 0 else 0.0


def _content_length(head: bytes) -> int:
    """The ``Content-Length`` of an answer's header block (0 when absent)."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


class _Answers(asyncio.Protocol):
    """Reads answers off one connection; each complete answer resolves the waiting future."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None
        self.transport: asyncio.Transport | None = None
        self.lost: BaseException | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        length = _content_length(bytes(self.buffer[:end]))
        if len(self.buffer) < end + 4 + length:
            return
        status = int(self.buffer[9:12])
        del self.buffer[: end + 4 + length]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc or ConnectionResetError("connection closed by the server")
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(self.lost)

    async def send(self, request: bytes) -> int:
        assert self.transport is not None
        if self.lost is not None:  # closed between two requests: no answer would ever come
            raise self.lost
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _run(host: str, requests: Sequence[Request], connections: int, rate: float | None) -> Blast:
    loop = asyncio.get_running_loop()
    by_port: dict[int, list[tuple[int, bytes]]] = {}
    for i, (port, raw) in enumerate(requests):
        by_port.setdefault(port, []).append((i, raw))
    conns: list[tuple[_Answers, int]] = []
    for port in by_port:
        for _ in range(connections):
            _, proto = await loop.create_connection(_Answers, host, port)
            conns.append((proto, port))
    result = Blast()
    cpu0 = _cpu_s()
    t0 = time.perf_counter()
    taken = dict.fromkeys(by_port, 0)

    async def worker(proto: _Answers, port: int) -> None:
        queue = by_port[port]
        while taken[port] < len(queue):
            i, raw = queue[taken[port]]
            taken[port] += 1
            due = t0 + i / rate if rate else time.perf_counter()
            if rate:
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            status = await proto.send(raw)
            result.latencies_s.append(time.perf_counter() - due)
            result.statuses[status] = result.statuses.get(status, 0) + 1

    try:
        await asyncio.gather(*(worker(proto, port) for proto, port in conns))
    finally:
        result.wall_s = time.perf_counter() - t0
        result.client_cpu_s = _cpu_s() - cpu0
        result.requests = sum(result.statuses.values())
        for proto, _ in conns:
            if proto.transport is not None:
                proto.transport.close()
    return result


def blast(
    host: str, requests: Sequence[Request], *, connections: int = 8, rate: float | None = None
) -> Blast:
    """Send every ``(port, request)`` and wait for all answers.

    Each port gets ``connections`` kept-alive sockets and its own requests in order (a node's
    processes each on its own port, with the client sending each hall to its owner).
    ``rate`` (requests/s over all ports) paces the sends: request ``i`` is due at
    ``i / rate``; without it each connection sends its port's next request as soon as the
    last is answered (a closed loop, the route's throughput).
    """
    return asyncio.run(_run(host, requests, connections, rate))
