"""Whole-node answers assembled from each process's own: pure functions, no I/O.

Why sums and unions suffice: every hall lives in exactly one process, so per-hall maps
(``open_cases``, ``alerts_by_hall``, ``quarantine``…) never collide and counters add up.
What is the same in every process (the calendar's coverage) is taken once.

Why the alert cursor packs one position per process into the one integer the API has
always answered: clients keep ``next_cursor`` as an integer (the harness, the centre
page, consoles), and a cursor that names every process's position lets a console tail
the node without the processes sharing a sequence. With N processes each position gets
``63 // N`` bits (2³¹ alerts per process with 2); :func:`pack_cursor` refuses a position
that does not fit rather than wrap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "CursorError",
    "merge_metrics",
    "merge_stats",
    "pack_cursor",
    "split_limit",
    "unpack_cursor",
]

_SAME_IN_EVERY_PROCESS = ("supsim_calendar_",)
_LARGEST_OVER_PROCESSES = ("supsim_gc_pause_longest_", "supsim_event_loop_lag_longest_")


class CursorError(ValueError):
    """A cursor that is not a node cursor of this many processes."""


def _bits(processes: int) -> int:
    return 63 // processes


def pack_cursor(positions: Sequence[int]) -> int:
    """One integer holding every process's alert position (process 0 in the low bits)."""
    bits = _bits(len(positions))
    out = 0
    for i, pos in enumerate(positions):
        if not 0 <= pos < (1 << bits):
            raise CursorError(f"alert position {pos} of process {i} does not fit {bits} bits")
        out |= pos << (bits * i)
    return out


def unpack_cursor(cursor: int, processes: int) -> list[int]:
    bits = _bits(processes)
    if cursor >> (bits * processes):
        raise CursorError(f"cursor {cursor} is not a cursor of this {processes}-process node")
    mask = (1 << bits) - 1
    return [(cursor >> (bits * i)) & mask for i in range(processes)]


def split_limit(limit: int, processes: int) -> list[int]:
    """A page's ``limit`` shared over the processes (each at least 1), so no page is cut."""
    base, extra = divmod(limit, processes)
    return [max(1, base + (1 if i < extra else 0)) for i in range(processes)]


def _add(into: dict[str, Any], part: Mapping[str, Any]) -> None:
    for key, value in part.items():
        if isinstance(value, bool):
            into[key] = into.get(key, True) and value
        elif isinstance(value, int | float):
            into[key] = into.get(key, 0) + value
        elif isinstance(value, Mapping):
            _add(into.setdefault(key, {}), value)
        else:
            into.setdefault(key, value)


def merge_stats(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``/v1/stats`` of the node: counters summed, per-hall maps joined, ``ready`` only if all are.

    ``calendar`` is the same in every process and taken from the first; ``ingest_rate`` is
    rounded again after the sum.
    """
    out: dict[str, Any] = {}
    for part in parts:
        rest = {k: v for k, v in part.items() if k != "calendar"}
        _add(out, rest)
    if parts and "calendar" in parts[0]:
        out["calendar"] = parts[0]["calendar"]
    if "ingest_rate" in out:
        out["ingest_rate"] = round(out["ingest_rate"], 3)
    out["processes"] = len(parts)
    return out


def merge_metrics(texts: Sequence[str]) -> str:
    """Prometheus text of the node: each sample summed over processes, grouped by family.

    A sample belongs to the family of the ``# TYPE`` line above it; families keep the order
    in which they first appear, samples too. Families that say the same thing in every
    process (the calendar's) are taken once; a longest pause is the longest of any process.
    """
    families: dict[str, list[str]] = {}  # family → its HELP/TYPE lines
    samples: dict[str, dict[str, float]] = {}  # family → sample key → value
    for text in texts:
        family = ""
        for line in text.splitlines():
            if not line:
                continue
            if line.startswith("# "):
                family = line.split(" ", 3)[2]
                heads = families.setdefault(family, [])
                if len(heads) < 2 and line not in heads:
                    heads.append(line)
                samples.setdefault(family, {})
                continue
            key, _, value = line.rpartition(" ")
            seen = samples.setdefault(family, {})
            if key not in seen:
                seen[key] = float(value)
            elif key.startswith(_LARGEST_OVER_PROCESSES):
                seen[key] = max(seen[key], float(value))
            elif not key.startswith(_SAME_IN_EVERY_PROCESS):
                seen[key] += float(value)
    lines: list[str] = []
    for family, seen in samples.items():
        lines.extend(families.get(family, []))
        for key, v in seen.items():
            lines.append(f"{key} {int(v) if v.is_integer() else round(v, 6)}")
    return "\n".join(lines) + "\n"
