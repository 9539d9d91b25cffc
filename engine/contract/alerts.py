"""The alert contract: what the engine says, and nothing about whether it is right.

An alert names the ``rule`` that raised it, its ``level`` (``warning`` / ``yellow`` /
``red``, or a rule-specific severity), the ``subject`` it is about (``case:<id>``,
``department:<id>``, ``staff:<id>``...), the event time ``ts`` at which the engine could
first know, and the ``evidence`` (event ids and values) that justifies it. ``alert_id`` is
derived from rule, level and subject, so a replay produces the same ids and a store can
deduplicate on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

import msgspec

from engine.contract.jsonl import read_records, write_records

__all__ = ["Alert", "alert_id", "read_alerts", "write_alerts"]

Evidence = dict[str, str | int | float | bool | list[str] | None]


class Alert(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    alert_id: str
    rule: str
    level: str
    subject: str
    ts: datetime
    hall_id: str | None = None
    department_id: str | None = None
    staff_id: str | None = None
    evidence: Evidence = msgspec.field(default_factory=dict)


def alert_id(rule: str, level: str, subject: str, discriminator: str = "") -> str:
    """A stable id: the same alert in a replay gets the same id."""
    tail = f":{discriminator}" if discriminator else ""
    return f"{rule}:{level}:{subject}{tail}"


def write_alerts(alerts: Iterable[Alert], path: str | Path) -> int:
    """Alerts as JSON Lines; returns the count."""
    return write_records(alerts, path)


def read_alerts(path: str | Path) -> Iterator[Alert]:
    """Alerts from a JSON Lines file; errors name the file and line."""
    return read_records(path, Alert)
