"""A hall with two sending systems gives the same alerts whatever the order their feeds interleave in."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from engine.contract import events as ev
from engine.service.auth import TokenSpec
from engine.service.halls import reference_alerts
from engine.service.senders import hall_senders, sender_of
from loadtests.compare import compare_alerts, fetch_alerts
from sim.hall.world import SimResult
from tests.service_process import serving
from tests.test_complaints_world import _with_complaints

LAG_S = 9 * 3600  # one tick of a month fitted into 10 s spans about this much event time


@pytest.fixture(scope="module")
def world() -> SimResult:
    return _with_complaints(days=20)


def _held_back(events: list[ev.Event], lag_s: float) -> list[ev.Event]:
    """Each feed in its order; a complaints record sent only once the terminals are ``lag_s`` past it."""
    terminals = [e for e in events if not sender_of(e).endswith("/complaints")]
    platform = [e for e in events if sender_of(e).endswith("/complaints")]
    out: list[ev.Event] = []
    j = 0
    for e in terminals:
        while j < len(platform) and platform[j].ts + timedelta(seconds=lag_s) <= e.ts:
            out.append(platform[j])
            j += 1
        out.append(e)
    return out + platform[j:]


def test_senders_are_named_by_the_role_that_may_post_and_halls_get_their_tokens_roles(
    world: SimResult,
) -> None:
    names = {sender_of(e) for e in world.events}
    assert names == {"H1/window", "H1/complaints"}
    specs = [
        TokenSpec(token="a" * 16, role="window", hall="H1"),
        TokenSpec(token="b" * 16, role="complaints", hall="H1"),
        TokenSpec(token="c" * 16, role="window", hall="H2"),
        TokenSpec(token="d" * 16, role="admin"),
    ]
    assert hall_senders(specs) == {"H1": ("H1/complaints", "H1/window"), "H2": ("H2/window",)}


def test_a_held_back_feed_changes_no_alert_with_a_clock_per_sender(world: SimResult) -> None:
    held = _held_back(world.events, LAG_S)
    assert held != world.events and sorted(e.event_id for e in held) == sorted(
        e.event_id for e in world.events
    )
    shared = compare_alerts(reference_alerts(held), reference_alerts(world.events))
    assert not shared.ok  # one watermark: the held-back records are late
    senders = {"H1": ("H1/complaints", "H1/window")}
    reference = reference_alerts(world.events, senders=senders)
    cmp = compare_alerts(reference_alerts(held, senders=senders), reference)
    assert (cmp.missing, cmp.extra, cmp.differing) == ([], [], [])
    assert len(reference) == len(reference_alerts(world.events))  # in the stream's order nothing is held back


@pytest.mark.slow  # a service process
def test_the_live_service_gives_the_in_process_alerts_when_one_feed_is_held_back(
    world: SimResult, tmp_path: Path
) -> None:
    specs = [
        {"token": "n4-admin-token-000000", "role": "admin"},
        {"token": "n4-window-H1-token-00", "role": "window", "hall": "H1"},
        {"token": "n4-complaints-H1-tok0", "role": "complaints", "hall": "H1"},
    ]
    tokens = {"window": specs[1]["token"], "complaints": specs[2]["token"]}
    cfg = tmp_path / "service.yaml"
    cfg.write_text(yaml.safe_dump({"db": str(tmp_path / "log.db"), "tokens": specs}))
    held = _held_back(world.events, LAG_S)
    with serving(cfg) as url, httpx.Client(base_url=url, timeout=60) as client:
        run: list[ev.Event] = []
        for i, e in enumerate(held):
            run.append(e)
            nxt = held[i + 1] if i + 1 < len(held) else None
            if nxt is None or sender_of(nxt) != sender_of(e) or len(run) == 1000:
                token = tokens[sender_of(e).split("/")[1]]
                body = b"[" + b",".join(ev.encode_event(x) for x in run) + b"]"
                resp = client.post(
                    "/v1/events",
                    content=body,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                )
                assert resp.status_code == 202, resp.text[:300]
                run = []
        live = fetch_alerts(url, specs[0]["token"])
    reference = reference_alerts(world.events, senders={"H1": ("H1/complaints", "H1/window")})
    cmp = compare_alerts(live, reference)
    assert reference and (cmp.missing, cmp.extra, cmp.differing) == ([], [], [])
