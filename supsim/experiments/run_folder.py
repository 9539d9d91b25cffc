"""Writing a run folder so that an interrupted run never leaves one that looks complete.

A run writes seven files, the event stream alone often tens of megabytes. Written in place,
a Ctrl-C half-way would leave the previous run's ``metrics.json`` beside a cut-off
``events.jsonl``: a folder that looks finished and describes files that are not there. So
the files are written into a hidden staging folder inside the run folder and moved into
place only once all are complete, ``metrics.json`` (the manifest, with the digests of the
data files) removed first and moved last. An interruption while writing leaves the previous
run untouched; one during the moves (a few renames) leaves no ``metrics.json``, which
``supsim report`` refuses. Files of the folder that a run does not write (a report, a
sweep) stay where they are.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec

__all__ = ["MANIFEST", "staged", "write_json"]

MANIFEST = "metrics.json"


@contextmanager
def staged(out: Path) -> Iterator[Path]:
    """Yield a staging folder to write a run into; publish its files into ``out`` on success."""
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".partial-", dir=out))
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    _publish(stage, out)


def _publish(stage: Path, out: Path) -> None:
    (out / MANIFEST).unlink(missing_ok=True)
    names = sorted(p.name for p in stage.iterdir())
    for name in names:
        if name != MANIFEST:
            os.replace(stage / name, out / name)
    if MANIFEST in names:
        os.replace(stage / MANIFEST, out / MANIFEST)
    stage.rmdir()


def write_json(path: Path, value: object) -> None:
    """``value`` as indented JSON with a final newline (the run folder's JSON files)."""
    path.write_bytes(msgspec.json.format(msgspec.json.encode(value), indent=2) + b"\n")
