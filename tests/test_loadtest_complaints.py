"""Complaint events in the load harness and through the live service: their own source, the same alerts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import pytest
import yaml

from engine.contract import events as ev
from engine.rules.rulebook import load_rulebook
from engine.service.auth import Principal, scope_error
from engine.service.halls import reference_alerts
from loadtests.compare import compare_alerts, fetch_alerts
from loadtests.replay_plan import make_plan, source_of, unordered_halls
from reports.evaluation.families.complaints import COMPLAINT_RULE_TO_TRUTH
from sim.common.scenario import load_scenario
from sim.hall.world import SimResult, simulate
from tests.service_process import serving
from tests.test_complaints_world import _with_complaints

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def world() -> SimResult:
    return _with_complaints(days=20)


def test_complaint_events_come_from_the_halls_complaints_platform(world: SimResult) -> None:
    plan = make_plan(world.events, scenario="c", duration_s=20, halls=2)
    sources = {s.source: s for s in plan.sources}
    assert set(sources) == {"H1/window", "H1/complaints", "H1~r1/window", "H1~r1/complaints"}
    complaints = sources["H1/complaints"]
    assert complaints.role == "complaints" and complaints.hall == "H1"
    expected = [e.event_id for e in world.events if isinstance(e, ev.COMPLAINT_EVENT_TYPES)]
    assert expected and complaints.event_ids == expected
    # every source's token (role and hall) may post every event the plan gives it
    for src in plan.sources:
        who = Principal(role=src.role, hall=src.hall)
        for send in src.sends:
            assert all(scope_error(who, e) is None for e in ev.decode_events(send.body)), src.source
    # two sources per hall: exact only when a tick spans less than the allowed lateness
    assert unordered_halls(plan, tick_s=1.0, lateness_s=600.0) == (
        [] if plan.compression <= 600 else ["H1", "H1~r1"]
    )
    assert unordered_halls(plan, tick_s=600.0 / plan.compression, lateness_s=600.0) == []
    assert unordered_halls(plan, tick_s=1200.0 / plan.compression, lateness_s=600.0) == ["H1", "H1~r1"]
    # copies are other halls: their complaints are other complaints
    copy = [e for send in sources["H1~r1/complaints"].sends for e in ev.decode_events(send.body)]
    assert all(isinstance(e, ev.COMPLAINT_EVENT_TYPES) and e.complaint_id.endswith("~r1") for e in copy)


def _batches(events: list[ev.Event], tokens: dict[str, str]) -> list[tuple[str, bytes]]:
    """The stream in its order, cut where the sending system changes or at 1,000 events: (token, body)."""
    out: list[tuple[str, bytes]] = []
    run: list[ev.Event] = []
    role = ""
    for e in events:
        r = source_of(e)[1]
        if run and (r != role or len(run) == 1000):
            out.append((tokens[role], b"[" + b",".join(ev.encode_event(x) for x in run) + b"]"))
            run = []
        role = r
        run.append(e)
    if run:
        out.append((tokens[role], b"[" + b",".join(ev.encode_event(x) for x in run) + b"]"))
    return out


@pytest.mark.slow  # a service process
def test_the_complaints_scenario_through_the_live_service_gives_the_in_process_alerts(tmp_path: Path) -> None:
    """scenarios/complaints.yaml, whole, posted with hall-scoped tokens of each sending system.

    The window terminals and the complaints platform each hold a token of their role for hall
    HY, so a complaint event sent by the wrong system would be refused (403). The stream goes in
    its own order, so the in-process engine (one per hall, no end-of-stream flush) is the exact
    reference: every alert, the complaint rules' included, must be the same.
    """
    world = simulate(load_scenario(ROOT / "scenarios" / "complaints.yaml"))
    specs = [
        {"token": "lt-admin-token-000000", "role": "admin"},
        {"token": "lt-window-HY-token-00", "role": "window", "hall": "HY"},
        {"token": "lt-complaints-HY-tok0", "role": "complaints", "hall": "HY"},
    ]
    tokens = {"window": specs[1]["token"], "complaints": specs[2]["token"]}
    cfg = tmp_path / "service.yaml"
    book = ROOT / "scenarios" / "rulebooks" / "deemed.yaml"  # the scenario's: the deemed rules on too
    cfg.write_text(yaml.safe_dump({"db": str(tmp_path / "log.db"), "tokens": specs, "rulebook": str(book)}))
    admin = specs[0]["token"]
    with serving(cfg) as url, httpx.Client(base_url=url, timeout=60) as client:
        for token, body in _batches(world.events, tokens):
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            resp = client.post("/v1/events", content=body, headers=headers)
            assert resp.status_code == 202, resp.text[:300]
        stats = client.get("/v1/stats", headers={"Authorization": f"Bearer {admin}"}).json()
        live = fetch_alerts(url, admin)
    assert stats["events_accepted"] == len(world.events) and stats["events_duplicate"] == 0
    reference = reference_alerts(world.events, load_rulebook(book))
    cmp = compare_alerts(live, reference)
    assert (cmp.missing, cmp.extra, cmp.differing) == ([], [], [])
    rules = Counter(a.rule for a in live)
    assert all(rules[r] > 0 for r in COMPLAINT_RULE_TO_TRUTH), rules
    # the inspections and the joint reviews went through the same platform and terminals
    assert (
        rules["inspection.named_twice"] > 0 and rules["deemed.approval"] > 0 and rules["deemed.consent"] > 0
    ), rules


def test_every_event_kind_has_a_token_role_that_may_post_it() -> None:
    """The load harness's sender of each kind (``source_of``) holds a token the service accepts it from.

    Before: ``queue.ticket`` / ``queue.called`` went out as window traffic and only an admin token could
    post them, so a hall's queue-number machine had no token of its own.
    """
    from loadtests.replay_plan import source_of
    from tests.test_events import _samples

    samples = _samples()
    assert {type(e) for e in samples} == set(ev.EVENT_TYPES)
    refused = {}
    for event in samples:
        _, role, hall = source_of(event)
        if (why := scope_error(Principal(role=role, hall=hall), event)) is not None:
            refused[type(event).__struct_config__.tag] = why
    assert refused == {}
