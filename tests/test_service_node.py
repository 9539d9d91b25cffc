"""A node of several processes: the partition map, the packed alert cursor and the merged answers."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.service.centre.trend import AlertTrend
from engine.service.centre.units import UnitTree
from engine.service.node.layout import NodeError, NodeLayout, check_logs, log_path, owner_of
from engine.service.node.merge import (
    CursorError,
    merge_metrics,
    merge_stats,
    pack_cursor,
    split_limit,
    unpack_cursor,
)


def test_the_owner_is_crc32_of_the_partition_so_any_client_can_compute_it() -> None:
    for hall in ("H1", "H4", "city_hall~17", "~trading", "~global"):
        assert owner_of(hall, 2) == zlib.crc32(hall.encode()) % 2
    assert {owner_of(h, 2) for h in ("H1", "H4")} == {0, 1}
    node = NodeLayout(processes=2, index=1, host="127.0.0.1", port=8000, peer_base=8001)
    assert node.owns("H4") and not node.owns("H1")
    assert [o["url"] for o in node.map()["owners"]] == ["http://127.0.0.1:8001", "http://127.0.0.1:8002"]  # type: ignore[index]
    with pytest.raises(NodeError, match=r"outside 0\.\.1"):
        NodeLayout(processes=2, index=2, host="127.0.0.1", port=8000, peer_base=8001)


def test_logs_of_another_process_count_are_refused_by_name(tmp_path: Path) -> None:
    db = tmp_path / "supsim.db"
    assert log_path(db, 1, 2) == tmp_path / "supsim-1of2.db"
    check_logs(db, 2)  # nothing there yet
    db.write_bytes(b"x")
    with pytest.raises(NodeError, match=r"supsim\.db .*same --processes"):
        check_logs(db, 2)
    check_logs(db, 1)
    db.unlink()
    log_path(db, 0, 3).write_bytes(b"x")
    with pytest.raises(NodeError, match=r"supsim-0of3\.db"):
        check_logs(db, 2)
    check_logs(db, 3)


@given(st.lists(st.integers(0, 2**31 - 1), min_size=2, max_size=2))
def test_a_node_cursor_holds_every_process_position(positions: list[int]) -> None:
    cursor = pack_cursor(positions)
    assert 0 <= cursor < 2**63
    assert unpack_cursor(cursor, 2) == positions


def test_a_cursor_that_does_not_fit_is_refused_not_wrapped() -> None:
    with pytest.raises(CursorError, match="does not fit 31 bits"):
        pack_cursor([2**31, 0])
    with pytest.raises(CursorError, match="not a cursor of this 2-process node"):
        unpack_cursor(2**62, 2)
    assert unpack_cursor(0, 3) == [0, 0, 0]


def test_a_page_limit_is_shared_so_no_page_is_cut() -> None:
    assert split_limit(5000, 2) == [2500, 2500]
    assert split_limit(5, 2) == [3, 2]
    assert split_limit(1, 2) == [1, 1]  # at least one each: a page then holds up to N alerts


def test_stats_add_counters_join_halls_and_are_ready_only_if_all_are() -> None:
    cal = {"covered": "2004..2026"}
    a = {"ready": True, "events_stored": 3, "ingest_rate": 1.25, "engine": {"late": 1}, "calendar": cal,
         "alerts_by_hall": {"H1": {"D": {"red": 1}}}, "quarantine": {},
         "alerts_by_rule": {"r": 2}}  # fmt: skip
    b = {"ready": False, "events_stored": 4, "ingest_rate": 0.5, "engine": {"late": 2}, "calendar": cal,
         "alerts_by_hall": {"H4": {"D": {"red": 2}}}, "quarantine": {"H4": {"held": 1}},
         "alerts_by_rule": {"r": 1}}  # fmt: skip
    out = merge_stats([a, b])
    assert out["ready"] is False
    assert out["events_stored"] == 7 and out["ingest_rate"] == 1.75 and out["engine"] == {"late": 3}
    assert out["alerts_by_hall"] == {"H1": {"D": {"red": 1}}, "H4": {"D": {"red": 2}}}
    assert out["quarantine"] == {"H4": {"held": 1}} and out["alerts_by_rule"] == {"r": 3}
    assert out["calendar"] == cal and out["processes"] == 2


def test_metrics_sum_each_sample_keep_families_whole_and_take_the_calendar_once() -> None:
    p0 = ("# HELP req Requests.\n# TYPE req counter\nreq{code=\"202\"} 5\n"
          "# HELP supsim_calendar_years_assumed Years.\n# TYPE supsim_calendar_years_assumed gauge\n"
          "supsim_calendar_years_assumed 1\n")  # fmt: skip
    p1 = ("# HELP req Requests.\n# TYPE req counter\nreq{code=\"202\"} 2\nreq{code=\"429\"} 1\n"
          "# HELP supsim_calendar_years_assumed Years.\n# TYPE supsim_calendar_years_assumed gauge\n"
          "supsim_calendar_years_assumed 1\n")  # fmt: skip
    lines = merge_metrics([p0, p1]).splitlines()
    assert lines == [
        "# HELP req Requests.", "# TYPE req counter", 'req{code="202"} 7', 'req{code="429"} 1',
        "# HELP supsim_calendar_years_assumed Years.", "# TYPE supsim_calendar_years_assumed gauge",
        "supsim_calendar_years_assumed 1",
    ]  # fmt: skip


def test_trends_of_two_processes_add_up() -> None:
    a, b = AlertTrend(UnitTree()), AlertTrend(UnitTree())
    a.add("H1", 7200.0)
    b.add("H4", 7300.0)
    b.add("H4", 10_900.0)
    node = AlertTrend(UnitTree())
    node.absorb(a.export())
    node.absorb(b.export())
    assert node.count("", 0, 20_000) == 3 and node.count("H4", 7200, 10_800) == 1
    assert node.newest == 10_900.0


def test_the_harness_sends_a_hall_to_its_owner_and_the_rest_to_the_public_port() -> None:
    from loadtests.routing import owner_url

    node = NodeLayout(processes=2, index=0, host="127.0.0.1", port=8000, peer_base=8001).map()
    assert (
        owner_url(node, "H1") == "http://127.0.0.1:8001" and owner_url(node, "H4") == "http://127.0.0.1:8002"
    )
    assert owner_url(node, None) is None  # tendering and global events: two owners, the node hands them over
    assert owner_url(None, "H1") is None  # a deployment without a partition map
