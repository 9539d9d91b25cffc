"""The network board stays cheap with 1,000+ halls loaded: the figure ``docs/scale.md`` quotes.

1,061 halls (a province hall, 20 cities, 80 counties, 960 townships, ids as a network scenario
builds them), each with the scripted cases of :mod:`tests.network_streams`, are posted to an
in-process service; then the board of the root, a city and a county is asked for 30 times
each (about 6 s in all on a 2-core machine). The bound asserted (200 ms at the median) is
generous on purpose: the test guards against the board growing with the alert log or
scanning halls per unit, not the machine's speed.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from starlette.testclient import TestClient

from engine.contract import events as ev
from engine.service.app import create_app
from engine.service.auth import TokenSpec
from engine.service.config import ServiceConfig
from tests.case_streams import CaseScript, wd
from tests.network_streams import END, hall_stream
from tests.waiting import wait_ready

ADMIN = {"Authorization": "Bearer scale-admin-token-000", "Content-Type": "application/json"}


def _halls() -> list[str]:
    halls = ["GD"]
    for c in range(1, 21):
        city = f"GD_C{c:02d}"
        halls.append(city)
        for k in range(1, 5):
            county = f"{city}_K{k:02d}"
            halls += [county, *(f"{county}_T{t:02d}" for t in range(1, 13))]
    return halls


def _scripts(i: int) -> list[CaseScript]:
    """Varied halls: an open overdue case in one of three, a late close in one of five."""
    out = [CaseScript(case_id="A")]
    if i % 3 == 0:
        out.append(CaseScript(case_id="C", closed=None))
    if i % 5 == 0:
        out.append(CaseScript(case_id="B", closed=wd(9, "10:00")))
    return out


def test_the_board_answers_in_milliseconds_with_1000_halls(tmp_path: Path) -> None:
    halls = _halls()
    assert len(halls) == 1061
    # one hall in seven sends only its catalogue on Monday morning: silent since
    events = [
        e
        for i, h in enumerate(halls)
        for e in (hall_stream(h, _scripts(i), END) if i % 7 else hall_stream(h, [], None))
    ]
    cfg = ServiceConfig(
        db=str(tmp_path / "log.db"),
        tokens=[TokenSpec(token="scale-admin-token-000", role="admin")],
        queue_bound_events=200_000,
    )
    with TestClient(create_app(cfg)) as client:
        wait_ready(client)
        t0 = time.perf_counter()
        for i in range(0, len(events), 1000):
            payload = b"[" + b",".join(ev.encode_event(e) for e in events[i : i + 1000]) + b"]"
            assert client.post("/v1/events", content=payload, headers=ADMIN).status_code == 202
        load_s = time.perf_counter() - t0
        timings: dict[str, list[float]] = {}
        for unit in ("", "GD_C07", "GD_C07_K03"):
            for _ in range(30):
                t = time.perf_counter()
                r = client.get(f"/v1/board/network?unit={unit}", headers=ADMIN)
                timings.setdefault(unit or "root", []).append(time.perf_counter() - t)
                assert r.status_code == 200
        root = client.get("/v1/board/network", headers=ADMIN).json()
    assert root["total"]["halls"] == 1061 and root["total"]["reporting"] == 1061
    assert root["total"]["yellow"] == sum(1 for i in range(1061) if i % 3 == 0 and i % 7)  # C's card
    assert root["sources"]["silent_count"] == len(range(0, 1061, 7))  # no end heartbeat: silent
    report = {
        u: (statistics.median(t) * 1000, sorted(t)[int(0.95 * len(t))] * 1000) for u, t in timings.items()
    }
    print(f"\n{len(events)} events of 1,061 halls loaded in {load_s:.1f} s; board median / p95 ms:",
          {u: f"{m:.1f} / {p:.1f}" for u, (m, p) in report.items()})  # fmt: skip
    assert all(m < 200 for m, _ in report.values()), report
