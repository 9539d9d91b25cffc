"""The camera layer: the detector's error process, reproducibility, and the truth it labels."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import msgspec
import numpy as np

from engine.contract import events as ev
from engine.replay import detect
from engine.rules.rulebook import Rulebook
from reports.evaluation.discipline import evaluate_discipline
from sim.common.scenario import load_scenario
from sim.common.sections.cameras import Cameras, DetectorSpec, QueueSystemSpec
from sim.floor.detector import burst_mask, change_points, detect_frames
from sim.floor.tickets import queue_records
from sim.floor.waits import WindowWait, capacity_truth, window_waits
from sim.hall.world import SimResult, simulate

SMOKE = Path(__file__).resolve().parents[1] / "scenarios" / "smoke.yaml"


def test_burst_mask_has_the_share_and_the_burst_length() -> None:
    mask = burst_mask(2_000_000, 0.1, 8.0, np.random.default_rng(1))
    assert abs(mask.mean() - 0.1) < 0.01
    starts = np.flatnonzero(mask[1:] & ~mask[:-1])
    assert abs(mask.sum() / starts.size - 8.0) < 0.5


def test_detector_tpr_fpr_and_reproducibility() -> None:
    present = np.zeros(400_000, dtype=np.bool_)
    present[:200_000] = True
    spec = DetectorSpec(occlusion_rate=0.0)
    det, conf = detect_frames(present, spec, np.random.default_rng(3))
    assert abs(det[:200_000].mean() - 0.9) < 0.02
    assert abs(det[200_000:].mean() - 0.02) < 0.01
    assert conf[det == present].mean() > conf[det != present].mean() + 0.2
    det2, conf2 = detect_frames(present, spec, np.random.default_rng(3))
    assert np.array_equal(det, det2) and np.array_equal(conf, conf2)
    assert change_points(np.array([True, True, False, False, True])).tolist() == [0, 2, 4]


def _world(seed: int, queue_system: bool = True, **detector: float) -> SimResult:
    scenario = load_scenario(SMOKE)
    cams = Cameras(
        detector=msgspec.structs.replace(DetectorSpec(), **detector),
        queue_system=QueueSystemSpec(enabled=queue_system),
    )
    return simulate(msgspec.structs.replace(scenario, cameras=cams, days=2), seed=seed)


def test_camera_layer_is_reproducible_by_seed_and_adds_only_events() -> None:
    a, b, c = _world(5), _world(5), _world(6)
    enc = msgspec.json.encode
    assert enc(a.events) == enc(b.events) and enc(a.truth) == enc(b.truth)
    assert enc(a.events) != enc(c.events)
    plain = simulate(msgspec.structs.replace(load_scenario(SMOKE), days=2), seed=5)
    cases = [e for e in a.events if hasattr(e, "case_id") and not isinstance(e, ev.QueueTicket)]
    assert enc(cases) == enc([e for e in plain.events if hasattr(e, "case_id")])
    kinds = {type(e) for e in a.events}
    assert {ev.PresenceDetected, ev.CameraHeartbeat, ev.QueueCount, ev.StaffRoster, ev.StaffClockIn} <= kinds
    assert [e.ts for e in a.events] == sorted(e.ts for e in a.events)


def test_truth_kinds_and_no_absence_alerts_during_outages() -> None:
    world = _world(11, outage_rate=0.5)
    kinds = {ep.kind for ep in world.truth}
    assert {"post_absence", "legit_break", "camera_outage"} <= kinds
    for ep in world.truth:
        if ep.kind == "post_absence":
            assert ep.end is not None and ep.end > ep.onset and isinstance(ep.params["service_s"], float)
    result = detect(world.events, Rulebook.default(), calendar=world.calendar)
    report = evaluate_discipline(result.alerts, world.truth, calendar=world.calendar)
    assert report.absence_alerts_during_outages == 0
    offline = next(s for s in report.rules if s.rule == "discipline.camera_offline")
    assert offline.tp > 0


def test_queue_records_number_in_arrival_order_and_leave_abandoned_tickets_uncalled() -> None:
    cal = Rulebook.default().build_calendar()
    tz = cal.tz
    day = datetime(2025, 11, 3, tzinfo=tz)

    def wait(cid: str, a: int, c: int) -> WindowWait:
        return WindowWait(cid, "H", "D1", "S0", day + timedelta(minutes=a), day + timedelta(minutes=c))

    waits = [wait("B", 605, 625), wait("A", 600, 600), wait("C", 606, 650)]  # 10:00, 10:05, 10:06
    rec = queue_records(waits, {"S0": "W0"}, QueueSystemSpec(abandon_rate=0.0), cal, np.random.default_rng(1))
    assert rec.abandoned == []
    got = [(type(e).__name__, e.ticket, e.ts.strftime("%H:%M")) for e in rec.events]  # type: ignore[attr-defined]
    assert got == [
        ("QueueTicket", "D1-001", "10:00"),
        ("QueueCalled", "D1-001", "10:00"),
        ("QueueTicket", "D1-002", "10:05"),
        ("QueueCalled", "D1-002", "10:25"),
        ("QueueTicket", "D1-003", "10:06"),
        ("QueueCalled", "D1-003", "10:50"),
    ]
    # a call at its ticket's instant is ordered after it (the engine applies by (ts, event_id))
    assert rec.events[0].event_id < rec.events[1].event_id
    every = queue_records(
        waits, {"S0": "W0"}, QueueSystemSpec(abandon_rate=1.0), cal, np.random.default_rng(2)
    )
    assert len(every.abandoned) >= 1
    by_ticket = {e.ticket: e for e in every.events}  # type: ignore[attr-defined]
    assert len(every.events) == 2 * len(waits) + len(every.abandoned)
    turns = sorted(w.called for w in waits)
    for g in every.abandoned:
        assert g.abandoned and g.staff_id is None
        assert day + timedelta(minutes=600) < g.arrived < day + timedelta(minutes=606)
        assert g.arrived < g.called <= min(t for t in turns if t > g.arrived)
    uncalled = [t for t, e in by_ticket.items() if isinstance(e, ev.QueueTicket)]
    assert len(uncalled) == len(every.abandoned)
    # an abandoned holder who waited past the threshold is a capacity episode of the truth
    long = [WindowWait("x", "H", "D1", None, day + timedelta(hours=10), day + timedelta(hours=11), True)]
    assert len(capacity_truth(long, cal, wait_minutes=20.0, merge_minutes=5.0)) == 1


def test_camera_world_emits_a_ticket_and_call_per_walk_in_only_with_the_queue_system() -> None:
    on, off = _world(7), _world(7, queue_system=False)
    enc = msgspec.json.encode
    queue_kinds = (ev.QueueTicket, ev.QueueCalled)
    assert not any(isinstance(e, queue_kinds) for e in off.events)
    assert enc([e for e in on.events if not isinstance(e, queue_kinds)]) == enc(off.events)
    halls = {e.staff_id for e in on.events if isinstance(e, ev.StaffRoster)}
    waits = window_waits(on.events, halls)
    tickets = {e.case_id: e for e in on.events if isinstance(e, ev.QueueTicket) and e.case_id is not None}
    # numbers restart daily: a call belongs to the ticket of the same record stem
    calls = {e.event_id.removesuffix("-window"): e for e in on.events if isinstance(e, ev.QueueCalled)}
    assert waits and sorted(tickets) == sorted(w.case_id for w in waits)
    for w in waits:
        t = tickets[w.case_id]
        c = calls[t.event_id.removesuffix("-ticket")]
        assert t.ts == w.arrived and c.ts == w.called and c.ticket == t.ticket
    assert on.stats["queue_tickets"] >= len(waits)
