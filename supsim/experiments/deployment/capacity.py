"""The measured capacity a deployment is sized with, read from a result file.

Why only named fields: a result file holds many rates (every step of a capacity search has
its own ``events_per_s``, failing steps included), and sizing with the wrong one is silent.
So the node figure is read from fields that mean "what one node carried within its SLO"
and nothing else, and the field used is reported with its path:

* ``events_per_s_carried``: the halls-per-node capacity search
  (``tests/bench/test_bench_service.py::test_halls_per_node``, in a pytest-benchmark JSON
  under ``benchmarks[i].extra_info``): halls carried × the hall-scale peak, p99 ≤ 200 ms,
  nothing lost;
* ``node_events_per_s``: a capacity written by hand (another machine's measurement).

The NATS figure — events/s one replicated (R3) stream on three servers acknowledged — is
optional: ``cluster_ingest_events_per_s`` of the cluster bench
(``tests/bench/test_bench_cluster.py``) or ``nats_events_per_s``, in the same file or in a
second one. Without it the node figure stands in, which is stated in the output.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

__all__ = [
    "NATS_FIELDS",
    "NODE_FIELDS",
    "Capacity",
    "CapacityError",
    "Figure",
    "read_capacity",
    "read_figure",
]

NODE_FIELDS = ("events_per_s_carried", "node_events_per_s")
NATS_FIELDS = ("cluster_ingest_events_per_s", "nats_events_per_s")


class CapacityError(Exception):
    """A capacity file without a usable figure: names the file, the field and the reason."""

    def __init__(self, source: str, field: str, reason: str) -> None:
        super().__init__(f"{source}: `{field}` - {reason}")
        self.source, self.field, self.reason = source, field, reason


class Figure(msgspec.Struct, frozen=True, kw_only=True):
    """One measured rate and where it was read: file and JSON path."""

    events_per_s: float
    file: str
    field: str


class Capacity(msgspec.Struct, frozen=True, kw_only=True):
    """What one node carried, and what one R3 stream acknowledged (``None``: not measured)."""

    node: Figure
    nats: Figure | None = None


def _walk(obj: Any, path: str = "$") -> Iterator[tuple[str, str, Any]]:
    """Every (path, key, value) of a JSON document, depth first in document order."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield f"{path}.{key}", str(key), value
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(obj, list):
        for k, value in enumerate(obj):
            yield from _walk(value, f"{path}[{k}]")


def _load(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CapacityError(str(path), "$", f"cannot read the file ({exc.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CapacityError(str(path), "$", f"not JSON: {exc.msg} at line {exc.lineno}") from None


def _figure(path: Path, data: Any, fields: tuple[str, ...]) -> Figure | None:
    """The one figure among ``fields`` in ``data``; an error if it is unusable or ambiguous."""
    found = [(where, value) for where, key, value in _walk(data) if key in fields]
    for where, value in found:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or value <= 0:
            raise CapacityError(str(path), where, f"must be a positive number of events/s, got {value!r}")
    if not found:
        return None
    if len({float(v) for _, v in found}) > 1:
        listed = ", ".join(f"{w} = {v}" for w, v in found)
        raise CapacityError(str(path), found[1][0], f"more than one figure ({listed}); keep one in the file")
    where, value = found[0]
    return Figure(events_per_s=float(value), file=str(path), field=where)


def read_figure(path: str | Path, fields: tuple[str, ...]) -> Figure | None:
    """The one figure among ``fields`` in a result file (``None`` when it has none).

    An error names the file and the field when a figure is not a positive number, or when the
    file holds different figures under those names (a capacity search lists every step's
    rate: taking the first would size on the smallest step, silently).
    """
    p = Path(path)
    return _figure(p, _load(p), fields)


def read_capacity(path: str | Path, nats_path: str | Path | None = None) -> Capacity:
    """The node figure of ``path`` and the NATS figure of ``nats_path`` (else of ``path``, if any)."""
    path = Path(path)
    data = _load(path)
    node = _figure(path, data, NODE_FIELDS)
    if node is None:
        raise CapacityError(
            str(path),
            "$",
            f"no node capacity: expected one of {', '.join(NODE_FIELDS)} (the halls-per-node capacity "
            "search, docs/deployment.md)",
        )
    if nats_path is None:
        return Capacity(node=node, nats=_figure(path, data, NATS_FIELDS))
    other = Path(nats_path)
    nats = _figure(other, _load(other), NATS_FIELDS)
    if nats is None:
        raise CapacityError(str(other), "$", f"no NATS capacity: expected one of {', '.join(NATS_FIELDS)}")
    return Capacity(node=node, nats=nats)
