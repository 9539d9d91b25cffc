"""After a load run: pull what the deployment holds and compare it with the in-process run.

Why compare with an in-process run rather than with a fixed file: the only claim a load
test may make is "under this load the deployment did what the engine does without load".
So the harness asks the deployment which acknowledged events it holds (any missing one is
*lost*), pulls every alert, and compares them with the alerts the in-process engine raises
on the same events: an alert the engine raises and the deployment lacks is *missing*, one
the deployment has and the engine does not is *extra*, one with the same id and different
content is *differing*. All must be zero.

Only the standard library talks HTTP here, so the harness needs nothing the service
does not already need.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Sequence

import msgspec

from engine.contract.alerts import Alert

__all__ = ["Comparison", "compare_alerts", "fetch_alerts", "missing_events"]

_PAGE = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ALERTS = msgspec.json.Decoder(list[Alert])
_ENC = msgspec.json.Encoder()


class Comparison(msgspec.Struct, frozen=True, kw_only=True):
    live: int
    reference: int
    missing: list[str]
    extra: list[str]
    differing: list[str]

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.differing)


def _call(host: str, path: str, token: str, body: bytes | None = None, timeout: float = 60.0) -> bytes:
    req = urllib.request.Request(
        host.rstrip("/") + path,
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return bytes(resp.read())


def fetch_alerts(host: str, token: str, *, hall_suffixes: Sequence[str] | None = None) -> list[Alert]:
    """Every alert the deployment holds, following the cursor to the end."""
    out: list[Alert] = []
    cursor = 0
    while True:
        page = _PAGE.decode(_call(host, f"/v1/alerts?limit=5000&cursor={cursor}", token))
        out.extend(_ALERTS.decode(page["alerts"]))
        cursor = int(json.loads(bytes(page["next_cursor"])))
        if not json.loads(bytes(page["more"])):
            return out


def missing_events(host: str, token: str, keys: Sequence[tuple[str | None, str]]) -> list[str]:
    """Acknowledged events, as (hall, event id), the deployment does not hold (lost).

    The hall is part of the question: halls number their events independently, so event
    ``X`` of one hall says nothing about event ``X`` of another.
    """
    missing: list[str] = []
    for i in range(0, len(keys), 5000):
        items = [{"event_id": eid, "hall_id": hall} for hall, eid in keys[i : i + 5000]]
        answer = json.loads(_call(host, "/v1/events/known", token, _ENC.encode(items)))
        missing.extend(f"{m['hall_id'] or ''}/{m['event_id']}" for m in answer["missing"])
    return missing


def _key(a: Alert) -> str:
    """An alert's identity in a deployment: its hall and its id (ids repeat across halls)."""
    return f"{a.hall_id or ''}/{a.alert_id}"


def compare_alerts(live: Sequence[Alert], reference: Sequence[Alert]) -> Comparison:
    """Missing, extra and differing alerts by (hall, ``alert_id``) (content compared as JSON)."""
    live_by = {_key(a): _ENC.encode(a) for a in live}
    ref_by = {_key(a): _ENC.encode(a) for a in reference}
    return Comparison(
        live=len(live_by),
        reference=len(ref_by),
        missing=sorted(set(ref_by) - set(live_by)),
        extra=sorted(set(live_by) - set(ref_by)),
        differing=sorted(k for k in set(ref_by) & set(live_by) if ref_by[k] != live_by[k]),
    )
