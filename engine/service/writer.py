"""The single writer: group commit of ingest batches, the engine, and the bounded queue.

Why one writer thread: the engine is a sequential state machine and SQLite has one writer
anyway. Requests are decoded and checked on the event loop, then queued; the writer takes
*everything* queued (up to ``group_max_events``) as one group, stores the new events, runs
them through the engine, stores the alerts and commits once. Every request of the group is
acknowledged after that commit (and after the acknowledgement mark, see
:mod:`engine.service.integrity`), so a burst of small requests shares one fsync. While a
commit runs in the writer thread, the event loop keeps accepting and queueing requests.

Why a bound on queued *events*: the queue is the only place where load can pile up. When
it is full the service answers 429 with ``Retry-After`` at once, instead of letting
latency and memory grow without limit; clients resend (ingest is idempotent).

Why a heap policy (:mod:`engine.service.upkeep.heap`) is installed after the rebuild: everything
alive then (modules, the rulebook, the engine state replayed from the log) lives as long as
the process, and so does most of what the engine adds later. CPython's full collections
scan every tracked object, so on a service holding a big state each one stalled the event
loop and the writer for up to hundreds of milliseconds, and those pauses were the ingest
p99. The policy freezes what each full collection proves alive, and tidies the whole heap
once ingest has been quiet for ``tidy_idle_s``. Why the log is checkpointed by a thread of
its own (:mod:`engine.service.upkeep.checkpoints`): SQLite's automatic checkpoint ran inside
the commit that crossed its threshold, and that commit's requests waited for it.

An exception of the engine is not a failed commit: it is confined to the hall whose events
caused it (:mod:`engine.service.isolation`, the quarantine). A failed *commit* (the disk,
SQLite) rolls back, answers 503 to the group and marks the service unready; the engines
of the partitions the group touched may have applied events that are not in the log, so
every ``retry_after_s`` the writer tries a small durable write, and once one succeeds it
rebuilds those partitions from the log and is ready again, without a restart. The failure
is logged once with its traceback; refusals while unready are logged at DEBUG.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import msgspec

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.service.board import CellCounts, OpenBoard
from engine.service.centre.trend import AlertTrend
from engine.service.centre.units import UnitTree
from engine.service.halls import PartitionedEngine, partition_of
from engine.service.integrity import AckMark, IntegrityError, Mark, check_log
from engine.service.isolation import apply_partition, event_head
from engine.service.metrics import Metrics
from engine.service.outcomes import Decision, Overloaded, Snapshot, Unavailable
from engine.service.store import EventStore, QuarantineEntry
from engine.service.tallies import PartitionTally
from engine.service.upkeep.checkpoints import Checkpointer
from engine.service.upkeep.heap import HeapPolicy

__all__ = ["IngestWriter"]

logger = logging.getLogger(__name__)

_ENC = msgspec.json.Encoder()
_Item = tuple[int, ev.Event]


@dataclass(slots=True)
class _Submission:
    events: list[ev.Event]
    bodies: list[bytes]
    future: asyncio.Future[tuple[int, int]]


class IngestWriter:
    def __init__(
        self,
        store: EventStore,
        engine: PartitionedEngine,
        metrics: Metrics,
        *,
        bound: int,
        group_max: int,
        retry_s: float = 1.0,
        accept_loss: bool = False,
        units: UnitTree | None = None,
        tidy_idle_s: float | None = None,
    ) -> None:
        self.store = store
        self.engine = engine
        self.metrics = metrics
        self.bound = bound
        self.group_max = group_max
        self.retry_s = retry_s
        self.accept_loss = accept_loss
        self.pending = 0
        self.ready = False
        self.broken: str | None = None
        self.snapshot = Snapshot()
        self.replayed = 0
        self.mark = AckMark(store.path)
        self._board = CellCounts()  # every alert stored, by hall, department and level
        self.open_board = OpenBoard(engine)
        self.trend = AlertTrend(units if units is not None else UnitTree())
        self._rows = 0
        self._max_seq = 0
        self._skip: set[int] = set()
        self._quarantine: dict[str, dict[str, int]] = {}
        self._dirty: set[str] = set()
        self.tally = PartitionTally(engine, self.open_board)
        self._recovering: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[_Submission | None] = asyncio.Queue()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="supsim-writer")
        self._acks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="supsim-ack")
        self._acking: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._tidying: asyncio.Task[None] | None
        self.heap, self.checkpoints = HeapPolicy(), Checkpointer(store.path)
        self.tidy_idle_s, self._tidying = tidy_idle_s, None
        self._tidied, self._last_batch = True, time.monotonic()  # nothing to tidy before a batch

    # --- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.store.hand_off_checkpoints()
        self.checkpoints.start()
        self._task = loop.create_task(self._run())
        if self.tidy_idle_s is not None:
            self._tidying = loop.create_task(self._tidy_when_idle(self.tidy_idle_s))

    async def stop(self) -> None:
        if self._tidying is not None:
            self._tidying.cancel()
        if self._task is not None:
            await self._queue.put(None)
            await self._task
        if self._recovering is not None:
            self._recovering.cancel()
        if self._acking:
            await asyncio.gather(*self._acking, return_exceptions=True)
        self._pool.shutdown(wait=True)
        self._acks.shutdown(wait=True)
        self.checkpoints.stop()
        self.heap.uninstall()
        self.store.close()
        self.mark.close()
        logger.info("writer stopped; %d events stored", self._rows)

    def _check_integrity(self) -> bool:
        """Startup check of the log against the mark; False leaves the service unready."""
        store = self.store
        self._rows, self._max_seq = store.count_events(), store.max_seq()
        try:
            mark = self.mark.read()
            reason = check_log(mark, max_seq=self._max_seq, events=self._rows, damage=store.quick_check())
        except IntegrityError as exc:
            mark, reason = None, str(exc)
        if reason is not None and (self.accept_loss and not reason.startswith("integrity check")):
            logger.warning("accepting the log as it stands (--accept-log-loss): %s", reason)
            reason = None
        if reason is not None:
            self.broken = reason
            logger.error("the log cannot be trusted; the service stays unready: %s", reason)
            return False
        if mark != Mark(self._max_seq, self._rows):
            self.mark.write(Mark(self._max_seq, self._rows), reset=True)
        return True

    def _rebuild(self) -> None:
        """Check the log, replay it in arrival order into fresh engines, re-store any missing alert."""
        t0 = time.perf_counter()
        if not self._check_integrity():
            return
        store = self.store
        self._skip = store.skipped_seqs()
        n = 0
        for rows in store.iter_event_rows():
            by_part: dict[str, list[_Item]] = {}
            store.begin()
            for seq, part, body in rows:
                if seq in self._skip:
                    continue
                try:
                    event = ev.decode_event(body)
                except ev.EventDecodeError as exc:  # e.g. the contract has tightened since
                    kind, eid = event_head(body)
                    store.quarantine(seq, part, kind, eid, f"the stored event no longer decodes: {exc}")
                    self._skip.add(seq)
                    logger.warning("quarantined stored event %s of %s: it no longer decodes", eid, part)
                    continue
                by_part.setdefault(part, []).append((seq, event))
                n += 1
            keyed, _ = self._apply(by_part)
            store.insert_alerts(keyed, [_ENC.encode(a) for _, a in keyed])
            store.commit()
            self.open_board.add(keyed)
        self.replayed = n
        for hall, dept, level, count in store.alert_levels():
            self._board.add((hall or "", dept or "", level), count)
        self.metrics.alerts_by_rule.update(store.alert_rules())
        for hall, ts in store.recent_alert_times(self.trend.keep_hours * 3600):
            self.trend.add(hall or "", ts)
        self._quarantine = store.quarantine_counts()
        self.open_board.refresh(list(self.engine.engines))
        self._publish()
        self.heap.install()
        self.ready = True
        logger.info("ready: replayed %d events from the log in %.1f s", n, time.perf_counter() - t0)

    # --- the request side -------------------------------------------------------------

    async def submit(self, events: list[ev.Event], encoded: list[bytes] | None = None) -> tuple[int, int]:
        """Queue a checked batch; returns (accepted, duplicates) once it is durable.

        ``encoded``: each event as the contract's encoder writes it, when the caller has it
        already (the ingest decoder does); otherwise they are encoded here.
        """
        if self.broken is not None or not self.ready:
            raise Unavailable(self.broken or "rebuilding state from the log")
        n = len(events)
        if self.pending and self.pending + n > self.bound:
            raise Overloaded
        self.pending += n
        bodies = encoded if encoded is not None else [_ENC.encode(e) for e in events]
        future: asyncio.Future[tuple[int, int]] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Submission(events, bodies, future))
        return await asyncio.shield(future)

    async def decide(self, qid: int, action: str) -> QuarantineEntry:
        """Release (apply now) or drop a held quarantined event; between two group commits."""
        if self.broken is not None or not self.ready:
            raise Unavailable(self.broken or "rebuilding state from the log")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._decide, qid, action)

    # --- the writer side --------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._pool, self._rebuild)
        except Exception as exc:  # a log we cannot replay: stay up, not ready, say why
            self.broken = f"rebuild failed: {exc}"
            logger.exception("rebuilding the engine from the log failed; the service stays unready")
        stopping = False
        while not stopping:
            first = await self._queue.get()
            self._last_batch, self._tidied = time.monotonic(), False
            if first is None:
                break
            group = [first]
            n = len(first.events)
            while n < self.group_max and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stopping = True
                    break
                group.append(item)
                n += len(item.events)
            try:
                results, mark = await loop.run_in_executor(self._pool, self._commit_group, group)
            except Exception as exc:
                if isinstance(exc, Unavailable):  # broken before: logged when it broke
                    logger.debug("refused a group of %d events: %s", n, exc)
                else:
                    logger.exception("commit of a group of %d events failed; the service is broken", n)
                    self._recovering = loop.create_task(self._recover_later())
                for sub in group:
                    if not sub.future.done():
                        sub.future.set_exception(Unavailable(f"commit failed: {exc}"))
            else:  # acknowledged once the mark is durable, while the next group is applied
                task = loop.create_task(self._acknowledge(group, results, mark))
                self._acking.add(task)
                task.add_done_callback(self._acking.discard)
            finally:
                self.pending -= n

    async def _tidy_when_idle(self, idle_s: float) -> None:
        """Tidy the heap once each time ingest has been quiet for ``idle_s`` (in the writer's pool)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(idle_s / 4)
            if self._tidied or not self.ready or time.monotonic() - self._last_batch < idle_s:
                continue
            self._tidied = True
            try:
                await loop.run_in_executor(self._pool, self.heap.tidy)
            except Exception:
                logger.exception("tidying the heap failed")

    async def _acknowledge(
        self, group: list[_Submission], results: list[tuple[int, int]], mark: Mark
    ) -> None:
        """Write the mark of a committed group on the acknowledging thread, then answer its requests.

        Why a thread of its own: the mark's fsync cost as much as the log's under load
        (py-spy on a 240-hall capacity step: 4.3 s against 4.9 s in 75 s), and on the writer
        thread it delayed the next group by that much. Marks are written in commit order
        (one thread), and no request is answered before the mark that covers it is durable.
        """
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._acks, self.mark.write, mark)
        except Exception as exc:
            if self.broken is None:
                logger.exception("writing the acknowledgement mark failed; the service is broken")
                self.broken = f"{type(exc).__name__}: {exc}"
                self._recovering = loop.create_task(self._recover_later())
            for sub in group:
                if not sub.future.done():
                    sub.future.set_exception(Unavailable(f"commit failed: {exc}"))
            return
        for sub, result in zip(group, results, strict=True):
            if not sub.future.done():
                sub.future.set_result(result)

    def _history(self, part: str) -> Callable[[int], list[_Item]]:
        def read(before: int) -> list[_Item]:
            out: list[_Item] = []
            for seq, body in self.store.partition_rows(part, before):
                if seq not in self._skip:
                    out.append((seq, ev.decode_event(body)))
            return out

        return read

    def _apply(self, by_part: dict[str, list[_Item]]) -> tuple[list[tuple[str, Alert]], set[str]]:
        """Run each partition's new events through its engine; quarantine what it fails on."""
        keyed: list[tuple[str, Alert]] = []
        rebuilt: set[str] = set()
        for part in sorted(by_part):
            out = apply_partition(self.engine, part, by_part[part], self._history(part))
            for p in out.poison:
                kind = str(type(p.event).__struct_config__.tag)
                self.store.quarantine(p.seq, part, kind, p.event.event_id, p.error)
                self._skip.add(p.seq)
            if out.rebuilt:
                rebuilt.add(part)
                self.open_board.reset(part)
            keyed.extend((part, a) for a in out.alerts)
        return keyed, rebuilt

    def _commit_group(self, group: list[_Submission]) -> tuple[list[tuple[int, int]], Mark]:
        if self.broken is not None:
            raise Unavailable(self.broken)
        t0 = time.perf_counter()
        store = self.store
        results: list[tuple[int, int]] = []
        by_part: dict[str, list[_Item]] = {}
        try:
            store.begin()
            for sub in group:
                parts = [partition_of(e) for e in sub.events]
                new = store.insert_events(sub.events, sub.bodies, parts)
                results.append((len(new), len(sub.events) - len(new)))
                for seq, event in new:
                    by_part.setdefault(partition_of(event), []).append((seq, event))
            keyed, rebuilt = self._apply(by_part)
            fresh = store.insert_alerts(keyed, [_ENC.encode(a) for _, a in keyed])
            store.commit()
        except Exception as exc:
            store.rollback()
            self._fail(exc, set(by_part))
            raise
        n_new = sum(len(items) for items in by_part.values())
        self._rows += n_new
        if n_new:
            self._max_seq = max(self._max_seq, *(items[-1][0] for items in by_part.values()))
        self._after_commit(keyed, fresh, rebuilt, set(by_part))
        dup = sum(r[1] for r in results)
        by_rule = Counter(a.rule for (_, a), new in zip(keyed, fresh, strict=True) if new)
        self.metrics.committed(time.perf_counter() - t0, n_new, dup, dict(by_rule))
        return results, Mark(self._max_seq, self._rows)

    def _after_commit(
        self, keyed: list[tuple[str, Alert]], fresh: list[bool], rebuilt: set[str], touched: set[str]
    ) -> None:
        for (_, a), new in zip(keyed, fresh, strict=True):
            if new:
                self._board.add((a.hall_id or "", a.department_id or "", a.level))
                self.trend.add(a.hall_id or "", a.ts.timestamp())
        self.open_board.add([(p, a) for (p, a), new in zip(keyed, fresh, strict=True) if new or p in rebuilt])
        self.open_board.refresh(touched)
        if rebuilt:
            self._quarantine = self.store.quarantine_counts()
        self._publish(touched)

    # --- failure and recovery ---------------------------------------------------------

    def _fail(self, exc: Exception, touched: set[str]) -> None:
        self.broken = f"{type(exc).__name__}: {exc}"
        self._dirty |= touched

    async def _recover_later(self) -> None:
        loop = asyncio.get_running_loop()
        attempts = 0
        while self.broken is not None:
            await asyncio.sleep(self.retry_s)
            attempts += 1
            try:
                await loop.run_in_executor(self._pool, self._recover)
            except Exception as exc:
                log = logger.warning if attempts == 1 else logger.debug
                log("the log still refuses writes (%s); retrying every %g s", exc, self.retry_s)
            else:
                logger.warning("recovered after a failed commit (%d attempt(s)); ready again", attempts)

    def _recover(self) -> None:
        """Once a durable write succeeds, rebuild the partitions a failed group touched."""
        store = self.store
        store.rollback()
        store.probe_write()
        self._skip = store.skipped_seqs()
        self._rows, self._max_seq = store.count_events(), store.max_seq()
        store.begin()
        try:
            for part in sorted(self._dirty):
                self.engine.fresh(part)
                self.open_board.reset(part)
                out = apply_partition(self.engine, part, self._history(part)(self._max_seq + 1), lambda _: [])
                for p in out.poison:
                    kind = str(type(p.event).__struct_config__.tag)
                    store.quarantine(p.seq, part, kind, p.event.event_id, p.error)
                    self._skip.add(p.seq)
                keyed = [(part, a) for a in out.alerts]
                fresh = store.insert_alerts(keyed, [_ENC.encode(a) for _, a in keyed])
                self.open_board.add(keyed)
                for (_, a), new in zip(keyed, fresh, strict=True):
                    if new:  # raised by events the failed group had applied: first time in the log
                        self.trend.add(a.hall_id or "", a.ts.timestamp())
            store.commit()
        except Exception:
            store.rollback()
            raise
        self.mark.write(Mark(self._max_seq, self._rows))
        self.open_board.refresh(self._dirty)
        dirty, self._dirty = self._dirty, set()
        self._quarantine = store.quarantine_counts()
        self._publish(dirty)
        self.broken = None

    # --- operator decisions on quarantined events -------------------------------------

    def _decide(self, qid: int, action: str) -> QuarantineEntry:
        store = self.store
        entry = store.quarantine_entry(qid)
        if entry is None:
            raise Decision(404, f"no quarantined event {qid}")
        if entry.state != "held":
            raise Decision(409, f"quarantined event {qid} was already {entry.state}")
        store.begin()
        keyed: list[tuple[str, Alert]] = []
        rebuilt: set[str] = set()
        try:
            if action == "drop":
                store.decide(qid, "dropped")
            else:  # applied now, so it moves to the end of the arrival order (the replay agrees)
                new_seq = self._max_seq + 1
                store.decide(qid, "released", new_seq)
                self._skip.discard(entry.seq)
                part, body = store.event_body(new_seq) or (entry.part, b"")
                try:
                    event = ev.decode_event(body)
                except ev.EventDecodeError as exc:
                    store.quarantine(new_seq, part, entry.kind, entry.event_id, f"no longer decodes: {exc}")
                    self._skip.add(new_seq)
                else:
                    keyed, rebuilt = self._apply({part: [(new_seq, event)]})
            fresh = store.insert_alerts(keyed, [_ENC.encode(a) for _, a in keyed])
            store.commit()
        except Exception as exc:
            store.rollback()
            self._fail(exc, {entry.part})
            raise
        if action != "drop":
            self._max_seq += 1
            self.mark.write(Mark(self._max_seq, self._rows))
        self._quarantine = store.quarantine_counts()
        self._after_commit(keyed, fresh, rebuilt, {entry.part})
        logger.warning("quarantined event %s of %s %s by an operator", entry.event_id, entry.part, action)
        decided = store.quarantine_entry(qid)
        assert decided is not None
        return decided

    def _publish(self, touched: set[str] | None = None) -> None:
        self.snapshot = Snapshot(
            engine=self.tally.recount(touched),
            open_cases=dict(self.tally.open_cases),
            board=self._board.view(),
            open_board=self.open_board.board(),
            events_stored=self._rows,
            quarantine=self._quarantine,
            halls=dict(self.tally.halls),
        )
