"""Connection limits of a real ``supsim serve``: slow clients lose their place, prompt ones are served.

Every server binds 127.0.0.1 on a free port; every wait has a deadline.
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.service_process import ROOT, Server

pytestmark = pytest.mark.slow  # service processes and hundreds of sockets
ADMIN = "conn-admin-token-00000"
SLOW_HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "  # never finished


def _server(tmp_path: Path, descriptors: int | None = None, **limits: object) -> Server:
    cfg = tmp_path / "service.yaml"
    data = {"db": str(tmp_path / "log.db"), "tokens": [{"token": ADMIN, "role": "admin"}], **limits}
    cfg.write_text(yaml.safe_dump(data))

    def low_limit() -> None:
        if descriptors is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (descriptors, descriptors))

    return Server(cfg, preexec=low_limit)


@pytest.fixture
def sockets() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    try:
        yield opened
    finally:
        for s in opened:
            s.close()


def _closed_by_peer(s: socket.socket, within: float) -> bool:
    """True when the server closes ``s`` (EOF or reset) within ``within`` seconds."""
    s.settimeout(within)
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            data = s.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False
    return False


def test_slow_connections_do_not_starve_prompt_ones(tmp_path: Path, sockets: list[socket.socket]) -> None:
    """300 slowloris connections against a process with 200 descriptors: every probe is served."""
    server = _server(tmp_path, descriptors=200, max_connections=100, head_timeout_s=60)
    try:
        server.start()
        for _ in range(300):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            s.sendall(SLOW_HEAD)
            sockets.append(s)
        codes = []
        for _ in range(30):
            try:
                codes.append(httpx.get(server.url + "/healthz", timeout=5).status_code)
            except httpx.TransportError as exc:
                codes.append(type(exc).__name__)  # type: ignore[arg-type]
        assert codes == [200] * 30
    finally:
        server.kill()


def test_slow_heads_and_bodies_are_cut_off(tmp_path: Path, sockets: list[socket.socket]) -> None:
    server = _server(tmp_path, head_timeout_s=1, body_timeout_s=1)
    try:
        server.start()
        head = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sockets.append(head)
        head.sendall(SLOW_HEAD)
        body = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sockets.append(body)
        body.sendall(
            b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {ADMIN}\r\nContent-Length: 1000\r\n\r\n[".encode()
        )
        assert _closed_by_peer(head, within=5), "a connection that never finished its head was kept open"
        assert _closed_by_peer(body, within=5), "a connection that never finished its body was kept open"
        big = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sockets.append(big)
        big.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 70_000 + b"\r\n\r\n")
        big.settimeout(5)
        assert big.recv(64).startswith(b"HTTP/1.1 431")
        assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200
    finally:
        server.kill()


def test_a_port_in_use_is_said_before_any_address_is_printed(tmp_path: Path) -> None:
    """Before: the centre-page line was printed, then uvicorn failed to bind and exited 3."""
    server = _server(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", server.port))
        holder.listen()
        argv = ["serve", "--config", str(server.config), "--port", str(server.port)]
        done = subprocess.run(
            [sys.executable, "-m", "supsim", *argv],
            capture_output=True, text=True, timeout=60, env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )  # fmt: skip
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        == f"supsim serve: cannot listen on 127.0.0.1:{server.port}: Address already in use"
    )
    assert "centre page" not in done.stdout


def test_a_client_leaving_mid_body_is_not_a_server_error(tmp_path: Path) -> None:
    """Before: each one logged an ERROR with a ClientDisconnect traceback and counted a 500."""
    server = _server(tmp_path)
    try:
        server.start()
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
                s.sendall(
                    b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + f"Authorization: Bearer {ADMIN}\r\nContent-Length: 1000\r\n\r\n[".encode()
                )
        auth = {"Authorization": f"Bearer {ADMIN}"}
        deadline = time.monotonic() + 10
        while "the client left before its body came" not in server.log.read_text(errors="replace"):
            assert time.monotonic() < deadline, "the disconnects were never seen"
            time.sleep(0.1)
        metrics = httpx.get(server.url + "/metrics", headers=auth, timeout=5).text
        assert 'code="500"' not in metrics
        assert "Traceback" not in server.log.read_text(errors="replace")
    finally:
        server.kill()
