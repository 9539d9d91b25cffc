"""The sizing's check through a local cluster: the comparison table, the pacing, and one bounded run.

The end-to-end test replays three halls of ``scenarios/county_network.yaml`` (one day; the
county hall and two townships, on both workers) for 5 minutes of event time at 30× through
3 NATS servers, 1 ingest process and 2 workers, and asserts that each worker consumed
exactly the events its halls were dealt, that nothing was lost, and that the report says so.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.contract import events as ev
from engine.service.cluster.chaos import BATCH_TICK_S, paced_batches
from engine.service.cluster.layout import partition_of_key
from supsim.experiments.deployment.cluster_check import (
    ClusterCheckResult,
    cluster_shape,
    render_cluster_check,
)
from supsim.experiments.deployment.cluster_processes import (
    ClusterProcess,
    compare_processes,
    cpu_seconds,
    extrapolate,
)
from supsim.experiments.deployment.sizing import size_deployment
from tests.test_plan_deployment import _capacity

ROOT = Path(__file__).resolve().parents[1]
COUNTY = ROOT / "scenarios" / "county_network.yaml"


def _halls_on(workers: int, partitions: int, want: int) -> list[str]:
    """Hall ids in order until every worker owns ``want`` of them (the cluster's own map)."""
    got: dict[int, list[str]] = {w: [] for w in range(workers)}
    k = 0
    while min(len(v) for v in got.values()) < want:
        h = f"H{k:03d}"
        w = partition_of_key(h, partitions) % workers
        if len(got[w]) < want:
            got[w].append(h)
        k += 1
    return [h for v in got.values() for h in v]


def test_compare_deals_halls_like_the_cluster_and_scales_by_the_compression() -> None:
    halls = _halls_on(2, 8, 2)  # two halls on each of two workers
    events = {h: 100 * (k + 1) for k, h in enumerate(halls)}  # 100, 200, 300, 400
    peaks = {h: 0.5 * (k + 1) for k, h in enumerate(halls)}
    rows = compare_processes(
        events, peaks, nats=3, ingest=2, workers=2, partitions=8, compression=10, load_s=20.0,
        measured_ingest={0: 600, 1: 400}, measured_workers={0: 300, 1: None},
        cpu={("nats", 0): 1.0, ("ingest", 0): 0.3, ("worker", 0): 0.6},
        idle_cpu_per_s={("nats", 0): 0.01, ("ingest", 0): 0.0, ("worker", 0): 0.02}, run_s=10.0,
    )  # fmt: skip
    by = {(r.role, r.index): r for r in rows}
    assert [r.role for r in rows] == ["nats"] * 3 + ["ingest"] * 2 + ["worker"] * 2
    # workers: exactly their halls' events; predicted peak = their halls' peaks x 10
    assert (by["worker", 0].halls, by["worker", 0].predicted_events) == (2, 300)
    assert (by["worker", 1].halls, by["worker", 1].predicted_events) == (2, 700)
    assert by["worker", 0].predicted_events_per_s == pytest.approx((0.5 + 1.0) * 10)
    assert by["worker", 1].predicted_events_per_s == pytest.approx((1.5 + 2.0) * 10)
    assert by["worker", 0].measured_events_per_s == pytest.approx(300 / 20)
    # CPU per event: what the process used above its idle rate over the same 10 s
    assert by["worker", 0].busy_cpu_s == pytest.approx(0.6 - 0.02 * 10)
    assert by["worker", 0].cpu_us_per_event == pytest.approx(1e6 * 0.4 / 300)
    # a process without a measurement shows none rather than a guess
    assert by["worker", 1].measured_events is None and by["worker", 1].measured_events_per_s is None
    assert by["worker", 1].cpu_us_per_event is None
    # ingest: an even share; NATS: every event on every server (R3)
    assert by["ingest", 1].predicted_events == 500 and by["ingest", 1].measured_events == 400
    assert by["ingest", 0].predicted_events_per_s == pytest.approx(5.0 * 10 / 2)
    assert by["nats", 0].predicted_events == 1000 and by["nats", 0].cpu_us_per_event == pytest.approx(900)
    assert by["nats", 1].cpu_s is None


def test_extrapolation_is_the_plans_full_scale_rate_times_the_measured_cpu_per_event() -> None:
    sizing = size_deployment(
        hall_peaks=[("H000", 50.0), ("H001", 30.0)], capacity=_capacity(100), headroom=0.2
    )
    rows = [
        ClusterProcess(role="worker", index=0, halls=1, predicted_events=100, measured_events=100,
                       predicted_events_per_s=1, measured_events_per_s=1, cpu_s=0.09, busy_cpu_s=0.05),
        ClusterProcess(role="worker", index=1, halls=1, predicted_events=300, measured_events=300,
                       predicted_events_per_s=1, measured_events_per_s=1, cpu_s=0.19, busy_cpu_s=0.15),
        ClusterProcess(role="ingest", index=0, halls=2, predicted_events=400, measured_events=400,
                       predicted_events_per_s=1, measured_events_per_s=1, cpu_s=0.2, busy_cpu_s=None),
    ]  # fmt: skip
    x = extrapolate(rows, sizing)
    assert "ingest" not in x  # no idle rate measured: no extrapolation
    assert x["worker"]["cpu_us_per_event"] == pytest.approx(500)
    full = sizing.workers.load_per_process_events_per_s
    assert x["worker"]["core_share"] == pytest.approx(full * 500e-6)


def test_cluster_shape_caps_the_plan_at_the_cores() -> None:
    many = [(f"H{k:03d}", 10.0) for k in range(100)]
    sizing = size_deployment(hall_peaks=many, capacity=_capacity(100, 5000), headroom=0.2)
    assert sizing.ingest.count > 2 and sizing.workers.count > 2
    assert cluster_shape(sizing, 2) == (2, 2)
    small = size_deployment(hall_peaks=many[:3], capacity=_capacity(100), headroom=0.2)
    assert cluster_shape(small, 8) == (small.ingest.count, small.workers.count) == (1, 1)


def _event(k: int, at: datetime) -> ev.Event:
    return ev.QueueCount(event_id=f"e{k}", ts=at, hall_id="H", camera_id="Q", zone="q", count=k)


def test_paced_batches_follow_event_time_or_spread_evenly() -> None:
    t0 = datetime(2025, 11, 3, 2, 0, tzinfo=UTC)
    events = [_event(k, t0 + timedelta(seconds=s)) for k, s in enumerate([0, 1, 2, 30, 31, 60])]
    even = paced_batches(events, 2, 9.0)
    assert [(at, [e.event_id for e in b]) for at, b in even] == [
        (0.0, ["e0", "e1"]), (3.0, ["e2", "e3"]), (6.0, ["e4", "e5"]),
    ]  # fmt: skip
    start = t0.timestamp()
    paced = paced_batches(events, 50, 0.0, lambda e: (e.ts.timestamp() - start) / 10)
    # 10x: events 0.1 s apart share a batch (within the tick), 3 s apart do not
    assert BATCH_TICK_S == 0.2
    assert [(round(at, 3), [e.event_id for e in b]) for at, b in paced] == [
        (0.0, ["e0", "e1", "e2"]), (3.0, ["e3", "e4"]), (6.0, ["e5"]),
    ]  # fmt: skip
    capped = paced_batches(events[:3], 2, 0.0, lambda e: -5.0)  # due before the start: at once, cut at 2
    assert [(at, len(b)) for at, b in capped] == [(0.0, 2), (0.0, 1)]


def test_cpu_seconds_reads_proc_and_says_none_for_a_missing_process() -> None:
    if not Path("/proc/self/stat").exists():
        pytest.skip("no /proc on this system")
    t = time.process_time()
    while time.process_time() - t < 0.05:
        pass
    mine = cpu_seconds(os.getpid())
    assert mine is not None and mine >= 0.04
    assert cpu_seconds(2**22 + 12345) is None


def _result(**over: object) -> ClusterCheckResult:
    base: dict[str, object] = dict(
        fraction=0.1, halls=3, minutes=5, compression=30.0, window_start=1762136340.0, events=1046,
        distinct_events=1042, reference_events=328, nats=3, ingest=1, workers=2, partitions=8,
        plan_ingest=1, plan_workers=1, started_here=False, load_s=10.0, settle_s=1.0, acknowledged=1046,
        resends=0, consumed=1042, lost=0, stored_duplicates=0, alerts_live=0, alerts_reference=0,
        alerts_missing=0, alerts_extra=0, alerts_differing=0,
        processes=(
            ClusterProcess(role="worker", index=0, halls=2, predicted_events=1000, measured_events=1000,
                           predicted_events_per_s=80, measured_events_per_s=50, cpu_s=0.5,
                           cpu_us_per_event=500),
            ClusterProcess(role="worker", index=1, halls=1, predicted_events=42, measured_events=42,
                           predicted_events_per_s=3, measured_events_per_s=4, cpu_s=0.1,
                           cpu_us_per_event=2381),
        ),
        extrapolation={
            "worker": {"full_scale_events_per_s": 5.6, "cpu_us_per_event": 500, "core_share": 0.0028}
        },
    )  # fmt: skip
    base.update(over)
    return ClusterCheckResult(**base)  # type: ignore[arg-type]


def test_ok_needs_every_event_consumed_and_each_worker_its_exact_share() -> None:
    assert _result().ok
    assert not _result(consumed=1041).ok
    assert not _result(lost=1).ok
    assert not _result(acknowledged=1000).ok
    assert not _result(alerts_missing=1).ok
    shifted = _result().processes[0]
    wrong = (
        ClusterProcess(
            **{**{f: getattr(shifted, f) for f in shifted.__struct_fields__}, "measured_events": 999}
        ),
        _result().processes[1],
    )
    assert not _result(processes=wrong).ok
    text = "\n".join(render_cluster_check(_result()))
    assert "given by --cluster-dir" in text and ": ok" in text
    assert "extrapolation, worker: the plan's 5.6 events/s" in text and "0.28% of one of these cores" in text
    assert "FAILED" in "\n".join(render_cluster_check(_result(lost=2)))
    capped = "\n".join(render_cluster_check(_result(started_here=True, plan_workers=12, plan_ingest=9)))
    assert "the plan's 9 ingest process(es) and 12 worker(s) capped" in capped


@pytest.mark.slow
def test_a_county_through_a_local_cluster_each_worker_consumes_exactly_its_deal(tmp_path: Path) -> None:
    import msgspec

    from engine.service.cluster.supervisor import down, up
    from sim.network.layout import layout_halls
    from sim.network.scenario import load_network
    from supsim.experiments.deployment.cluster_check import run_cluster_check
    from supsim.experiments.deployment.load import estimate_load, predicted_peaks

    t0 = time.monotonic()
    net = msgspec.structs.replace(load_network(COUNTY), days=1)
    halls = layout_halls(net)
    load = estimate_load(net, halls, sample=1, workers=1)
    sizing = size_deployment(
        hall_peaks=predicted_peaks(net, halls, load), capacity=_capacity(120), headroom=0.3
    )
    rulebook = str(COUNTY.parent / net.rulebook)
    d = tmp_path / "cluster"
    try:
        up(d, nats=3, ingest=1, workers=2, partitions=8, rulebook=rulebook, attached=True, timeout=60)
        c = run_cluster_check(
            net, halls, load, sizing, fraction=0.1, minutes=5, compression=30.0, rulebook=rulebook,
            directory=d, started_here=False,
        )  # fmt: skip
    finally:
        if (d / "cluster.json").exists():
            down(d)
    workers = [p for p in c.processes if p.role == "worker"]
    assert c.halls == 3 and len(workers) == 2 and all(w.halls for w in workers)  # both workers own halls
    for w in workers:  # the deal is deterministic: counts agree exactly
        assert w.predicted_events > 0 and w.measured_events == w.predicted_events, w
        assert w.cpu_s is not None and w.cpu_s > 0
    assert c.acknowledged == c.events > 500 and c.lost == 0 and c.stored_duplicates == 0
    assert c.consumed == c.distinct_events == sum(w.predicted_events for w in workers)
    assert (c.alerts_missing, c.alerts_extra, c.alerts_differing) == (0, 0, 0)
    ingest = [p for p in c.processes if p.role == "ingest"]
    assert ingest[0].measured_events is not None and ingest[0].measured_events >= c.distinct_events
    assert c.ok and set(c.extrapolation) >= {"worker", "nats"}
    assert time.monotonic() - t0 < 60
