"""The lean route-bench client: answers read whole however the bytes arrive, every status counted."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from loadtests.rawload import blast, build_post


class _Echo:
    """A tiny HTTP/1.1 server on 127.0.0.1 answering each request in pieces.

    It answers 202 (or 429 for a path ending in ``/busy``) with a body the length of the
    request's body, split over three writes (inside the header block, at its end and inside
    the body), so a reader that assumes one read per answer fails.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.seen: list[bytes] = []
        ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(5)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            body = await reader.readexactly(length)
            self.seen.append(body)
            status = b"429 Too Many Requests" if head.split(b" ")[1].endswith(b"/busy") else b"202 Accepted"
            answer = (
                b"HTTP/1.1 "
                + status
                + b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
            )
            for piece in (answer[:20], answer[20:], body[: len(body) // 2], body[len(body) // 2 :]):
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(0)
        writer.close()

    def stop(self) -> None:
        async def shutdown() -> None:
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
            self.loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop)
        self.thread.join(5)


@pytest.fixture
def echo() -> Iterator[_Echo]:
    server = _Echo()
    yield server
    server.stop()


def test_every_request_is_sent_once_and_every_status_counted(echo: _Echo) -> None:
    bodies = [b'[{"n": %d}]' % i for i in range(40)]
    requests = [build_post("127.0.0.1", echo.port, "/v1/events", "t", b) for b in bodies]
    requests += [build_post("127.0.0.1", echo.port, "/v1/busy", "t", b"[]") for _ in range(3)]
    result = blast("127.0.0.1", requests, connections=4)
    assert result.statuses == {202: 40, 429: 3}
    assert result.requests == 43
    assert sorted(echo.seen) == sorted([*bodies, b"[]", b"[]", b"[]"])
    assert len(result.latencies_s) == 43
    assert result.rate() > 0 and result.client_cpu_s >= 0


def test_a_paced_run_takes_as_long_as_its_schedule(echo: _Echo) -> None:
    requests = [build_post("127.0.0.1", echo.port, "/v1/events", "t", b"[1]") for _ in range(20)]
    result = blast("127.0.0.1", requests, connections=2, rate=100.0)
    assert result.statuses == {202: 20}
    assert result.wall_s >= 19 / 100.0  # the last request is due at 0.19 s
    assert result.rate() <= 110.0


def test_requests_to_two_ports_each_reach_their_own_server(echo: _Echo) -> None:
    other = _Echo()
    try:
        requests = [
            build_post("127.0.0.1", p, "/v1/events", "t", b"[%d]" % p) for p in (echo.port, other.port) * 5
        ]
        result = blast("127.0.0.1", requests, connections=1)
    finally:
        other.stop()
    assert result.statuses == {202: 10}
    assert echo.seen == [b"[%d]" % echo.port] * 5
    assert other.seen == [b"[%d]" % other.port] * 5


@pytest.mark.parametrize("answered", [0, 1])
def test_a_closed_connection_is_an_error_not_a_hang(answered: int) -> None:
    """Closed while a request waits, or after an answer and before the next request."""

    async def close_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(answered):
            await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(2)
            writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
        await reader.read(1)
        writer.close()

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(asyncio.start_server(close_at_once, "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(ConnectionError):
            blast("127.0.0.1", [build_post("127.0.0.1", port, "/v1/events", "t", b"[]")] * 2, connections=1)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
