"""The ingest process's publish path against a stream that behaves as a replicated one does.

A replicated JetStream stream never answers a message whose ``Nats-Msg-Id`` matches one it
has not committed yet (measured on a local 3-server R3 stream: of 10 pairs published back
to back, the 10 second copies got no reply). A batch holding the same event twice — the
simulated terminals resend events, so a replay's batches do — therefore waited out the
acknowledgement timeout, was answered 503, and its source fell 4 s behind each time.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from nats.js.api import PubAck

from engine.contract import events as ev
from engine.service.cluster.ingest_app import create_ingest_app
from engine.service.cluster.layout import ClusterConfig
from sim.common.scenario import load_scenario
from sim.hall.world import simulate

ROOT = Path(__file__).resolve().parent.parent


class ReplicatedStream:
    """``publish_async`` as an R3 stream answers it: a repeat of an uncommitted id gets no reply."""

    def __init__(self, commit_s: float = 0.02) -> None:
        self.commit_s = commit_s
        self.stored: dict[str, int] = {}
        self.uncommitted: set[str] = set()
        self.published = 0

    async def publish_async(
        self, subject: str, payload: bytes, headers: dict[str, str]
    ) -> asyncio.Future[Any]:
        self.published += 1
        mid = headers["Nats-Msg-Id"]
        f: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if mid in self.uncommitted:
            return f  # never answered
        if mid in self.stored:
            f.set_result(PubAck(stream="EVENTS", seq=self.stored[mid], duplicate=True))
            return f
        self.uncommitted.add(mid)

        def commit() -> None:
            self.uncommitted.discard(mid)
            self.stored[mid] = len(self.stored) + 1
            if not f.done():
                f.set_result(PubAck(stream="EVENTS", seq=self.stored[mid], duplicate=False))

        asyncio.get_running_loop().call_later(self.commit_s, commit)
        return f


@pytest.fixture(scope="module")
def events() -> list[ev.Event]:
    smoke = load_scenario(ROOT / "scenarios" / "smoke.yaml")
    return [e for e in simulate(smoke, seed=smoke.seed).events if getattr(e, "hall_id", None)][:30]


def _ingest(tmp_path: Path) -> Any:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text("tokens:\n  - {token: publish-test-token-0, role: admin}\n")
    config = ClusterConfig(dir=str(tmp_path), port=1, nats_ports=[1], route_ports=[2], monitor_ports=[3],
                           ingest_ports=[4], tokens=str(tokens), nats=1, ack_timeout_s=1.0)  # fmt: skip
    svc = create_ingest_app(config).state.ingest
    svc.js = ReplicatedStream()
    return svc


def test_a_batch_holding_an_event_twice_is_acknowledged_without_waiting_out_the_timeout(
    tmp_path: Path, events: list[ev.Event]
) -> None:
    svc = _ingest(tmp_path)
    batch = [*events[:10], events[3], events[7]]

    async def run() -> tuple[int, float]:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        duplicates = await svc._publish(batch)
        return duplicates, loop.time() - t0

    duplicates, took = asyncio.run(run())
    assert duplicates == 2
    assert took < 0.5  # one commit (0.02 s), not the 1 s acknowledgement timeout
    assert svc.js.published == 10 and len(svc.js.stored) == 10
    assert svc.in_flight == {}  # acknowledged publishes are forgotten: a resend is the stream's duplicate
    assert asyncio.run(svc._publish(batch)) == len(batch)


def test_concurrent_batches_sharing_an_event_are_both_acknowledged(
    tmp_path: Path, events: list[ev.Event]
) -> None:
    svc = _ingest(tmp_path)

    async def run() -> list[int]:
        return list(await asyncio.gather(svc._publish(events[:20]), svc._publish(events[15:30])))

    first, second = asyncio.run(run())
    assert (first, second) == (0, 5)  # the shared five wait on the first batch's publishes
    assert len(svc.js.stored) == 30 and svc.js.published == 30


def test_a_batch_still_waits_for_the_stream_and_fails_when_it_does_not_answer(
    tmp_path: Path, events: list[ev.Event]
) -> None:
    svc = _ingest(tmp_path)
    svc.js.commit_s = 5.0  # longer than the acknowledgement timeout

    async def run() -> None:
        await svc._publish(events[:5])

    with pytest.raises(TimeoutError, match="5 of 5 events not acknowledged"):
        asyncio.run(run())
    assert svc.in_flight == {}  # the abandoned publishes are forgotten: the resend publishes again
