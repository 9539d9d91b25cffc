"""Whether a run folder's files are the ones its ``metrics.json`` describes.

``supsim run`` records the SHA-256 of ``events.jsonl``, ``truth.jsonl`` and ``alerts.jsonl``
in ``metrics.json``. Anything that changes one of them afterwards (an interrupted run into
the same folder, ``supsim detect`` writing its alerts there, an edit by hand) makes every
figure in ``metrics.json`` and ``summary.md`` describe files that are no longer there. A
report built from such a folder would mislead, so the report checks the digests first and
refuses, naming the files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["DIGESTED_FILES", "RunFolderError", "check_run_files", "read_metrics", "sha256_of"]

#: The files whose digests ``metrics.json`` records, with the key it records them under.
DIGESTED_FILES = {
    "events.jsonl": "events_sha256",
    "truth.jsonl": "truth_sha256",
    "alerts.jsonl": "alerts_sha256",
}


class RunFolderError(ValueError):
    """A run folder whose files cannot be trusted or read (the message names the files)."""


def read_metrics(run: Path) -> dict[str, Any]:
    """``run/metrics.json`` as a mapping, or :class:`RunFolderError` naming the file and where it breaks.

    Its own digest cannot be recorded inside it, so an edited or truncated file is caught here.
    """
    path = run / "metrics.json"
    try:
        metrics = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise RunFolderError(
            f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); it was edited or cut "
            f"short after `supsim run` wrote it. Run the scenario again (`supsim run SCENARIO --out {run}`)."
        ) from None
    except UnicodeDecodeError as exc:
        raise RunFolderError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not isinstance(metrics, dict):
        raise RunFolderError(
            f"{path}: holds a JSON {type(metrics).__name__}, not the object `supsim run` writes"
        )
    return metrics


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_run_files(run: Path, metrics: Mapping[str, Any]) -> None:
    """Raise :class:`RunFolderError` unless every digested file matches ``metrics.json``."""
    problems = []
    for name, key in DIGESTED_FILES.items():
        want = metrics.get(key)
        path = run / name
        if want is None:
            problems.append(f"metrics.json records no {key}")
        elif not path.is_file():
            problems.append(f"{name} is missing")
        elif sha256_of(path) != want:
            problems.append(f"{name} is not the file metrics.json describes (SHA-256 differs)")
    if problems:
        raise RunFolderError(
            f"{run}: " + "; ".join(problems) + ". The folder changed after `supsim run` wrote it (an "
            "interrupted run into the same folder, `supsim detect` writing there, or an edit); its figures "
            f"would not describe its files. Run the scenario again (`supsim run SCENARIO --out {run}`)."
        )
