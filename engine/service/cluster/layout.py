"""The shape of a cluster: its configuration, the hall → partition map, subjects and message ids.

Why a fixed number of partitions, hashed: an engine's state belongs to a hall, and the hall
must always land on the same engine, whatever ingest process received its events and
whichever worker runs that partition today. ``crc32(hall) mod P`` is stable across
processes, machines and Python versions (``hash()`` is salted per process), and ``P`` (fixed
when the cluster is created) is larger than the number of workers, so partitions can be
dealt to workers (``p % M``) and moved without re-hashing halls.

Why message ids are digests: ``Nats-Msg-Id`` is a header (no newlines, bounded length)
while event ids are client-chosen strings. A digest of ``(hall, id)`` is fixed-length,
header-safe and still the same for every resend of the same event.
"""

from __future__ import annotations

import hashlib
import os
import re
import zlib
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta

__all__ = [
    "ALERTS_STREAM",
    "CONFIG_FILE",
    "EVENTS_STREAM",
    "SNAPSHOTS_BUCKET",
    "STATE_FILE",
    "STATUS_BUCKET",
    "ClusterConfig",
    "ClusterState",
    "ProcessEntry",
    "alert_subject",
    "event_subject",
    "load_config",
    "load_state",
    "msg_id",
    "partition_of_key",
    "partitions_of_worker",
    "save_config",
    "save_state",
]

CONFIG_FILE = "config.json"
STATE_FILE = "cluster.json"

EVENTS_STREAM = "EVENTS"
ALERTS_STREAM = "ALERTS"
SNAPSHOTS_BUCKET = "SNAPSHOTS"
STATUS_BUCKET = "STATUS"

_SAFE = re.compile(r"^[A-Za-z0-9_~-]{1,64}$")
Positive = Annotated[int, Meta(ge=1)]
Port = Annotated[int, Meta(ge=1, le=65535)]


class ClusterConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything a process of the cluster needs; written once by ``supsim cluster up``."""

    dir: str
    host: str = "127.0.0.1"
    port: Port  # the shared ingest port (SO_REUSEPORT across ingest processes)
    nats: Annotated[int, Meta(ge=1, le=5)] = 3
    ingest: Positive = 1
    workers: Positive = 2
    partitions: Positive = 8
    nats_ports: list[Port]
    route_ports: list[Port]
    monitor_ports: list[Port]
    ingest_ports: list[Port]  # each ingest process's own port (health, diagnosis)
    tokens: str
    rulebook: str | None = None
    duplicate_window_s: Annotated[float, Meta(gt=0)] = 1200.0
    snapshot_every_s: Annotated[float, Meta(gt=0)] = 5.0
    ack_timeout_s: Annotated[float, Meta(gt=0)] = 4.0
    worker_lag_s: Annotated[float, Meta(gt=0)] = 10.0  # status older, or behind for longer: lagging
    max_batch_events: Positive = 1000
    max_body_bytes: Positive = 4 * 1024 * 1024

    @property
    def replicas(self) -> int:
        return min(3, self.nats)

    @property
    def nats_urls(self) -> list[str]:
        return [f"nats://{self.host}:{p}" for p in self.nats_ports]

    @property
    def ingest_url(self) -> str:
        return f"http://{self.host}:{self.port}"


class ProcessEntry(msgspec.Struct, kw_only=True):
    """One supervised process as ``cluster.json`` lists it."""

    role: str  # nats, ingest, worker
    index: int
    pid: int
    ports: dict[str, int] = msgspec.field(default_factory=dict)
    restarts: int = 0
    started: float = 0.0


class ClusterState(msgspec.Struct, kw_only=True):
    """``D/cluster.json``: who runs where; rewritten (atomically) on every (re)start of a process."""

    ingest_url: str
    supervisor_pid: int
    ready: bool = False
    processes: list[ProcessEntry] = msgspec.field(default_factory=list)
    log_dir: str = ""

    def pids(self, role: str) -> list[int]:
        return [p.pid for p in self.processes if p.role == role]


def partition_of_key(key: str, partitions: int) -> int:
    """The partition of a hall key (``engine.service.halls.partition_of`` of an event)."""
    return zlib.crc32(key.encode("utf-8")) % partitions


def partitions_of_worker(index: int, workers: int, partitions: int) -> list[int]:
    return [p for p in range(partitions) if p % workers == index]


def _token(key: str) -> str:
    """A subject token for a hall key: itself when safe, else a hex spelling (no dots, no wildcards)."""
    return key if _SAFE.match(key) else "x" + key.encode("utf-8").hex()[:60]


def event_subject(partition: int, key: str) -> str:
    return f"events.{partition}.{_token(key)}"


def alert_subject(partition: int, key: str) -> str:
    return f"alerts.{partition}.{_token(key)}"


def msg_id(kind: str, key: str, ident: str) -> str:
    """``Nats-Msg-Id`` of an event or alert: a digest of (kind, hall key, id)."""
    raw = "\x1f".join((kind, key, ident)).encode("utf-8")
    return kind[0] + hashlib.blake2b(raw, digest_size=16).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def save_config(config: ClusterConfig) -> Path:
    path = Path(config.dir) / CONFIG_FILE
    _write_atomic(path, msgspec.json.format(msgspec.json.encode(config), indent=2) + b"\n")
    return path


def load_config(directory: str | Path) -> ClusterConfig:
    path = Path(directory) / CONFIG_FILE
    try:
        return msgspec.json.decode(path.read_bytes(), type=ClusterConfig)
    except msgspec.ValidationError as exc:
        raise ValueError(f"{path}: {exc}") from None


def save_state(directory: str | Path, state: ClusterState) -> None:
    data = msgspec.json.format(msgspec.json.encode(state), indent=2) + b"\n"
    _write_atomic(Path(directory) / STATE_FILE, data)


def load_state(directory: str | Path) -> ClusterState:
    path = Path(directory) / STATE_FILE
    try:
        return msgspec.json.decode(path.read_bytes(), type=ClusterState)
    except msgspec.ValidationError as exc:
        raise ValueError(f"{path}: {exc}") from None
