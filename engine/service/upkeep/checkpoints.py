"""WAL checkpoints from a thread of their own, so no group commit waits for one.

Why: in WAL mode SQLite appends every commit to the write-ahead log and, by default, the
connection whose commit takes the log past 1,000 pages copies the log back into the
database and fsyncs it (an *automatic checkpoint*) before that ``COMMIT`` returns. Under a
steady ingest of about 900 single-event requests a second that was one commit every second
or two taking 100–200 ms instead of 1–20 ms, and every request queued behind it waited as
long: the server's own p99 reached 500 ms with its core a fifth idle. At lower rates the
same checkpoints were rarer and shorter (a commit p99 of 8 ms), which is why they were not
seen before.

What it does: the writer's connection turns automatic checkpoints off
(:meth:`engine.service.store.EventStore.hand_off_checkpoints`) and this thread runs a
``PASSIVE`` checkpoint on its own connection every ``every_s``. A passive checkpoint never
takes the writer's lock: commits go on appending to the log while it copies what is already
there, and SQLite restarts the log from its beginning at the first commit after a checkpoint
that caught up. The sqlite3 module releases the GIL while SQLite works, so the copying and
its fsync cost the event loop nothing.

Durability is unchanged: a commit is durable once its log frames are synced
(``synchronous=FULL``), before any checkpoint. If this thread stopped, the log would grow
instead of being copied back (``supsim_wal_frames`` shows it); a failed checkpoint is logged
with its traceback and retried at the next tick.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

from engine.service.metrics import COMMIT_BUCKETS, Histogram

__all__ = ["Checkpointer"]

logger = logging.getLogger(__name__)


class Checkpointer:
    """A thread that runs ``PRAGMA wal_checkpoint(PASSIVE)`` on ``path`` every ``every_s``."""

    def __init__(self, path: Path, *, every_s: float = 0.5) -> None:
        self.path = path
        self.every_s = every_s
        self.seconds = Histogram(COMMIT_BUCKETS)
        self.frames_copied = 0
        self.wal_frames = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._con: sqlite3.Connection | None = None

    def start(self) -> None:
        self._con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._con.execute("PRAGMA busy_timeout = 5000")
        self._thread = threading.Thread(target=self._run, name="supsim-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, copy what is left, close the connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._con is not None:
            self.run_once()
            self._con.close()
            self._con = None

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.run_once()

    def run_once(self) -> None:
        """One passive checkpoint; its time and the frames it copied go to the series."""
        if self._con is None:
            return
        t0 = time.perf_counter()
        try:
            row = self._con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            self.failures += 1
            logger.exception("a WAL checkpoint failed; the next one retries")
            return
        self.seconds.observe(time.perf_counter() - t0)
        if row is not None and row[1] >= 0:
            frames, copied = int(row[1]), int(row[2])
            self.wal_frames = frames
            self.frames_copied += max(copied, 0)

    def render(self) -> str:
        """The checkpointer's Prometheus series."""
        lines = [
            "# HELP supsim_wal_checkpoint_seconds Time of one background WAL checkpoint.",
            "# TYPE supsim_wal_checkpoint_seconds histogram",
        ]
        self.seconds.render("supsim_wal_checkpoint_seconds", lines)
        lines += [
            "# HELP supsim_wal_frames Frames in the write-ahead log at the last checkpoint.",
            "# TYPE supsim_wal_frames gauge",
            f"supsim_wal_frames {self.wal_frames}",
            "# HELP supsim_wal_frames_copied_total Frames copied back into the database.",
            "# TYPE supsim_wal_frames_copied_total counter",
            f"supsim_wal_frames_copied_total {self.frames_copied}",
            "# HELP supsim_wal_checkpoint_failures_total Background checkpoints that failed.",
            "# TYPE supsim_wal_checkpoint_failures_total counter",
            f"supsim_wal_checkpoint_failures_total {self.failures}",
        ]
        return "\n".join(lines) + "\n"
