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


_ENC = msgspec.json.Encoder()
_DEC = msgspec.json.Decoder(Alert)


def write_alerts(alerts: Iterable[Alert], path: str | Path) -> int:
    n = 0
    with Path(path).open("wb") as fh:
        for alert in alerts:
            fh.write(_ENC.encode(alert) + b"\n")
            n += 1
    return n


def read_alerts(path: str | Path) -> Iterator[Alert]:
    path = Path(path)
    with path.open("rb") as fh:
        for lineno, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    yield _DEC.decode(line)
                except msgspec.ValidationError as exc:
                    raise ValueError(f"{path}:{lineno}: {exc}") from None
