"""The node's partition map: which process owns which hall, its ports, and its log file.

Why ``crc32`` of the partition name: the owner of a hall must be the same in every process,
after every restart and on every Python (``hash()`` is salted per process), and a client
holding the map (``GET /v1/partitions``) must compute it too. The partition is the engine's
(:func:`engine.service.halls.partition_of`): the hall, else ``~trading`` or ``~global``.

Why the process count is part of each log's name (``supsim-0of2.db``): a hall's events and
engine state live in its owner's log only. Started with another count, halls would move to
processes whose logs do not hold them and their history would silently vanish from the
answers; :func:`check_logs` refuses that start and names the files instead.

Ports: every process listens on the node's public port (``SO_REUSEPORT``, the kernel spreads
connections over them) and on a port of its own, ``peer_base + index``, where the other
processes and partition-aware clients reach it directly.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["NodeError", "NodeLayout", "check_logs", "log_path", "owner_of"]


class NodeError(RuntimeError):
    """The node cannot start as asked; the message names the files or ports concerned."""


def owner_of(partition: str, processes: int) -> int:
    """The index of the process that owns ``partition`` (stable across processes and restarts)."""
    return zlib.crc32(partition.encode("utf-8")) % processes


def log_path(db: str | Path, index: int, processes: int) -> Path:
    """Process ``index``'s log: ``runs/service/supsim.db`` → ``runs/service/supsim-0of2.db``."""
    db = Path(db)
    return db.with_name(f"{db.stem}-{index}of{processes}{db.suffix}")


_PART = re.compile(r"-(\d+)of(\d+)$")


def check_logs(db: str | Path, processes: int) -> None:
    """Refuse to start over logs written with another process count (their halls would move).

    A one-process service keeps its log at ``db`` itself; N processes keep ``db``'s
    ``-iofN`` files. Any non-empty log of another layout beside ``db`` is an error.
    """
    db = Path(db)
    if not db.parent.exists():
        return
    other: list[str] = []
    if processes > 1 and db.exists() and db.stat().st_size > 0:
        other.append(db.name)
    for path in sorted(db.parent.glob(f"{db.stem}-*of*{db.suffix}")):
        m = _PART.search(path.stem[len(db.stem) :])
        if m and int(m.group(2)) != processes and path.stat().st_size > 0:
            other.append(path.name)
    if other:
        raise NodeError(
            f"{db.parent}: log(s) {', '.join(other)} were written by a node with another number of "
            f"processes; halls are partitioned by that number, so start with the same --processes "
            f"(moving halls between process counts is not supported)"
        )


@dataclass(frozen=True, slots=True)
class NodeLayout:
    """Where process ``index`` of ``processes`` stands: its ports and those of its peers."""

    processes: int
    index: int
    host: str
    port: int  # the node's public port, shared by all processes
    peer_base: int  # process i's own port is peer_base + i

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.processes:
            raise NodeError(f"process index {self.index} is outside 0..{self.processes - 1}")

    def peer_port(self, index: int) -> int:
        return self.peer_base + index

    def owner(self, partition: str) -> int:
        return owner_of(partition, self.processes)

    def owns(self, partition: str) -> bool:
        return owner_of(partition, self.processes) == self.index

    def map(self) -> dict[str, object]:
        """The body of ``GET /v1/partitions``: enough for a client to send each hall to its owner."""
        return {
            "processes": self.processes,
            "hash": "crc32(utf-8 partition) mod processes",
            "partition": "hall_id; events without a hall: ~trading (tendering) or ~global",
            "owners": [
                {"index": i, "url": f"http://{self.host}:{self.peer_port(i)}"} for i in range(self.processes)
            ],
        }
