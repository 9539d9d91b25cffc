"""Network runs: the same seed gives byte-identical outputs on 1 or 2 workers, the network's
figures are the sums of its halls', partitions stream to disk, and the command line runs."""

from __future__ import annotations

import gzip
import zlib
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.contract.events import SourceHeartbeat, decode_event
from reports.evaluation.network import HallRecord, KpiCounts, NetworkAggregator, RuleCounts
from supsim.cli.main import main
from supsim.experiments.network.hall import PartitionResult
from supsim.experiments.network.run import HallLine, run_network
from supsim.experiments.network.store import CHUNK, PartitionWriter, iter_partition_events, partition_dir

COUNTY = Path(__file__).resolve().parent.parent / "scenarios" / "county_network.yaml"
DAYS = 2  # Monday and Tuesday: every kind of hall produces cases, cameras and alerts
DETERMINISTIC = ["network.json", "halls.jsonl", "metrics.json", "summary.md"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The county network run twice: in process on one worker, and by the CLI on two."""
    base = tmp_path_factory.mktemp("network")
    seen: list[tuple[int, bool]] = []

    def watch(result: PartitionResult) -> None:  # is the partition on disk when its result arrives?
        seen.append((result.index, (partition_dir(base / "one", result.index) / "events.jsonl.gz").exists()))

    run_network(COUNTY, out_dir=base / "one", workers=1, days=DAYS, progress=False, on_partition=watch)
    code = main(["run", str(COUNTY), "--out", str(base / "two"), "--workers", "2", "--days", str(DAYS), "-q"])
    assert code == 0
    (base / "seen.json").write_bytes(msgspec.json.encode(seen))
    return {"one": base / "one", "two": base / "two", "base": base}


def _lines(folder: Path) -> list[HallLine]:
    decoder = msgspec.json.Decoder(HallLine)
    return [decoder.decode(line) for line in (folder / "halls.jsonl").read_bytes().splitlines()]


def test_outputs_are_byte_identical_on_one_and_two_workers(runs: dict[str, Path]) -> None:
    one, two = runs["one"], runs["two"]
    parts = sorted(p.relative_to(one) for p in (one / "parts").rglob("*.gz"))
    assert parts == sorted(p.relative_to(two) for p in (two / "parts").rglob("*.gz"))
    assert len(parts) == 3 * 4  # four partitions of four halls, three files each
    for name in [*DETERMINISTIC, *map(str, parts)]:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    assert msgspec.json.decode((two / "timings.json").read_bytes())["workers"] == 2


def test_each_partition_is_on_disk_before_the_run_ends(runs: dict[str, Path]) -> None:
    seen = msgspec.json.decode((runs["base"] / "seen.json").read_bytes())
    assert sorted(i for i, _ in seen) == [0, 1, 2, 3]
    assert all(on_disk for _, on_disk in seen)


def test_network_figures_are_the_sums_of_the_halls(runs: dict[str, Path]) -> None:
    lines = _lines(runs["one"])
    metrics = msgspec.json.decode((runs["one"] / "metrics.json").read_bytes())["network"]
    assert [ln.hall.hall_id for ln in lines][:2] == ["HY", "HY_T01"]
    halls = [ln.hall for ln in lines]
    total = metrics["total"]
    assert total["halls"] == len(halls) == 16
    assert total["events"] == sum(h.events for h in halls)
    assert total["alerts"] == sum(h.alerts for h in halls)
    for field in ("tp", "fp", "fn", "episodes", "alerts"):
        assert total["overall"][field] == sum(getattr(h.overall, field) for h in halls)
    assert total["kpis"]["cases_seen"] == sum(h.kpis.cases_seen for h in halls)
    by_level = {g["key"]: g for g in metrics["levels"]}
    assert by_level["county"]["halls"] == 1 and by_level["township"]["halls"] == 15
    assert by_level["township"]["events"] == sum(h.events for h in halls if h.level == "township")
    disc_tp = sum(d.tp for h in halls for d in h.discipline)
    assert disc_tp > 0 and sum(r["tp"] for r in total["discipline"]) == disc_tp
    assert total["camera_halls"] == sum(h.cameras for h in halls)


def test_halls_lines_point_at_their_events(runs: dict[str, Path]) -> None:
    lines = _lines(runs["one"])
    line = next(ln for ln in lines if ln.hall.partition == 1 and ln.files.events[0] > 0)
    first, count = line.files.events
    events = list(iter_partition_events(partition_dir(runs["one"], 1) / "events.jsonl.gz"))
    mine = events[first : first + count]
    assert count == line.hall.events and {e.hall_id for e in mine} == {line.hall.hall_id}
    alerts = gzip.decompress((partition_dir(runs["one"], 1) / "alerts.jsonl.gz").read_bytes()).splitlines()
    assert sum(ln.files.alerts[1] for ln in lines if ln.hall.partition == 1) == len(alerts)


def test_the_command_line_prints_the_tables_and_the_files(runs: dict[str, Path]) -> None:
    summary = (runs["two"] / "summary.md").read_text(encoding="utf-8")
    assert "## By level" in summary and "township" in summary and "淡水街道" in summary
    timings = msgspec.json.decode((runs["two"] / "timings.json").read_bytes())
    assert timings["halls"] == 16 and timings["peak_rss_mb"] > 0
    assert set(timings["by_level"]) == {"county", "township"}


def test_hall_options_are_refused_for_a_hall_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    smoke = COUNTY.with_name("smoke.yaml")
    assert main(["run", str(smoke), "--workers", "2"]) == 2
    assert "--workers applies to network scenarios only" in capsys.readouterr().err


def _heartbeats(hall: str, n: int) -> Iterator[SourceHeartbeat]:
    t0 = datetime(2025, 11, 3, 9, tzinfo=timezone(timedelta(hours=8)))
    for i in range(n):
        yield SourceHeartbeat(
            event_id=f"{hall}-{i}", ts=t0 + timedelta(seconds=i), source_id="s", hall_id=hall
        )


def test_the_writer_streams_each_hall_to_disk_holding_at_most_one_chunk(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    writer = PartitionWriter(folder)
    held: list[int] = []

    def watched(hall: str, n: int) -> Iterator[SourceHeartbeat]:
        for event in _heartbeats(hall, n):
            held.append(writer.buffered_bytes)  # what the writer holds while it is being fed
            yield event

    big = 30_000  # several chunks of encoded lines
    first = writer.write_hall(watched("A", big), [], [])
    assert writer.buffered_bytes == 0
    assert max(held) < CHUNK + 1024 and len(held) == big
    # the hall is on disk and decodable before the partition is closed
    partial = (folder / "events.jsonl.gz.part").read_bytes()
    text = zlib.decompressobj(wbits=31).decompress(partial)
    assert text.count(b"\n") == big and decode_event(text.splitlines()[-1]).event_id == f"A-{big - 1}"
    size = writer.bytes_on_disk("events")
    second = writer.write_hall(_heartbeats("B", 10), [], [])
    assert writer.bytes_on_disk("events") > size
    writer.close()
    assert (first.events, second.events) == ((0, big), (big, 10))
    assert not list(folder.glob("*.part"))
    assert [e.hall_id for e in iter_partition_events(folder / "events.jsonl.gz")][-11:] == ["A"] + ["B"] * 10


def test_a_failed_partition_leaves_no_file_behind(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), PartitionWriter(tmp_path / "p") as writer:
        writer.write_hall(_heartbeats("A", 5), [], [])
        raise RuntimeError("the hall world failed")
    assert list((tmp_path / "p").iterdir()) == []


def _record(hall: str, level: str, city: str | None, k: int) -> HallRecord:
    rules = (RuleCounts(name="r1", episodes=k, alerts=k + 1, tp=k, fp=1, fn=0),)
    return HallRecord(
        hall_id=hall, name=hall, level=level, parent=None, city=city, template=level, departments=1,
        windows=k + 1, items=1, cases_per_day=1.0, cameras=bool(k % 2), partition=0, events=10 * k,
        truth_episodes=k, alerts=k + 1, late=0, future=0, duplicates=k, rules=rules,
        overall=RuleCounts(name="all", episodes=k, alerts=k + 1, tp=k, fp=1, fn=0), discipline=(),
        kpis=KpiCounts(cases_seen=5 * k, promised_closed=k, early_completed=k // 2, on_time_completed=k),
    )  # fmt: skip


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["city", "county"]), st.integers(0, 2), st.integers(0, 50)), max_size=30
    )
)
def test_levels_and_units_partition_the_total_in_any_order(rows: list[tuple[str, int, int]]) -> None:
    records = [_record(f"X_C{c}_{i}", level, f"X_C{c}", k) for i, (level, c, k) in enumerate(rows)]
    labels = {"X": "root", **{f"X_C{c}": f"city {c}" for c in range(3)}}
    reports = []
    for order in (records, records[::-1]):
        agg = NetworkAggregator(levels=["province", "city", "county"], unit_level="city", unit_labels=labels)
        for rec in order:
            agg.add(rec)
        reports.append(msgspec.json.encode(agg.report()))
    assert reports[0] == reports[1]  # arrival order does not matter
    report = msgspec.json.decode(reports[0])
    total = report["total"]
    assert total["events"] == sum(r.events for r in records)
    for groups in (report["levels"], report["units"]):
        assert sum(g["halls"] for g in groups) == total["halls"] == len(records)
        for field in ("tp", "fp", "fn"):
            assert sum(g["overall"][field] for g in groups) == total["overall"][field]
    closed = sum(r.kpis.promised_closed for r in records)
    expect = round(sum(r.kpis.early_completed for r in records) / closed, 6) if closed else None
    assert total["rates"]["early_completion_rate"] == expect
    assert Counter(g["key"] for g in report["levels"]) == Counter({lv for lv, _, _ in rows})


def test_a_dask_run_writes_the_same_bytes_as_a_local_one(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    run_network(COUNTY, out_dir=tmp_path / "local", workers=1, days=1, progress=False)
    run_network(COUNTY, out_dir=tmp_path / "dask", dask_address="local", days=1, progress=False)
    names = [
        *DETERMINISTIC,
        *(str(p.relative_to(tmp_path / "local")) for p in (tmp_path / "local").rglob("*.gz")),
    ]
    for name in names:
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes(), name
