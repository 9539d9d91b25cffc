"""Halls are isolated: same ids in two halls keep both, and an event the engine fails on is quarantined.

The poison here is an engine failure injected where real ones happened (a rule's roster
hook, run when the watermark passes the roster, i.e. while a *later* event of the hall is
being applied): the contract may reject today's overflowing instants at decode time, but
the quarantine must hold for any exception the engine raises.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.rules.discipline.conduct import LateArrivalRule
from engine.service.app import create_app
from engine.service.auth import TokenSpec
from engine.service.config import ServiceConfig
from engine.service.halls import reference_alerts
from sim.common.scenario import load_scenario
from sim.hall.world import simulate
from tests.waiting import wait_ready

ROOT = Path(__file__).resolve().parent.parent
TOKENS = [
    TokenSpec(token="iso-admin-token-0000", role="admin"),
    TokenSpec(token="iso-window-H1-token0", role="window", hall="H1"),
    TokenSpec(token="iso-window-H2-token0", role="window", hall="H2"),
]
JSON = {"Content-Type": "application/json"}
ADMIN = {"Authorization": "Bearer iso-admin-token-0000", **JSON}
H1 = {"Authorization": "Bearer iso-window-H1-token0", **JSON}
H2 = {"Authorization": "Bearer iso-window-H2-token0", **JSON}
POISON_STAFF = "POISON"


@pytest.fixture(scope="module")
def h1() -> list[ev.Event]:
    return simulate(load_scenario(ROOT / "scenarios" / "smoke.yaml")).events[:1500]


def in_hall(events: list[ev.Event], hall: str) -> list[ev.Event]:
    """The same events, same event and case ids, as another hall's terminals tell them."""
    return [msgspec.structs.replace(e, hall_id=hall) if getattr(e, "hall_id", None) else e for e in events]


def body(events: list[ev.Event]) -> bytes:
    return b"[" + b",".join(ev.encode_event(e) for e in events) + b"]"


def post_all(client: TestClient, events: list[ev.Event], headers: dict[str, str], size: int = 300) -> None:
    for i in range(0, len(events), size):
        r = client.post("/v1/events", content=body(events[i : i + size]), headers=headers)
        assert r.status_code == 202, r.text


def alerts_of(client: TestClient, hall: str) -> dict[str, bytes]:
    page = client.get(f"/v1/alerts?hall={hall}&limit=5000", headers=ADMIN).json()
    assert not page["more"]
    return {a["alert_id"]: msgspec.json.encode(msgspec.convert(a, Alert)) for a in page["alerts"]}


def expected(events: list[ev.Event]) -> dict[str, bytes]:
    return {a.alert_id: msgspec.json.encode(a) for a in reference_alerts(events)}


def config(tmp_path: Path, **kw: Any) -> ServiceConfig:
    return ServiceConfig(db=str(tmp_path / "log.db"), tokens=TOKENS, retry_after_s=1, **kw)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(config(tmp_path))) as c:
        wait_ready(c)
        yield c


def test_two_halls_with_the_same_case_and_event_ids_keep_both(client: TestClient, h1: list[ev.Event]) -> None:
    h2 = in_hall(h1, "H2")
    for i in range(0, len(h1), 300):  # interleaved, H2 first: H2 must not shadow H1 either
        for events, token in ((h2, H2), (h1, H1)):
            r = client.post("/v1/events", content=body(events[i : i + 300]), headers=token)
            assert r.status_code == 202 and r.json()["duplicates"] == 0, r.text
    assert alerts_of(client, "H1") == expected(h1) != {}
    assert alerts_of(client, "H2") == expected(h2)
    ask = [{"event_id": e.event_id, "hall_id": "H2"} for e in h2]
    known = client.post("/v1/events/known", content=msgspec.json.encode(ask), headers=ADMIN).json()
    assert known == {"known": len(h2), "missing": []}
    absent = [{"event_id": e.event_id, "hall_id": "H3"} for e in h1[:5]]
    known = client.post("/v1/events/known", content=msgspec.json.encode(absent), headers=ADMIN).json()
    assert known["known"] == 0 and len(known["missing"]) == 5
    stats = client.get("/v1/stats", headers=ADMIN).json()
    assert stats["events_stored"] == 2 * len(h1) and stats["events_duplicate"] == 0
    assert stats["alerts_by_hall"]["H1"] == stats["alerts_by_hall"]["H2"]
    engines = client.app.state.service.writer.engine  # type: ignore[attr-defined]
    assert stats["engine"] == engines.stats  # the counters kept per commit equal a full recount
    assert stats["open_cases"] == engines.open_cases()
    resend = client.post("/v1/events", content=body(h2[:50]), headers=H2).json()
    assert resend == {"accepted": 0, "duplicates": 50}  # a real resend of a hall is still a duplicate


def test_a_hall_id_beginning_with_tilde_is_refused(client: TestClient, h1: list[ev.Event]) -> None:
    r = client.post("/v1/events", content=body(in_hall(h1[:1], "~trading")), headers=ADMIN)
    assert r.status_code == 403 and "reserved" in r.text


# --- the quarantine ------------------------------------------------------------------------


@pytest.fixture
def trap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the engine raise while applying a roster of staff POISON (as an overflow did)."""
    original = LateArrivalRule.roster

    def roster(self: LateArrivalRule, event: ev.StaffRoster, state: Any) -> None:
        if event.staff_id == POISON_STAFF:
            raise OverflowError("date value out of range")
        original(self, event, state)

    monkeypatch.setattr(LateArrivalRule, "roster", roster)


def poison(at: ev.Event, n: int = 1) -> ev.StaffRoster:
    return ev.StaffRoster(
        event_id=f"poison-{n}", ts=at.ts, hall_id="H1", staff_id=POISON_STAFF, window_id="W1",
        department_id="H1-D01", shift_start=at.ts + timedelta(hours=1), shift_end=at.ts + timedelta(hours=9),
    )  # fmt: skip


@pytest.mark.usefixtures("trap")
def test_poison_is_quarantined_and_every_hall_goes_on_across_a_restart(
    tmp_path: Path, h1: list[ev.Event], caplog: pytest.LogCaptureFixture
) -> None:
    h2 = in_hall(h1, "H2")
    bad = poison(h1[600])
    caplog.set_level(logging.WARNING, logger="engine.service")
    with TestClient(create_app(config(tmp_path))) as client:
        wait_ready(client)
        post_all(client, [*h1[:600], bad], H1)  # accepted: the roster waits in the reorder window
        post_all(client, h1[600:], H1)  # the watermark passes it while these are applied
        post_all(client, h2, H2)
        assert client.get("/readyz").status_code == 200
        held = client.get("/v1/quarantine", headers=ADMIN).json()["entries"]
        stats = client.get("/v1/stats", headers=ADMIN).json()
        metrics = client.get("/metrics", headers=ADMIN).text
        assert client.get("/v1/quarantine", headers=H1).status_code == 403  # admin only
        live = alerts_of(client, "H1"), alerts_of(client, "H2")
    assert [(e["hall"], e["event_id"], e["state"]) for e in held] == [("H1", "poison-1", "held")]
    assert "OverflowError: date value out of range" in held[0]["error"] and "Traceback" in held[0]["error"]
    assert stats["quarantine"] == {"H1": {"held": 1}} and stats["ready"]
    assert 'supsim_quarantine_events{state="held"} 1' in metrics
    errors = [
        r for r in caplog.records if r.name == "engine.service.isolation" and r.levelno >= logging.ERROR
    ]
    assert errors and errors[0].exc_info is not None and errors[0].exc_info[0] is OverflowError
    assert live == (expected(h1), expected(h2))  # as if the poison had never been sent

    with TestClient(create_app(config(tmp_path))) as client:  # the restart is not re-poisoned
        wait_ready(client)
        assert alerts_of(client, "H1") == live[0] and alerts_of(client, "H2") == live[1]
        more = in_hall(h1, "H3")
        post_all(client, more, ADMIN)
        assert client.get("/readyz").status_code == 200
        assert alerts_of(client, "H3") == expected(more)
        qid = held[0]["id"]
        dropped = client.post(f"/v1/quarantine/{qid}/drop", headers=ADMIN)
        assert dropped.status_code == 200 and dropped.json()["state"] == "dropped"
        assert client.post(f"/v1/quarantine/{qid}/release", headers=ADMIN).status_code == 409
        assert client.post("/v1/quarantine/999/release", headers=ADMIN).status_code == 404
        assert client.post("/v1/events", content=body([bad]), headers=H1).json()["duplicates"] == 1


def test_a_released_event_is_applied_and_a_restart_agrees(
    tmp_path: Path, h1: list[ev.Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = LateArrivalRule.roster
    broken = {"on": True}

    def roster(self: LateArrivalRule, event: ev.StaffRoster, state: Any) -> None:
        if event.staff_id == POISON_STAFF and broken["on"]:
            raise OverflowError("date value out of range")
        original(self, event, state)

    monkeypatch.setattr(LateArrivalRule, "roster", roster)
    bad = poison(h1[600])
    with TestClient(create_app(config(tmp_path))) as client:
        wait_ready(client)
        post_all(client, [*h1[:600], bad, *h1[600:]], H1)
        (entry,) = client.get("/v1/quarantine?state=held", headers=ADMIN).json()["entries"]
        broken["on"] = False  # the cause is fixed
        released = client.post(f"/v1/quarantine/{entry['id']}/release", headers=ADMIN)
        assert released.status_code == 200 and released.json()["state"] == "released"
        live = alerts_of(client, "H1")
        stats = client.get("/v1/stats", headers=ADMIN).json()
    assert stats["quarantine"] == {"H1": {"released": 1}}
    assert live == expected(h1[:600] + h1[600:] + [bad])  # applied where it was released
    with TestClient(create_app(config(tmp_path))) as client:
        wait_ready(client)
        assert alerts_of(client, "H1") == live
        assert client.get("/v1/stats", headers=ADMIN).json()["engine"]["events_in"] == len(h1) + 1


@pytest.mark.usefixtures("trap")
def test_extreme_events_in_one_hall_never_touch_another_or_readiness(
    tmp_path: Path, h1: list[ev.Event]
) -> None:
    """Hypothesis: contract-valid extreme values posted by H1 leave H2's alerts and readiness alone."""
    h2 = in_hall(h1[:900], "H2")
    counter = iter(range(10**6))
    instants = st.builds(
        lambda y, rest, off: f"{y:04d}{rest}{off}",
        st.integers(1, 9999),
        st.sampled_from(["-01-01T00:00:00", "-12-31T23:59:59", "-03-03T09:00:00"]),
        st.sampled_from(["+14:00", "-23:59", "+23:59", "+00:00", "-12:00"]),
    )

    with TestClient(create_app(config(tmp_path))) as client:
        wait_ready(client)
        post_all(client, h1[:300], H1)

        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        @given(
            start=instants,
            end=instants,
            days=st.floats(min_value=1e-3, max_value=1e308, allow_nan=False, allow_infinity=False),
            staff=st.sampled_from([POISON_STAFF, "S-EXTREME"]),
        )
        def post_extremes(start: str, end: str, days: float, staff: str) -> None:
            n = next(counter)
            roster = {
                "kind": "staff.roster", "event_id": f"x-{n}", "ts": h1[300].ts.isoformat(), "hall_id": "H1",
                "staff_id": staff, "window_id": "W1", "department_id": "H1-D01",
                "shift_start": start, "shift_end": end,
            }  # fmt: skip
            item = msgspec.json.decode(
                ev.encode_event(next(e for e in h1 if isinstance(e, ev.ItemPublished)))
            )
            item["event_id"] = f"item-{n}"
            for step in item.get("steps", []):
                step["limit_days"] = days
            payload = msgspec.json.encode([roster, item])
            r = client.post("/v1/events", content=payload, headers=H1)
            assert r.status_code in (202, 422), r.text
            assert client.get("/readyz").status_code == 200

        post_extremes()
        post_all(client, h1[300:], H1)  # the watermark passes whatever waits in the window
        post_all(client, h2, H2)
        assert client.get("/readyz").status_code == 200
        assert alerts_of(client, "H2") == expected(h2)
