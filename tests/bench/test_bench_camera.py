"""Camera streams: per-frame generation rate, and the engine's events/s on camera traffic.

* Generation: ``detect_frames`` over one hour of 25 fps video for 100 windows (9 M frames),
  against the baseline of drawing the same number of plain uniforms with numpy (the least
  any generator must do per frame). Target: at least 1 M detections per second.
* Engine: the discipline rules on a camera stream of the smoke hall with cameras, against a
  plain dict loop that keeps the last verdict per window (the least a consumer must do).
"""

from __future__ import annotations

import time
from pathlib import Path

import msgspec
import numpy as np
import pytest

from engine.contract import events as ev
from engine.core import Engine
from engine.rules import DISCIPLINE_RULE_NAMES
from engine.rules.rulebook import Rulebook
from sim.common.scenario import load_scenario
from sim.common.sections.cameras import Cameras, DetectorSpec
from sim.floor.detector import detect_frames
from sim.hall.world import simulate

SMOKE = Path(__file__).resolve().parents[2] / "scenarios" / "smoke.yaml"


def _frames(n: int) -> int:
    rng = np.random.default_rng(7)
    present = np.ones(n, dtype=np.bool_)
    present[n // 3 : n // 2] = False
    det, _ = detect_frames(present, DetectorSpec(fps=25.0), rng)
    return int(det.sum())


def _uniforms(n: int) -> float:
    return float(np.random.default_rng(7).random(n).sum())


@pytest.mark.bench
def test_bench_per_frame_generation(benchmark: pytest.FixtureRequest) -> None:
    n = 100 * 3600 * 25
    t = time.perf_counter()
    _uniforms(n)
    base = n / (time.perf_counter() - t)
    benchmark.pedantic(_frames, args=(n,), rounds=3, iterations=1)  # type: ignore[attr-defined]
    rate = n / benchmark.stats.stats.min  # type: ignore[attr-defined]
    benchmark.extra_info.update(  # type: ignore[attr-defined]
        {
            "frames": n,
            "detections_per_s": round(rate),
            "uniforms_per_s": round(base),
            "ratio_to_numpy_uniforms": round(rate / base, 4),
        }
    )
    assert rate > 1_000_000


def _camera_stream() -> list[ev.Event]:
    scenario = load_scenario(SMOKE)
    world = simulate(msgspec.structs.replace(scenario, cameras=Cameras(), days=5), seed=3)
    return [e for e in world.events if not hasattr(e, "case_id")]


def _baseline(events: list[ev.Event]) -> int:
    last: dict[str, bool] = {}
    changes = 0
    for e in events:
        if isinstance(e, ev.PresenceDetected) and e.window_id is not None:
            if last.get(e.window_id) != e.present:
                changes += 1
            last[e.window_id] = e.present
    return changes


def _engine(events: list[ev.Event]) -> int:
    eng = Engine(Rulebook.default().with_enabled(*DISCIPLINE_RULE_NAMES))
    return len(eng.process_many(events)) + len(eng.finish())


@pytest.mark.bench
def test_bench_engine_on_camera_streams(benchmark: pytest.FixtureRequest) -> None:
    events = _camera_stream()
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        _baseline(events)
        best = min(best, time.perf_counter() - t)
    base = len(events) / best
    n_alerts = benchmark.pedantic(_engine, args=(events,), rounds=3, iterations=1)  # type: ignore[attr-defined]
    rate = len(events) / benchmark.stats.stats.min  # type: ignore[attr-defined]
    benchmark.extra_info.update(  # type: ignore[attr-defined]
        {
            "events": len(events),
            "alerts": n_alerts,
            "engine_events_per_s": round(rate),
            "dict_loop_events_per_s": round(base),
            "ratio_engine_to_dict_loop": round(rate / base, 4),
        }
    )
    assert n_alerts > 0
