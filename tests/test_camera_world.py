"""The camera layer: the detector's error process, reproducibility, and the truth it labels."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np

from engine import events as ev
from engine.rulebook import Rulebook
from engine.runtime import detect
from reports.discipline import evaluate_discipline
from sim.camera_detector import burst_mask, change_points, detect_frames
from sim.camera_spec import Cameras, DetectorSpec
from sim.scenario import load_scenario
from sim.world import SimResult, simulate

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


def _world(seed: int, **detector: float) -> SimResult:
    scenario = load_scenario(SMOKE)
    cams = Cameras(detector=msgspec.structs.replace(DetectorSpec(), **detector))
    return simulate(msgspec.structs.replace(scenario, cameras=cams, days=2), seed=seed)


def test_camera_layer_is_reproducible_by_seed_and_adds_only_events() -> None:
    a, b, c = _world(5), _world(5), _world(6)
    enc = msgspec.json.encode
    assert enc(a.events) == enc(b.events) and enc(a.truth) == enc(b.truth)
    assert enc(a.events) != enc(c.events)
    plain = simulate(msgspec.structs.replace(load_scenario(SMOKE), days=2), seed=5)
    cases = [e for e in a.events if hasattr(e, "case_id")]
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
