"""The centre's network board: a unit's children, levels, worst halls, trend and silent sources."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from starlette.testclient import TestClient

from engine.contract import events as ev
from engine.service.app import create_app
from engine.service.auth import TokenSpec
from engine.service.centre.units import UnitInfo, UnitTree
from engine.service.config import ServiceConfig
from engine.service.halls import PartitionedEngine
from supsim.cli.serve import network_units
from tests.case_streams import wd
from tests.network_streams import END, UNITS, network_stream
from tests.waiting import wait_ready

ROOT = Path(__file__).resolve().parent.parent
ADMIN = {"Authorization": "Bearer net-admin-token-0000", "Content-Type": "application/json"}
SUPER = {"Authorization": "Bearer net-super-token-0000"}
WINDOW = {"Authorization": "Bearer net-window-token-000"}
TOKENS = [
    TokenSpec(token="net-admin-token-0000", role="admin"),
    TokenSpec(token="net-super-token-0000", role="supervisor"),
    TokenSpec(token="net-window-token-000", role="window", hall="HY"),
]


def _config(tmp_path: Path) -> ServiceConfig:
    return ServiceConfig(db=str(tmp_path / "log.db"), tokens=TOKENS)


def _post(client: TestClient, events: list[ev.Event]) -> None:
    for i in range(0, len(events), 500):
        payload = b"[" + b",".join(ev.encode_event(e) for e in events[i : i + 500]) + b"]"
        assert client.post("/v1/events", content=payload, headers=ADMIN).status_code == 202


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_config(tmp_path), units=UNITS)) as c:
        wait_ready(c)
        _post(c, network_stream())
        yield c


def _board(client: TestClient, query: str = "") -> dict[str, Any]:
    r = client.get(f"/v1/board/network{query}", headers=SUPER)
    assert r.status_code == 200, r.text
    return r.json()


def _counts(row: dict[str, Any]) -> tuple[Any, ...]:
    keys = ("halls", "warning", "yellow", "red", "open_cases", "closed", "overdue_rate", "early_rate")
    return tuple(row[k] for k in keys)


def test_the_county_board_counts_each_hall_exactly(client: TestClient) -> None:
    b = _board(client, "?unit=HY")
    assert b["unit"] == {"id": "HY", "name": "惠阳区", "level": "county"}
    assert [u["id"] for u in b["path"]] == ["", "HY"] and b["path"][0]["name"] == "惠阳区网络"
    assert b["counts"] == "open" and b["now"] == END.timestamp()
    rows = {r["id"]: r for r in b["children"]}
    assert [r["id"] for r in b["children"]] == ["HY", "HY_T01", "HY_T02", "HY_T03", "HY_T04"]
    assert rows["HY"]["own"] and not rows["HY_T01"]["own"]
    # halls, warning, yellow, red, open cases, closed, overdue rate, early rate
    assert _counts(rows["HY"]) == (1, 1, 1, 0, 1, 2, 0.5, 0.5)  # A early, B late, C open
    assert _counts(rows["HY_T01"]) == (1, 1, 1, 0, 1, 1, 0.0, 1.0)
    assert _counts(rows["HY_T02"]) == (1, 0, 0, 0, 0, 1, 1.0, 0.0)
    assert _counts(rows["HY_T03"]) == (1, 0, 0, 0, 0, 0, None, None)  # nothing closed: no rate
    assert _counts(rows["HY_T04"]) == (1, 0, 0, 0, None, None, None, None)  # never heard: unknown
    assert _counts(b["total"]) == (5, 2, 2, 0, 2, 4, 0.5, 0.5)  # over the 4 halls that report
    assert b["total"]["reporting"] == 4 and rows["HY_T04"]["reporting"] == 0
    levels = {r["level"]: r for r in b["levels"]}
    assert _counts(levels["county"]) == _counts(rows["HY"])
    assert levels["township"]["warning"] == 1 and levels["township"]["halls"] == 4
    assert [(w["id"], w["warning"], w["yellow"], w["red"]) for w in b["worst"]] == [
        ("HY", 1, 1, 0),
        ("HY_T01", 1, 1, 0),
    ]
    assert rows["HY"]["alerts_24h"] == 0  # the alerts were raised on 03-07 and 03-10


def test_the_trend_counts_alerts_per_local_day_and_hour(client: TestClient) -> None:
    b = _board(client, "?unit=HY")
    days = {datetime.fromtimestamp(d["start"], wd(0, "00:00").tzinfo).date().isoformat(): d["count"]
            for d in b["trend"]["days"]}  # fmt: skip
    assert len(days) == 14 and list(days)[-1] == "2025-03-12"
    assert {d: n for d, n in days.items() if n} == {"2025-03-07": 4, "2025-03-10": 4}
    assert b["tz_offset_s"] == 8 * 3600  # the default calendar's Asia/Shanghai: local midnights
    assert len(b["trend"]["hours"]) == 24 and sum(h["count"] for h in b["trend"]["hours"]) == 0
    at = _board(client, "?unit=HY_T02&now=2025-03-10T09:30:00%2B08:00")
    assert [h["count"] for h in at["trend"]["hours"]][-2:] == [0, 1]  # 09:05 in the hour of `now`
    assert sum(d["count"] for d in at["trend"]["days"]) == 2
    assert at["children"][0]["alerts_24h"] == 1


def test_silent_halls_are_named_with_their_last_event(client: TestClient) -> None:
    src = _board(client, "?unit=HY&silent_minutes=60")["sources"]
    assert src["silent_count"] == 2
    assert [(s["id"], s["last_event"]) for s in src["silent"]] == [
        ("HY_T04", None),  # in the network file, never heard from
        ("HY_T03", wd(0, "08:00").timestamp()),
    ]
    assert src["silent"][1]["silent_minutes"] == (END - wd(0, "08:00")).total_seconds() / 60
    assert _board(client, "?unit=HY&silent_minutes=20000")["sources"]["silent_count"] == 1


def test_the_root_and_a_hall_are_units_too(client: TestClient) -> None:
    root = _board(client)
    assert [r["id"] for r in root["children"]] == ["HY"] and root["children"][0]["halls"] == 5
    hall = _board(client, "?unit=HY_T01")
    assert [r["id"] for r in hall["children"]] == ["HY_T01"] and hall["children"][0]["own"]
    assert [u["id"] for u in hall["path"]] == ["", "HY", "HY_T01"]


def test_bad_queries_are_refused_naming_the_parameter(client: TestClient) -> None:
    r = client.get("/v1/board/network?unit=NOPE_T01", headers=SUPER)
    assert r.status_code == 404 and "NOPE_T01" in r.json()["error"]
    for query, name in (("silent_minutes=0", "silent_minutes"), ("worst=500", "worst"),
                        ("now=yesterday", "now"), ("unit=" + "x" * 200, "unit"),
                        # before: a 500 (no UTC offset for year 9999 or year 1 in the calendar's zone)
                        ("now=9999-12-31T23:59:59Z", "now"),
                        ("now=0001-01-01T00:00:00%2B01:00", "now")):  # fmt: skip
        r = client.get(f"/v1/board/network?{query}", headers=SUPER)
        assert r.status_code == 422 and f"`{name}`" in r.json()["error"], query
    assert client.get("/v1/board/network").status_code == 401
    assert client.get("/v1/board/network", headers=WINDOW).status_code == 403


def test_without_a_network_file_the_tree_comes_from_the_ids(tmp_path: Path) -> None:
    with TestClient(create_app(_config(tmp_path))) as c:
        wait_ready(c)
        _post(c, network_stream())
        b = _board(c, "?unit=HY")
        assert [r["id"] for r in b["children"]] == ["HY", "HY_T01", "HY_T02", "HY_T03"]
        assert b["unit"] == {"id": "HY", "name": "HY", "level": "top"}
        assert {r["level"] for r in b["levels"]} == {"top", "T"}


def test_a_restart_rebuilds_the_same_board(tmp_path: Path) -> None:
    with TestClient(create_app(_config(tmp_path), units=UNITS)) as c:
        wait_ready(c)
        _post(c, network_stream())
        before = _board(c, "?unit=HY")
    with TestClient(create_app(_config(tmp_path), units=UNITS)) as c:
        wait_ready(c)
        assert _board(c, "?unit=HY") == before


def test_a_network_file_whose_tree_is_not_its_ids_is_refused() -> None:
    with pytest.raises(ValueError, match="'HY_T01': its parent is 'XX'"):
        UnitTree({"HY_T01": UnitInfo("t", "township", parent="XX")})


def test_serve_names_the_units_of_a_network_file() -> None:
    units = network_units(str(ROOT / "scenarios" / "county_network.yaml"))
    assert units.label("HY") == ("惠阳区", "county") and units.label("HY_T03") == ("新圩镇", "township")
    assert units.label("") == ("county_network", "network") and len(list(units.halls())) == 16
    assert units.ancestors("HY_T03") == ("", "HY", "HY_T03")


def test_the_cluster_serves_the_same_board_from_raised_alerts(tmp_path: Path) -> None:
    """Fed by the ALERTS stream only: raised (not open) counts, the same trend, no KPIs or sources."""
    from engine.service.cluster.ingest_app import create_ingest_app
    from engine.service.cluster.layout import ClusterConfig, msg_id
    from engine.service.cluster.view import AlertsView, EventIndex

    tokens = tmp_path / "tokens.yaml"
    tokens.write_text("tokens:\n  - {token: net-super-token-0000, role: supervisor}\n")
    config = ClusterConfig(dir=str(tmp_path), port=1, nats_ports=[1], route_ports=[2], monitor_ports=[3],
                           ingest_ports=[4], tokens=str(tokens), nats=1)  # fmt: skip
    app = create_ingest_app(config)
    view = AlertsView(js=None)  # type: ignore[arg-type]
    for seq, a in enumerate(PartitionedEngine().process_many(network_stream()), start=1):
        view.add(seq, msg_id("alert", a.hall_id or "", a.alert_id), msgspec.json.encode(a))
    app.state.ingest.view, app.state.ingest.index_ = view, EventIndex(js=None)  # type: ignore[arg-type]
    client = TestClient(app)  # no lifespan: no NATS, the view is fed above
    b = _board(client, "?unit=HY")
    rows = {r["id"]: r for r in b["children"]}
    assert b["counts"] == "raised" and b["sources"] is None and b["now"] == wd(7, "09:05").timestamp()
    assert _counts(rows["HY"]) == (1, 2, 2, 0, None, None, None, None)  # B's alerts too: raised
    assert _counts(rows["HY_T02"]) == (1, 1, 1, 0, None, None, None, None)
    assert {d["count"] for d in b["trend"]["days"]} == {0, 4} and b["tz_offset_s"] == 8 * 3600
    assert client.get("/v1/board/network?unit=NOPE", headers=SUPER).status_code == 404
    assert client.get("/v1/board/network?worst=0", headers=SUPER).status_code == 422
