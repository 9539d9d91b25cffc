"""A small network of halls with known alerts, for the centre's network board tests.

Four township halls under the county ``HY`` (whose own hall is ``HY``), each from the scripted
cases of :mod:`tests.case_streams` (the week of Monday 2025-03-03), retargeted to the hall:

* ``HY``: case A closes on Wednesday (early), case B closes a week late (warned and overdue),
  case C never closes (its warning and yellow card stay open);
* ``HY_T01``: A and C; ``HY_T02``: B; ``HY_T03``: only its catalogue, on Monday 08:00 (silent);
* ``HY_T04`` is in the network file only: never heard from.

Every hall's stream ends with a heartbeat at Wednesday 2025-03-12 12:00 (the network's stream
time). Each event is followed by a heartbeat of a second source at the same instant, so the
engine (which has no wall clock in the service) accepts the stream's jumps over nights.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from engine.contract import events as ev
from engine.service.centre.units import UnitInfo, UnitTree
from tests.case_streams import CaseScript, case_events, reference_events, wd

__all__ = ["END", "UNITS", "hall_stream", "network_stream"]

END = wd(9, "12:00")
_A = CaseScript(case_id="A")
_B = CaseScript(case_id="B", closed=wd(9, "10:00"))
_C = CaseScript(case_id="C", closed=None)

UNITS = UnitTree(
    {
        "HY": UnitInfo("惠阳区", "county"),
        **{f"HY_T0{i}": UnitInfo(f"镇{i}", "township", parent="HY") for i in range(1, 5)},
    },
    name="惠阳区网络",
)


def hall_stream(hall: str, scripts: list[CaseScript], end: datetime | None) -> list[ev.Event]:
    """One hall's scripted cases (ids prefixed by the hall), confirmed by a second source."""
    out: list[ev.Event] = []
    for e in reference_events() + [x for s in scripts for x in case_events(s)]:
        out.append(msgspec.structs.replace(e, hall_id=hall, event_id=f"{hall}:{e.event_id}"))
    if end is not None:
        out.append(ev.SourceHeartbeat(event_id=f"{hall}:end", ts=end, source_id=f"end-{hall}", hall_id=hall))
    out.sort(key=lambda e: e.ts)
    confirmed: list[ev.Event] = []
    for e in out:
        confirmed.append(e)
        confirmed.append(
            ev.SourceHeartbeat(event_id=f"{e.event_id}:hb", ts=e.ts, source_id=f"gw-{hall}", hall_id=hall)
        )
    return confirmed


def network_stream() -> list[ev.Event]:
    return (
        hall_stream("HY", [_A, _B, _C], END)
        + hall_stream("HY_T01", [_A, _C], END)
        + hall_stream("HY_T02", [_B], END)
        + hall_stream("HY_T03", [], None)
    )
