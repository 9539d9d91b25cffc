"""The replay plan: sources keep their order, copies are distinct halls, schedules are bounded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from engine.contract import events as ev
from loadtests.replay_plan import (
    compressed_offsets,
    hall_scale_peak,
    load_plan,
    make_plan,
    replicate,
    source_of,
    step_offsets,
    write_plan,
)
from loadtests.slo import SLO, judge
from sim.common.scenario import load_scenario
from sim.hall.world import simulate

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def stream() -> list[ev.Event]:
    return simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events


def test_plan_partitions_by_source_in_order_and_renames_copies(
    stream: list[ev.Event], tmp_path: Path
) -> None:
    plan = make_plan(stream, scenario="smoke", duration_s=20, halls=3)
    assert [s.source for s in plan.sources] == ["H1/window", "H1~r1/window", "H1~r2/window"]
    assert plan.events == 3 * len(stream)
    first = plan.sources[0]
    assert first.event_ids == [e.event_id for e in stream]
    decoded = [e for send in first.sends for e in ev.decode_events(send.body)]
    assert [e.event_id for e in decoded] == first.event_ids
    copy = [e for send in plan.sources[2].sends for e in ev.decode_events(send.body)]
    assert all(getattr(e, "hall_id", "").endswith("~r2") for e in copy)
    assert len(set(first.event_ids) & set(plan.sources[2].event_ids)) == 0
    ats = [s.at for s in first.sends]
    assert ats == sorted(ats) and ats[-1] <= 20 + 1.0
    write_plan(plan, tmp_path / "p.msgpack")
    assert load_plan(tmp_path / "p.msgpack") == plan


def test_same_ids_copies_differ_only_by_hall(stream: list[ev.Event]) -> None:
    """``--same-ids``: copies are other halls numbering their cases and events the same way."""
    plan = make_plan(stream, scenario="smoke", duration_s=20, halls=3, same_ids=True)
    assert plan.same_ids and [s.hall for s in plan.sources] == ["H1", "H1~r1", "H1~r2"]
    assert plan.sources[0].event_ids == plan.sources[2].event_ids == [e.event_id for e in stream]
    copy = [e for send in plan.sources[2].sends for e in ev.decode_events(send.body)]
    for original, twin in zip(stream, copy, strict=True):
        assert getattr(twin, "hall_id", None) == f"{getattr(original, 'hall_id', None)}~r2"
        assert ev.encode_event(twin) == ev.encode_event(
            msgspec.structs.replace(original, hall_id=twin.hall_id)
        )  # type: ignore[attr-defined]


def test_schedules() -> None:
    assert compressed_offsets([0, 10, 1000, 1010], 10.0, 5.0) == [0.0, 1.0, 6.0, 7.0]
    offs = step_offsets(30, [10, 20], 1.0)
    assert len(offs) == 30 and offs[10] == pytest.approx(1.0) and offs[11] == pytest.approx(1.05)


def test_hall_scale_peak_and_peak_plan(stream: list[ev.Event]) -> None:
    peak = hall_scale_peak(stream)
    plan = make_plan(stream, scenario="smoke", duration_s=5, peak=1.0)
    assert plan.peak_rate == pytest.approx(peak)  # busiest hour plays at 1 × hall-scale peak
    assert plan.events < len(stream)  # bounded by the duration


def test_slo_judgement() -> None:
    ok = judge(
        SLO(), requests=100, failures=0, p95_ms=10, p99_ms=20, delivered=99, planned=100, cpu_warning=False
    )
    assert ok.passed and ok.valid
    bad = judge(
        SLO(), requests=100, failures=5, p95_ms=10, p99_ms=900, delivered=50, planned=100, cpu_warning=True
    )
    assert not bad.passed and not bad.valid and len(bad.reasons) == 4


def test_copies_rename_joint_reviews_and_inspections_consistently() -> None:
    """A copy's absent department is one of the copy's invited ones, and its inspections are its own."""
    ts = datetime(2025, 3, 3, 9, tzinfo=UTC)
    review = {"hall_id": "H1", "case_id": "C1", "department_id": "D1", "review_id": "R1", "ts": ts}
    visit = {"hall_id": "H1", "department_id": "D1", "inspection_id": "V1", "ts": ts}
    events = [
        ev.JointReviewConvened(event_id="j1", invited=("D2", "D3"), **review),
        ev.JointReviewAbsent(event_id="j2", invitee="D3", **review),
        ev.InspectionFinding(event_id="v1", finding_id="F1", problem="delay", named=True, **visit),
    ]
    convened, absent, finding = replicate(events, 2)
    assert isinstance(convened, ev.JointReviewConvened) and isinstance(absent, ev.JointReviewAbsent)
    assert convened.invited == ("D2~r2", "D3~r2") and absent.invitee in convened.invited
    assert (convened.review_id, absent.review_id) == ("R1~r2", "R1~r2")
    assert isinstance(finding, ev.InspectionFinding)
    assert (finding.inspection_id, finding.finding_id) == ("V1~r2", "F1~r2")
    assert source_of(finding)[:2] == ("H1~r2/complaints", "complaints")


def _loadtest_refused_host(out: Path) -> int:
    """``supsim loadtest`` of the smoke hall against a port nothing listens on."""
    from supsim.cli.main import main

    return main(
        [
            "loadtest",
            str(ROOT / "scenarios" / "smoke.yaml"),
            "--host",
            "http://127.0.0.1:1",
            "--out",
            str(out),
        ]
    )


def test_an_unreachable_deployment_is_named_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was an httpx traceback, after the scenario had been simulated."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "lt"
    code = _loadtest_refused_host(out)
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach the deployment at http://127.0.0.1:1" in err
    assert "Traceback" not in err and not out.exists()


def test_a_deployment_lost_mid_run_fails_the_run_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    import supsim.cli.loadtest as lt

    def gone(*_: object) -> int:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    monkeypatch.setattr(lt, "_unreachable", lambda host: None)
    monkeypatch.setattr(lt, "drive", gone)
    out = tmp_path / "lt"
    code = _loadtest_refused_host(out)
    err = capsys.readouterr().err
    assert code == 1 and "FAILED: a request to the deployment at http://127.0.0.1:1 failed" in err
