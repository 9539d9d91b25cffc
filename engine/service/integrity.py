"""The acknowledgement mark: what the service has promised is durable, kept outside the log.

Why a second file: SQLite can only report what it still has. A WAL cut off after a crash
(frames after the cut fail their checksums and are silently ignored), a database file
truncated to 0 bytes or rows deleted by hand all leave a log that opens cleanly and looks
complete, and a service that replays it starts ready with acknowledged events missing. The
mark is a few bytes written and fsync'd after each group commit and before any request of
that group is acknowledged: the highest ``seq`` and the number of events the log held. On
start the log must hold at least that much; if it does not, the loss is reported (how many
events, up to which seq) and the service stays unready until an operator decides: restore
a backup, or start once with ``--accept-log-loss`` to go on with what the log holds.

Why a checksum in the record: a mark torn by a crash in mid-write must be told from a
mark that says something; a torn mark is reported like a loss (the operator decides).
The record is far below one disk sector, so it is written in place (``pwrite`` + ``fsync``).
"""

from __future__ import annotations

import os
import re
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["AckMark", "IntegrityError", "Mark", "check_log"]

_RECORD = re.compile(rb"supsim-ack 1 seq=(\d+) events=(\d+) crc=(\d+)\n")


class IntegrityError(Exception):
    """The log does not hold what was acknowledged, or the database file is damaged."""


@dataclass(frozen=True, slots=True)
class Mark:
    seq: int
    events: int


def _payload(mark: Mark) -> bytes:
    return f"supsim-ack 1 seq={mark.seq} events={mark.events}".encode()


class AckMark:
    """The mark file beside the log (``<db>.ack``), 0600, rewritten in place after each commit."""

    def __init__(self, db: Path) -> None:
        self.path = db.with_name(db.name + ".ack")
        self._fd: int | None = None
        self._lock = threading.Lock()  # the writer thread and the acknowledging thread both write
        self._last = Mark(-1, -1)

    def read(self) -> Mark | None:
        """The last mark, None when there is none yet; :class:`IntegrityError` if it is torn."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not data:
            return None  # created, never written: nothing was acknowledged through it
        m = _RECORD.fullmatch(data)
        mark = Mark(int(m.group(1)), int(m.group(2))) if m else None
        if mark is None or int(m.group(3)) != zlib.crc32(_payload(mark)):  # type: ignore[union-attr]
            raise IntegrityError(f"{self.path}: the acknowledgement mark is unreadable ({data[:80]!r})")
        return mark

    def write(self, mark: Mark, *, reset: bool = False) -> None:
        """Record ``mark`` durably (fsync) before the commit it describes is acknowledged.

        A mark older than the last one written is skipped (marks of consecutive groups may
        be written by two threads); ``reset`` writes it anyway (the operator accepted a loss).
        """
        with self._lock:
            if not reset and mark.seq <= self._last.seq and mark.events <= self._last.events:
                return
            if self._fd is None:
                self._fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.fchmod(self._fd, 0o600)
            payload = _payload(mark)
            record = payload + f" crc={zlib.crc32(payload)}\n".encode()
            os.pwrite(self._fd, record, 0)
            os.ftruncate(self._fd, len(record))
            os.fsync(self._fd)
            self._last = mark

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def check_log(mark: Mark | None, *, max_seq: int, events: int, damage: list[str]) -> str | None:
    """Why the log cannot be trusted as it stands, or None.

    ``damage`` is what ``PRAGMA quick_check`` found; ``max_seq`` and ``events`` describe the
    log as opened.
    """
    if damage:
        return "integrity check failed: " + "; ".join(damage[:5])
    if mark is not None and (events < mark.events or max_seq < mark.seq):
        return (
            f"the log lost acknowledged events: {mark.events} were acknowledged up to seq {mark.seq}, "
            f"the log holds {events} up to seq {max_seq}; restore a backup, or restart with "
            "--accept-log-loss to go on with what the log holds"
        )
    return None
