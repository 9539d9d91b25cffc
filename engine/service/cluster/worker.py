"""Engine workers: each owns partitions of halls, runs the in-process engines, publishes alerts.

Why one engine per hall, as in :mod:`engine.service.halls`: the worker feeds a partition's
events to a :class:`~engine.service.halls.PartitionedEngine` in ``EVENTS`` stream order, and
the stream order of one hall is the order its sources' batches were acknowledged. So every
hall gets the alerts an in-process run of its acknowledged stream gives.

Why snapshots hold the stream sequence: a snapshot is the engines of the partition's halls
*and* the stream sequence of the last event they consumed, written (object store,
replicated) only after every alert raised up to that sequence was acknowledged by the
``ALERTS`` stream. On restart the worker loads it and replays the stream from the next
sequence: the events after the snapshot raise the same alerts again (the engine is
deterministic given the order), with the same message ids, and JetStream drops them. So a
crash at any instant publishes every alert exactly once.

Why cloudpickle: the engine holds closures (rule dispatch tables) that the standard pickle
refuses. A snapshot is therefore tied to the code and the rulebook that wrote it: it carries
a fingerprint of both, and a worker that finds a different fingerprint (or an unreadable
snapshot) replays the partition from the first event instead, which is always correct,
only slower. Snapshots come only from the cluster's own workers; loading one runs code, so
the object store must be as trusted as the workers themselves.

Why the worker also keeps an open board per partition and publishes its halls' facts: the
centre's network board needs engine state (open alerts, case tallies, newest events), which
only the workers hold (:mod:`engine.service.cluster.facts`). The board's state goes into the
snapshot with the engines, so a restarted worker's facts continue where they stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import pickle
import signal
import time
from importlib import resources
from pathlib import Path
from typing import Any

import cloudpickle
import msgspec
from nats.js import JetStreamContext
from nats.js.errors import ObjectNotFoundError
from nats.js.kv import KeyValue
from nats.js.object_store import ObjectStore

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.rules.rulebook import Rulebook, load_rulebook
from engine.service.cluster.facts import PartitionFactsKeeper, facts_key
from engine.service.cluster.jetstream import Tail, connect
from engine.service.cluster.layout import (
    EVENTS_STREAM,
    SNAPSHOTS_BUCKET,
    STATUS_BUCKET,
    ClusterConfig,
    alert_subject,
    msg_id,
    partition_of_key,
    partitions_of_worker,
)
from engine.service.halls import PartitionedEngine, partition_of

__all__ = ["PartitionRunner", "code_fingerprint", "run_worker"]

logger = logging.getLogger(__name__)

_ENC = msgspec.json.Encoder()
_SNAPSHOT_VERSION = 2  # 2: the open board's state beside the engines


def code_fingerprint(rulebook_path: str | None) -> str:
    """Digest of the engine's code and the rulebook: a snapshot is only valid for both."""
    h = hashlib.blake2b(digest_size=12)
    root = Path(str(resources.files("engine")))
    for path in sorted(root.rglob("*.py")):
        if "service" not in path.relative_to(root).parts:
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    h.update(Path(rulebook_path).read_bytes() if rulebook_path else b"default")
    return h.hexdigest()


class PartitionRunner:
    """One partition: load the snapshot, replay the tail, then follow the stream."""

    def __init__(
        self,
        js: JetStreamContext,
        snapshots: ObjectStore,
        config: ClusterConfig,
        partition: int,
        book: Rulebook,
        fingerprint: str,
    ) -> None:
        self.js = js
        self.snapshots = snapshots
        self.config = config
        self.partition = partition
        self.book = book
        self.fingerprint = fingerprint
        self.engine = PartitionedEngine(book, calendar=book.build_calendar())
        self.facts = PartitionFactsKeeper(self.engine)
        self.seq = 0  # last EVENTS sequence applied
        self.snapshot_seq = 0
        self.loaded_from = "none"
        self.ready = False
        self.idle_at = 0.0  # wall time of the last fetch that found nothing new
        self.caught_up_at = time.time()  # wall time the partition last had nothing pending
        self.pending = 0  # messages of the partition still in the stream after the last batch
        self.events = 0
        self.alerts = 0

    @property
    def name(self) -> str:
        return f"partition-{self.partition}"

    async def load(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                res = await asyncio.wait_for(self.snapshots.get(self.name), timeout=5)
                break
            except ObjectNotFoundError:
                logger.info("%s: no snapshot; replaying from the start", self.name)
                return
            except Exception as exc:  # a server or leader is being replaced: try again
                if time.monotonic() > deadline:
                    raise RuntimeError(f"reading snapshot {self.name} failed for {timeout:g} s") from exc
                logger.debug("%s: reading the snapshot failed (%r); retrying", self.name, exc)
                await asyncio.sleep(0.3)
        try:
            snap: dict[str, Any] = pickle.loads(res.data or b"")
        except Exception:
            logger.warning("%s: unreadable snapshot; replaying from the start", self.name, exc_info=True)
            return
        if snap.get("version") != _SNAPSHOT_VERSION or snap.get("fingerprint") != self.fingerprint:
            logger.info("%s: snapshot of other code or rulebook; replaying from the start", self.name)
            return
        self.engine.engines = snap["engines"]
        self.facts.restore(snap["board"])
        self.seq = self.snapshot_seq = int(snap["seq"])
        self.loaded_from = "snapshot"
        logger.info("%s: snapshot at sequence %d loaded", self.name, self.seq)

    def freeze(self) -> tuple[int, bytes]:
        """The partition's state now (engines and sequence), pickled while nothing else runs."""
        state = {
            "version": _SNAPSHOT_VERSION,
            "fingerprint": self.fingerprint,
            "seq": self.seq,
            "engines": self.engine.engines,
            "board": self.facts.board.state(),
        }
        return self.seq, cloudpickle.dumps(state, protocol=5)

    async def upload(self, seq: int, blob: bytes) -> None:
        await asyncio.wait_for(self.snapshots.put(self.name, blob), timeout=30)
        self.snapshot_seq = max(self.snapshot_seq, seq)
        logger.debug("%s: snapshot at sequence %d (%d bytes)", self.name, seq, len(blob))

    async def _upload_quietly(self, seq: int, blob: bytes) -> None:
        try:
            await self.upload(seq, blob)
        except Exception as exc:  # the next interval tries again; the replay covers the gap
            logger.warning("%s: snapshot at sequence %d failed: %r", self.name, seq, exc)

    async def _publish(self, keyed: list[tuple[str, Alert]]) -> None:
        """Publish alerts until every one is acknowledged (the engine has moved on: they must not be lost)."""
        pending = list(keyed)
        delay = 0.1
        while pending:
            futures = []
            for key, alert in pending:
                subject = alert_subject(partition_of_key(key, self.config.partitions), key)
                headers = {"Nats-Msg-Id": msg_id("alert", key, alert.alert_id)}
                futures.append(await self.js.publish_async(subject, _ENC.encode(alert), headers=headers))
            _, late = await asyncio.wait(futures, timeout=self.config.ack_timeout_s)
            for f in late:
                f.cancel()
            failed = [
                item
                for item, f in zip(pending, futures, strict=True)
                if f.cancelled() or f.exception() is not None
            ]
            if failed:
                logger.debug("%s: %d alert publishes failed; retrying", self.name, len(failed))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            pending = failed

    def apply(self, events: list[ev.Event]) -> list[tuple[str, Alert]]:
        """Run a batch through the engines and the open board; the alerts raised, with their partition."""
        keyed = self.engine.process_keyed(events)
        self.facts.note(keyed, {partition_of(e) for e in events})
        self.events += len(events)
        self.alerts += len(keyed)
        return keyed

    async def run(self, stop: asyncio.Event) -> None:
        await self.load()
        self.facts.dirty = True  # publish what was loaded (or the empty partition) once
        tail = Tail(self.js, EVENTS_STREAM, f"events.{self.partition}.>", start_seq=self.seq + 1, batch=1000)
        last_save = time.monotonic()
        upload: asyncio.Task[None] | None = None
        try:
            while not stop.is_set():
                msgs = await tail.fetch(timeout=0.5)
                if not msgs:
                    self.ready = True
                    self.idle_at = self.caught_up_at = time.time()
                    self.pending = 0
                else:
                    keyed = self.apply([ev.decode_event(m.data) for m in msgs])
                    if keyed:
                        await self._publish(keyed)
                    self.seq = msgs[-1].metadata.sequence.stream
                    self.pending = msgs[-1].metadata.num_pending or 0
                    if self.pending == 0:
                        self.caught_up_at = time.time()
                due = time.monotonic() - last_save >= self.config.snapshot_every_s
                if self.seq != self.snapshot_seq and due and (upload is None or upload.done()):
                    # Pickled here, between batches (a consistent state); uploaded while the
                    # partition goes on, so a slow object store never stalls the engines.
                    upload = asyncio.create_task(self._upload_quietly(*self.freeze()))
                    last_save = time.monotonic()
        finally:
            await tail.close()
            if upload is not None:
                await asyncio.gather(upload, return_exceptions=True)

    def status(self) -> dict[str, Any]:
        totals = self.engine.stats  # the partition's engine counters, each engine's read once
        return {
            "seq": self.seq,
            "snapshot_seq": self.snapshot_seq,
            "loaded_from": self.loaded_from,
            "ready": self.ready,
            "idle_at": self.idle_at,
            "caught_up_at": self.caught_up_at,
            "pending": self.pending,
            "events": self.events,
            "alerts": self.alerts,
            "halls": len(self.engine.engines),
            "open_cases": totals.get("open_cases", 0),
            "late": totals.get("late", 0),
            "future": totals.get("future", 0),
        }


async def _report(kv: KeyValue, index: int, runners: list[PartitionRunner], started: float) -> None:
    """The worker's status, then the facts of each partition that changed since its last write."""
    for r in runners:
        if r.facts.dirty:
            r.facts.dirty = False
            try:
                await asyncio.wait_for(
                    kv.put(facts_key(r.partition), r.facts.encode(r.partition, index, r.seq)), 2
                )
            except Exception:
                r.facts.dirty = True  # written at the next report
                raise
    body = {
        "pid": os.getpid(),
        "started": started,
        "ts": time.time(),
        "partitions": {str(r.partition): r.status() for r in runners},
    }
    await asyncio.wait_for(kv.put(f"worker.{index}", _ENC.encode(body)), timeout=2)


async def run_worker(config: ClusterConfig, index: int) -> None:
    """Worker ``index``: its partitions until SIGTERM/SIGINT; status in the STATUS bucket every 0.5 s."""
    started = time.time()
    book = load_rulebook(config.rulebook) if config.rulebook else Rulebook.default()
    fingerprint = code_fingerprint(config.rulebook)
    nc = await connect(config.nats_urls, name=f"supsim-worker-{index}")
    js = nc.jetstream(timeout=config.ack_timeout_s)
    deadline = time.monotonic() + 60
    while True:  # right after a server kill the API may not answer for a few seconds
        try:
            snapshots = await js.object_store(SNAPSHOTS_BUCKET)
            kv = await js.key_value(STATUS_BUCKET)
            break
        except Exception as exc:
            if time.monotonic() > deadline:
                raise RuntimeError("the snapshot and status buckets could not be opened for 60 s") from exc
            logger.debug("opening the buckets failed (%r); retrying", exc)
            await asyncio.sleep(0.3)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    mine = partitions_of_worker(index, config.workers, config.partitions)
    runners = [PartitionRunner(js, snapshots, config, p, book, fingerprint) for p in mine]
    logger.info("worker %d owns partitions %s", index, mine)
    tasks = [asyncio.create_task(r.run(stop)) for r in runners]
    try:
        while not stop.is_set():
            for t in tasks:
                if t.done() and t.exception() is not None:
                    raise RuntimeError(f"worker {index}: a partition failed") from t.exception()
            try:
                await _report(kv, index, runners, started)
            except Exception as exc:
                logger.debug("status report failed: %s", exc)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.5)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for r in runners:
            if r.ready and r.seq != r.snapshot_seq:
                try:
                    await r.upload(*r.freeze())
                except Exception as exc:
                    logger.warning("%s: final snapshot failed: %s", r.name, exc)
        await nc.close()
        logger.info("worker %d stopped", index)
