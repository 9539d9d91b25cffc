"""Chaos on a local cluster: kill -9 processes on a schedule during a replay, then check nothing was lost.

A run replays each source's events in order (batches paced over ``duration_s``; a refused
or broken request is resent until acknowledged, as a terminal would) while :class:`Kill`
items ``kill -9`` a NATS server, an ingest process or a worker at their instants. The
supervisor restarts what was killed; each kill records when it happened, when the process
was back, when it was whole again and when the first batch sent after it was acknowledged.

After the replay the run waits until every partition's worker has consumed everything and
the alerts view has read every alert, then checks:

* **lost** — acknowledged events the ``EVENTS`` stream does not hold: must be 0;
* **stored duplicates** — stream messages beyond the distinct events sent: must be 0
  (resends are dropped by message id);
* **alerts** — the cluster's alerts against the in-process engines
  (:func:`engine.service.halls.reference_alerts`) on the acknowledged events in the order
  they were acknowledged: missing, extra and differing must all be 0.

Spec syntax: ``ROLE[:WHICH]@SECONDS`` comma-separated, e.g. ``nats@4,ingest@9,worker:1@14``.
``WHICH`` is an index; for ``nats`` the default is the current leader of ``EVENTS`` (the
harsher kill), for the others index 0. Every request goes to 127.0.0.1 and every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import httpx
import msgspec

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.service.auth import load_tokens
from engine.service.cluster.jetstream import connect
from engine.service.cluster.layout import EVENTS_STREAM, load_config, load_state
from engine.service.cluster.supervisor import ClusterError, is_cluster_process
from engine.service.halls import reference_alerts

__all__ = ["ChaosError", "ChaosReport", "Kill", "KillRecord", "paced_batches", "parse_chaos", "run_chaos"]

Role = Literal["nats", "ingest", "worker"]
_ITEM = re.compile(r"^(nats|ingest|worker)(?::(\d+|leader))?@(\d+(?:\.\d+)?)$")
_ENC = msgspec.json.Encoder()
_ALERTS = msgspec.json.Decoder(list[Alert])


class ChaosError(ClusterError):
    """A chaos spec that cannot be used; the message names the item."""


class Kill(msgspec.Struct, frozen=True, kw_only=True):
    role: Role
    at_s: float
    which: str = ""  # index, "leader", or "" for the default


class KillRecord(msgspec.Struct, kw_only=True):
    role: str
    index: int
    pid: int
    at_s: float
    restarted_s: float | None = None  # kill → the supervisor's new process exists
    recovered_s: float | None = None  # kill → the process is whole (see docs/scale.md, "Chaos")
    first_ack_after_s: float | None = None  # kill → first acknowledgement of a batch sent after it


class ChaosReport(msgspec.Struct, kw_only=True):
    events_planned: int
    events_acknowledged: int
    batches: int
    resends: int
    lost_events: int
    stream_messages: int
    stored_duplicates: int
    alerts_live: int
    alerts_reference: int
    alerts_missing: int
    alerts_extra: int
    alerts_differing: int
    kills: list[KillRecord]
    load_s: float
    settle_s: float
    examples: dict[str, list[str]]

    @property
    def ok(self) -> bool:
        return not (
            self.lost_events
            or self.stored_duplicates
            or self.alerts_missing
            or self.alerts_extra
            or self.alerts_differing
            or self.events_acknowledged < self.events_planned
            or any(k.recovered_s is None for k in self.kills)
        )


def parse_chaos(spec: str) -> list[Kill]:
    """``nats@4,ingest@9,worker:1@14`` → kills, sorted by time; errors name the bad item."""
    kills = []
    for i, item in enumerate(x.strip() for x in spec.split(",") if x.strip()):
        m = _ITEM.match(item)
        if m is None:
            raise ChaosError(f"chaos spec item {i + 1} `{item}`: expected ROLE[:INDEX]@SECONDS, ROLE one of "
                             "nats, ingest, worker (e.g. nats@4,ingest:0@9)")  # fmt: skip
        role, which, at = m.groups()
        if which == "leader" and role != "nats":
            raise ChaosError(f"chaos spec item {i + 1} `{item}`: only a NATS server can be the leader")
        kills.append(Kill(role=role, at_s=float(at), which=which or ""))  # type: ignore[arg-type]
    if not kills:
        raise ChaosError("the chaos spec names no kill")
    return sorted(kills, key=lambda k: k.at_s)


#: With ``due``, a batch holds only events due within this many seconds of its first.
BATCH_TICK_S = 0.2


def paced_batches(
    events: Sequence[ev.Event], batch: int, duration_s: float, due: Callable[[ev.Event], float] | None = None
) -> list[tuple[float, list[ev.Event]]]:
    """A source's events cut into ``(send at, batch)``, in order.

    Why two pacings: a chaos run only needs load spread over the kills (batches of ``batch``
    evenly over ``duration_s``); a measured replay must keep the stream's shape in time, so
    with ``due`` (an event's send time, seconds after the start) a batch is cut at ``batch``
    events or when the next event is due more than :data:`BATCH_TICK_S` after its first, and
    is sent when its first event is due (never before 0).
    """
    if due is None:
        cut = [list(events[i : i + batch]) for i in range(0, len(events), batch)]
        step = duration_s / max(len(cut), 1)
        return [(k * step, b) for k, b in enumerate(cut)]
    out: list[tuple[float, list[ev.Event]]] = []
    for e in events:
        at = max(0.0, due(e))
        if out and len(out[-1][1]) < batch and at - out[-1][0] <= BATCH_TICK_S:
            out[-1][1].append(e)
        else:
            out.append((at, [e]))
    return out


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


class _Run:
    def __init__(self, directory: Path, token: str) -> None:
        self.dir = directory
        self.config = load_config(directory)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.t0 = time.monotonic()
        self.acks: list[tuple[float, float, list[ev.Event]]] = []  # (sent at, acked at, batch)
        self.resends = 0

    def now(self) -> float:
        return time.monotonic() - self.t0

    def entry(self, role: str, index: int) -> Any:
        return next(p for p in load_state(self.dir).processes if p.role == role and p.index == index)

    async def send_source(self, client: httpx.AsyncClient, batches: list[tuple[float, list[ev.Event]]],
                          deadline: float) -> None:  # fmt: skip
        for due, batch in batches:
            if (wait := due - self.now()) > 0:
                await asyncio.sleep(wait)
            body = _ENC.encode(batch)
            first = True
            while self.now() < deadline:
                sent = self.now()
                if not first:
                    self.resends += 1
                first = False
                try:
                    r = await client.post("/v1/events", content=body, headers=self.headers)
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
                    continue
                if r.status_code == 202:
                    self.acks.append((sent, self.now(), batch))
                    break
                if r.status_code not in (429, 503):
                    raise RuntimeError(f"the cluster refused a batch with {r.status_code}: {r.text[:300]}")
                await asyncio.sleep(0.1)

    async def _leader(self) -> int:
        nc = await connect(self.config.nats_urls, name="supsim-chaos", timeout=10)
        try:
            info = await nc.jetstream(timeout=5).stream_info(EVENTS_STREAM)
            name = info.cluster.leader if info.cluster else None
            return int(name[1:]) if name and name.startswith("n") else 0
        finally:
            await nc.close()

    async def kill(self, k: Kill, out: list[KillRecord]) -> None:
        if (wait := k.at_s - self.now()) > 0:
            await asyncio.sleep(wait)
        index = int(k.which) if k.which.isdigit() else (await self._leader() if k.role == "nats" else 0)
        entry = self.entry(k.role, index)
        if not is_cluster_process(entry.pid):
            raise RuntimeError(f"pid {entry.pid} listed for {k.role} {index} is not a cluster process")
        os.kill(entry.pid, signal.SIGKILL)
        rec = KillRecord(role=k.role, index=index, pid=entry.pid, at_s=round(self.now(), 3))
        out.append(rec)
        killed_wall = time.time()
        new = entry
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            new = self.entry(k.role, index)
            if new.pid != entry.pid:
                rec.restarted_s = round(self.now() - rec.at_s, 3)
                break
            await asyncio.sleep(0.05)
        c = self.config
        while rec.restarted_s is not None and time.monotonic() < deadline:
            if k.role == "nats":
                whole = await asyncio.to_thread(_http_ok, f"http://{c.host}:{c.monitor_ports[index]}/healthz")
            elif k.role == "ingest":
                whole = await asyncio.to_thread(_http_ok, f"http://{c.host}:{c.ingest_ports[index]}/readyz")
            else:  # the supervisor may have had to restart it more than once
                whole = await self._worker_caught_up(index, self.entry(k.role, index).pid, killed_wall)
            if whole:
                rec.recovered_s = round(self.now() - rec.at_s, 3)
                return
            await asyncio.sleep(0.1)

    async def stats(self) -> dict[str, Any]:
        url = self.config.ingest_url + "/v1/stats"
        async with httpx.AsyncClient(timeout=10) as client:
            r = await client.get(url, headers=self.headers)
        return dict(r.json()) if r.status_code == 200 else {}

    async def _worker_caught_up(self, index: int, pid: int, after: float) -> bool:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            status = (await self.stats()).get("workers", {}).get(f"worker.{index}")
            if status and status["pid"] == pid:
                return all(p["idle_at"] > after for p in status["partitions"].values())
        return False

    async def settle(self, timeout: float) -> None:
        """Wait until every partition was idle after the load ended and the view read every alert."""
        end = time.time()
        parts = {str(p) for p in range(self.config.partitions)}
        deadline = time.monotonic() + timeout
        idle = False
        own = f"http://{self.config.host}:{self.config.ingest_ports[0]}"
        async with httpx.AsyncClient(base_url=own, timeout=10, headers=self.headers) as client:
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    s = (await client.get("/v1/stats")).json()
                    if idle and s["alerts_seen_seq"] >= s["alerts_stream"]["last_seq"]:
                        return
                    done = {
                        p for w in s.get("workers", {}).values()
                        for p, st in w["partitions"].items() if st["idle_at"] > end
                    }  # fmt: skip
                    idle = done >= parts
                await asyncio.sleep(0.1)
        raise TimeoutError(f"the workers and the alerts view did not catch up within {timeout:g} s")

    async def collect(self) -> tuple[list[Alert], set[str], int]:
        own = f"http://{self.config.host}:{self.config.ingest_ports[0]}"
        async with httpx.AsyncClient(base_url=own, timeout=60, headers=self.headers) as client:
            alerts: list[Alert] = []
            cursor = 0
            while True:
                page = (await client.get(f"/v1/alerts?limit=5000&cursor={cursor}")).json()
                alerts.extend(msgspec.convert(page["alerts"], list[Alert]))
                cursor = page["next_cursor"]
                if not page["more"]:
                    break
            ids = [e.event_id for _, _, b in self.acks for e in b]
            missing: set[str] = set()
            for i in range(0, len(ids), 5000):
                r = await client.post("/v1/events/known", content=_ENC.encode(ids[i : i + 5000]))
                r.raise_for_status()
                missing.update(r.json()["missing"])
            messages = int((await client.get("/v1/stats")).json()["events_stream"]["messages"])
        return alerts, missing, messages


def _key(a: Alert) -> str:
    return f"{a.hall_id or ''}\x1f{a.alert_id}"


async def run_chaos(
    directory: str | Path,
    sources: Mapping[str, Sequence[ev.Event]],
    kills: Sequence[Kill],
    *,
    duration_s: float = 15.0,
    batch: int = 50,
    rulebook: Any = None,
    settle_timeout: float = 60.0,
    due: Callable[[ev.Event], float] | None = None,
    give_up_s: float = 60.0,
) -> ChaosReport:
    """Replay ``sources`` (name → events in order) into the cluster of ``directory`` while ``kills`` run.

    ``due`` paces by event time (see :func:`paced_batches`); without it each source's batches
    are spread evenly over ``duration_s``. ``kills`` may be empty: a measured replay. A batch
    not acknowledged ``give_up_s`` after ``duration_s`` is given up (counted as not acknowledged).
    """
    d = Path(directory)
    config = load_config(d)
    specs = load_tokens(config.tokens)
    token = next((s.token for s in specs if s.role == "admin"), None)
    if token is None:
        raise ChaosError(f"{config.tokens}: a chaos run needs an admin token")
    run = _Run(d, token)
    planned = sum(len(v) for v in sources.values())
    records: list[KillRecord] = []
    deadline = duration_s + give_up_s
    limits = httpx.Limits(max_connections=max(len(sources), 1) * 2)
    async with httpx.AsyncClient(base_url=config.ingest_url, timeout=30, limits=limits) as client:
        senders = []
        for events in sources.values():
            senders.append(run.send_source(client, paced_batches(events, batch, duration_s, due), deadline))
        killers = [asyncio.create_task(run.kill(k, records)) for k in kills]
        await asyncio.gather(*senders)
        load_s = run.now()
        await asyncio.gather(*killers)
    t_settle = run.now()
    await run.settle(settle_timeout)
    settle_s = run.now() - t_settle
    live, missing, messages = await run.collect()
    for rec in records:
        after = [acked - rec.at_s for sent, acked, _ in run.acks if sent >= rec.at_s]
        rec.first_ack_after_s = round(min(after), 3) if after else None
    run.acks.sort(key=lambda x: x[1])
    acked = [e for _, _, b in run.acks for e in b]
    reference = reference_alerts(acked, rulebook)
    live_by = {_key(a): _ENC.encode(a) for a in live}
    ref_by = {_key(a): _ENC.encode(a) for a in reference}
    miss = sorted(set(ref_by) - set(live_by))
    extra = sorted(set(live_by) - set(ref_by))
    diff = sorted(k for k in set(ref_by) & set(live_by) if ref_by[k] != live_by[k])
    distinct = len({(getattr(e, "hall_id", None), e.event_id) for e in acked})
    return ChaosReport(
        events_planned=planned,
        events_acknowledged=len(acked),
        batches=len(run.acks),
        resends=run.resends,
        lost_events=len(missing),
        stream_messages=messages,
        stored_duplicates=max(0, messages - distinct),
        alerts_live=len(live_by),
        alerts_reference=len(ref_by),
        alerts_missing=len(miss),
        alerts_extra=len(extra),
        alerts_differing=len(diff),
        kills=sorted(records, key=lambda r: r.at_s),
        load_s=round(load_s, 3),
        settle_s=round(settle_s, 3),
        examples={
            "lost": sorted(missing)[:5],
            "missing": miss[:5],
            "extra": extra[:5],
            "differing": diff[:5],
        },
    )
