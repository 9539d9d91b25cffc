"""JSON Lines files of any msgspec record (alerts, truth episodes...).

Events have their own reader and writer in :mod:`engine.contract.events` (one tagged-union decoder
built once); everything else a run writes line by line goes through these two functions,
whose errors name the file and the line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import msgspec

__all__ = ["read_records", "write_records"]

_R = TypeVar("_R")
_ENCODER = msgspec.json.Encoder()


def write_records(records: Iterable[msgspec.Struct], path: str | Path) -> int:
    """Write records as JSON Lines; returns the count."""
    n = 0
    with Path(path).open("wb") as fh:
        for record in records:
            fh.write(_ENCODER.encode(record) + b"\n")
            n += 1
    return n


def read_records(path: str | Path, record_type: type[_R]) -> Iterator[_R]:
    """Records of one type from a JSON Lines file; errors name the file and line."""
    decoder = msgspec.json.Decoder(record_type)
    path = Path(path)
    with path.open("rb") as fh:
        for lineno, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    yield decoder.decode(line)
                except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
                    raise ValueError(f"{path}:{lineno}: {exc}") from None
