"""Where a network run's data goes: one folder per partition, gzip-compressed JSON Lines.

Why gzip JSON Lines (``docs/scale.md`` has the measurements): the lines are the contract's
own encoding, so ``zcat events.jsonl.gz`` is exactly what a hall run writes and
:func:`engine.contract.events.iter_jsonl` reads it through :func:`gzip.open`; gzip at its
default level makes a week of ``county_network`` 18x smaller (6.3 MB for 115 MB; msgpack
under the same compression: 7.2 MB; Parquet with zstd: 4.0 MB but 2.4x slower to write)
for about an eighth of a hall's run time; and it needs nothing beyond the standard
library. msgpack would have turned every ``+08:00`` timestamp into UTC (its timestamp
extension keeps no offset), and Parquet wants one table per event kind and a new dependency.

Streaming: :class:`PartitionWriter` takes one hall at a time, encodes it in chunks of at
most :data:`CHUNK` bytes, and ends each hall with a gzip sync flush, so when
:meth:`PartitionWriter.write_hall` returns the hall is on disk and readable, and the
writer holds no more than one chunk. The three files are written as ``*.part`` and
renamed when the partition is complete, so a partition that exists is whole.
Output is byte-identical for identical input: no file name and a zero time stamp in the
gzip header.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, cast

import msgspec

from engine.contract.alerts import Alert
from engine.contract.events import Event, iter_jsonl
from sim.common.truth import Episode

__all__ = [
    "CHUNK",
    "FILES",
    "HallSlice",
    "PartitionWriter",
    "iter_partition_events",
    "partition_dir",
]

#: Bytes of encoded lines gathered before they are handed to the compressor.
CHUNK = 1 << 20
#: The data files of a partition (the names a hall run uses, compressed).
FILES = ("events", "truth", "alerts")
_SUFFIX = ".jsonl.gz"
_LEVEL = 6


class HallSlice(msgspec.Struct, frozen=True, kw_only=True):
    """Where one hall's lines sit in its partition's files: first line (0-based) and count."""

    events: tuple[int, int]
    truth: tuple[int, int]
    alerts: tuple[int, int]


def partition_dir(out: Path, index: int) -> Path:
    """The folder of partition ``index`` inside a run folder."""
    return out / "parts" / f"{index:05d}"


class _Stream:
    def __init__(self, path: Path, level: int) -> None:
        self.final = path
        self.part = path.with_name(path.name + ".part")
        self.raw: IO[bytes] = self.part.open("wb")
        self.gz = gzip.GzipFile(filename="", mode="wb", fileobj=self.raw, compresslevel=level, mtime=0)
        self.lines = 0
        self.buffer = bytearray()

    def write(self, records: Iterable[msgspec.Struct], encoder: msgspec.json.Encoder) -> tuple[int, int]:
        first = self.lines
        buf = self.buffer
        for record in records:
            encoder.encode_into(record, buf, len(buf))
            buf.extend(b"\n")
            self.lines += 1
            if len(buf) >= CHUNK:
                self.gz.write(buf)
                buf.clear()
        self.gz.write(buf)
        buf.clear()
        self.gz.flush(zlib.Z_SYNC_FLUSH)  # the hall is on disk and decodable from here
        return first, self.lines - first

    def close(self, keep: bool) -> None:
        self.gz.close()
        self.raw.close()
        if keep:
            self.part.replace(self.final)
        else:
            self.part.unlink(missing_ok=True)


class PartitionWriter:
    """Appends halls' events, truth and alerts to one partition's three files.

    Use as a context manager; the files get their final names only when the block ends
    without an exception.
    """

    def __init__(self, folder: Path, *, level: int = _LEVEL) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._encoder = msgspec.json.Encoder()
        self._streams = {name: _Stream(folder / f"{name}{_SUFFIX}", level) for name in FILES}
        self.halls = 0

    @property
    def buffered_bytes(self) -> int:
        """Encoded bytes held in memory and not yet given to the compressor (0 between halls)."""
        return sum(len(s.buffer) for s in self._streams.values())

    def lines(self, name: str) -> int:
        return self._streams[name].lines

    def bytes_on_disk(self, name: str) -> int:
        """Compressed bytes of ``name`` written so far (the ``.part`` file while open)."""
        s = self._streams[name]
        return (s.part if s.part.exists() else s.final).stat().st_size

    def write_hall(
        self, events: Iterable[Event], truth: Iterable[Episode], alerts: Iterable[Alert]
    ) -> HallSlice:
        """Append one hall; when this returns, the hall is on disk."""
        enc = self._encoder
        out = HallSlice(
            events=self._streams["events"].write(events, enc),
            truth=self._streams["truth"].write(truth, enc),
            alerts=self._streams["alerts"].write(alerts, enc),
        )
        self.halls += 1
        return out

    def close(self, *, keep: bool = True) -> None:
        for s in self._streams.values():
            s.close(keep)

    def __enter__(self) -> PartitionWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(keep=exc_type is None)


def iter_partition_events(path: Path) -> Iterator[Event]:
    """Events of a finished partition file, decoded lazily; errors name the file and line."""
    with gzip.open(path, "rb") as fh:
        yield from iter_jsonl(cast(IO[bytes], fh), name=str(path))
