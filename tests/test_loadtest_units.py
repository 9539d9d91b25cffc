"""Pieces of the load harness without Locust: hand-out of sources, busiest-hour replay,
warm-up exclusion from the SLOs, the warm-up gate and the capacity search."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine.contract import events as ev
from loadtests.capacity import Outcome, search_capacity
from loadtests.dealing import deal, share
from loadtests.replay_plan import busiest_hour, from_busiest_hour, make_plan
from loadtests.slo import install_slo_listener, judged_events
from loadtests.warmup import WarmupGate, drained, warmup_events
from sim.common.scenario import load_scenario
from sim.hall.world import simulate

ROOT = Path(__file__).resolve().parent.parent
_REF = (ev.ItemPublished, ev.StaffAuthorised)


@pytest.fixture(scope="module")
def stream() -> list[ev.Event]:
    return simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events


@dataclass(frozen=True)
class Src:
    name: str
    role: str


class User:
    def __init__(self, role: str) -> None:
        self.role = role


def test_share_gives_every_source_to_exactly_one_process() -> None:
    sources = [Src(f"s{i}", "window") for i in range(7)]
    parts = [share(sources, w, 3) for w in range(3)]
    assert [len(p) for p in parts] == [3, 2, 2]
    assert sorted((s for p in parts for s in p), key=lambda s: s.name) == sorted(
        sources, key=lambda s: s.name
    )
    assert parts[1] == [sources[1], sources[4]]  # plan order kept inside a share
    assert share(sources, 0, 0) == sources  # no worker count: one process takes all


def test_deal_prefers_the_sources_role_and_never_drops_a_source() -> None:
    windows = [Src(f"H{i}/window", "window") for i in range(5)]
    cams = [Src("H1/camera", "camera"), Src("H2/camera", "camera")]
    w1, w2, c1 = User("window"), User("window"), User("camera")
    dealt = deal([*windows, *cams], [w1, w2, c1])
    assert dealt[id(w1)] == [windows[0], windows[2], windows[4]] and dealt[id(w2)] == [windows[1], windows[3]]
    assert dealt[id(c1)] == cams
    # a process Locust gave no window user: its window sources go to whatever users it has
    only_cams = [User("camera"), User("camera")]
    dealt = deal(windows, only_cams)
    assert sorted(len(v) for v in dealt.values()) == [2, 3]
    assert sorted(s.name for v in dealt.values() for s in v) == sorted(s.name for s in windows)
    assert deal(windows, []) == {}


def test_from_busiest_hour_keeps_reference_data_first_then_the_peak(stream: list[ev.Event]) -> None:
    out = from_busiest_hour(stream)
    n_head = next(i for i, e in enumerate(out) if not isinstance(e, _REF))  # first case-side event
    start = min(e.ts.timestamp() for e in out[n_head:])
    start -= start % 3600  # the clock hour the replay starts in
    head = [e for e in out if isinstance(e, _REF) and e.ts.timestamp() < start]
    window = out[len(head) :]
    assert out[: len(head)] == head  # reference data of before the window comes first...
    assert head == [e for e in stream if isinstance(e, _REF) and e.ts.timestamp() < start]
    assert window == [e for e in stream if e.ts.timestamp() >= start]  # ...then the stream from the hour on
    in_hour = [e for e in window if e.ts.timestamp() < start + 3600 and not isinstance(e, _REF)]
    assert len(in_hour) == busiest_hour(stream) > 0  # and that hour is the busiest one
    assert len(out) < len(stream)  # case events before the window are dropped
    assert from_busiest_hour([]) == []


def test_settled_reference_data_is_applied_before_the_window(stream: list[ev.Event]) -> None:
    """With the rulebook's lateness the warm-up leaves nothing held for the judged window to apply."""
    from datetime import timedelta

    from engine.core import Engine
    from engine.rules.rulebook import Rulebook

    book = Rulebook.default()
    lateness = float(book.allowed_lateness)
    out = from_busiest_hour(stream, lateness_s=lateness)
    as_was = from_busiest_hour(stream)
    n_head = next(i for i, e in enumerate(out) if not isinstance(e, (*_REF, ev.SourceHeartbeat)))
    head, window = out[:n_head], out[n_head:]
    assert window == as_was[len(as_was) - len(window) :]  # the judged events are untouched
    refs = [e for e in head if isinstance(e, _REF)]
    beats = [e for e in head if isinstance(e, ev.SourceHeartbeat)]
    assert len(refs) == sum(isinstance(e, _REF) for e in as_was[: len(as_was) - len(window)]) > 0
    assert beats and head == refs + beats  # the reference data first, then the hall's clock moves on
    first = window[0].ts
    assert {e.ts for e in refs} == {first - timedelta(seconds=2 * lateness + 2)}
    assert {e.ts for e in beats} == {first - timedelta(seconds=lateness + 1)}
    assert all(first - e.ts > timedelta(seconds=lateness) for e in beats)  # beyond a judged event's lateness

    settled = Engine(book)
    settled.process_many(head)
    assert settled.stats["applied"] >= len(refs)  # applied during the warm-up
    as_was_engine = Engine(book)
    as_was_engine.process_many(as_was[: len(as_was) - len(window)])
    assert as_was_engine.stats["applied"] == 0  # before: all of it held until the judged window


class _Entry:
    def __init__(self, n: int, events: int, p95: float, p99: float) -> None:
        self.num_requests, self.num_failures, self.total_content_length = n, 0, events
        self._p = {0.95: p95, 0.99: p99}

    def get_response_time_percentile(self, q: float) -> float:
        return self._p[q]


class _Hook:
    def __init__(self) -> None:
        self.listeners: list[Any] = []

    def add_listener(self, f: Any) -> Any:
        self.listeners.append(f)
        return f


def test_warmup_is_excluded_from_the_slos(stream: list[ev.Event], tmp_path: Path) -> None:
    plan = make_plan(stream, scenario="smoke", duration_s=10, peak=50, from_busiest=True)
    warm = warmup_events(plan)
    assert plan.warmup_s > 0 and warm > 0
    assert judged_events(plan) == plan.events - warm
    judged = _Entry(n=40, events=judged_events(plan), p95=20.0, p99=60.0)
    warmup = _Entry(n=1, events=warm, p95=9000.0, p99=9000.0)
    stats = {("POST /v1/events", "POST"): judged, ("POST /v1/events (warm-up)", "POST"): warmup}

    class Env:
        runner = type("LocalRunner", (), {"cpu_warning_emitted": False})()
        process_exit_code: int | None = None

        class stats_:
            @staticmethod
            def get(name: str, method: str) -> _Entry:
                return stats[(name, method)]

    Env.stats = Env.stats_  # type: ignore[attr-defined]
    hooks = type("Events", (), {"quitting": _Hook()})()
    install_slo_listener(hooks, lambda: plan, tmp_path)
    env = Env()
    hooks.quitting.listeners[0](environment=env)
    verdict = (tmp_path / "slo.json").read_text()
    assert env.process_exit_code == 0, verdict  # the 9-second warm-up request is not judged
    assert f'"events_planned": {plan.events - warm}' in verdict
    assert (
        judged_events(make_plan(stream, scenario="smoke", duration_s=5))
        == make_plan(stream, scenario="smoke", duration_s=5).events
    )  # no warm-up: everything judged


def test_warmup_gate_waits_for_sources_and_the_deployment() -> None:
    now = [0.0]
    stats = [{"queue_events": 5, "events_stored": 100}, {"queue_events": 0, "events_stored": 90}]
    stats += [{"queue_events": 0, "events_stored": 100}]
    calls: list[float] = []

    def fetch() -> dict[str, int]:
        calls.append(now[0])
        return stats[min(len(calls) - 1, len(stats) - 1)]

    def sleep(s: float) -> None:
        now[0] += s
        if now[0] >= 1.0 and gate.left:
            gate.source_done()

    gate = WarmupGate(1, 100, max_s=10, sleep=sleep, clock=lambda: now[0], poll_s=0.5)
    opened = gate.wait(fetch)
    assert calls[0] >= 1.0  # no stats poll before this process's own warm-up was acknowledged
    assert opened == pytest.approx(2.0) and not gate.timed_out  # queue empty AND all stored
    stuck = WarmupGate(0, 100, max_s=3, sleep=sleep, clock=lambda: now[0], poll_s=0.5)
    assert stuck.wait(lambda: {"queue_events": 7}) >= now[0] - 1e-9 and stuck.timed_out
    assert not drained({}, 0) and drained({"queue_events": 0, "events_stored": 0}, 0)


def test_capacity_search_doubles_then_bisects() -> None:
    def upto(limit: int) -> Any:
        def run(k: int) -> Outcome:
            return "pass" if k <= limit else "fail"

        return run

    found, steps = search_capacity(upto(37), tolerance=0.125)
    assert [k for k, _ in steps][:7] == [1, 2, 4, 8, 16, 32, 64]
    assert 37 - 37 * 0.125 <= found <= 37 and len(steps) <= 12
    assert search_capacity(upto(0))[0] == 0
    assert search_capacity(upto(10**6), max_level=64)[0] == 64
    invalid, steps = search_capacity(lambda k: "invalid" if k >= 8 else "pass")
    assert invalid == 4 and steps[-1] == (8, "invalid")
    runs: list[Outcome] = ["pass", "fail", "pass", "fail", "fail", "pass"]  # level 2 fails once, then passes
    flaky = iter(runs)
    found, steps = search_capacity(lambda k: next(flaky), max_level=8, retries=1)
    assert steps == [(1, "pass"), (2, "fail"), (2, "pass"), (4, "fail"), (4, "fail"), (3, "pass")]
    assert found == 3
    assert search_capacity(upto(5), start=8)[0] == 5  # a failing start bisects below it


def test_sources_flush_on_staggered_ticks(stream: list[ev.Event]) -> None:
    def phases(stagger: bool) -> list[set[float]]:
        plan = make_plan(stream, scenario="smoke", duration_s=20, halls=4, stagger=stagger)
        return [{round(s.at % 1.0, 6) for s in src.sends} for src in plan.sources]

    assert phases(False) == [{0.0}] * 4  # phase-locked: every source posts on the same instants
    staggered = phases(True)
    assert staggered == [{0.0}, {0.75}, {0.5}, {0.25}]  # source k of 4 flushes k/4 of a tick early
    plan = make_plan(stream, scenario="smoke", duration_s=20, halls=4, from_busiest=True, peak=4)
    for src in plan.sources:  # a staggered send never precedes the warm-up's end or its own events
        judged = [s.at for s in src.sends if s.at >= plan.warmup_s]
        assert all(at > plan.warmup_s for at in judged)
        assert judged_events(plan) == sum(s.n for x in plan.sources for s in x.sends) - warmup_events(plan)
