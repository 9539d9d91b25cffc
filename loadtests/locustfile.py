"""Locust users that replay a plan against a deployment, open model, one user per source.

Run by ``supsim loadtest`` (which writes the plan and sets the environment), or by hand::

    SUPSIM_PLAN=runs/lt/plan.msgpack SUPSIM_TOKENS=runs/lt/tokens.json SUPSIM_OUT=runs/lt \\
        locust -f loadtests/locustfile.py --headless --host http://127.0.0.1:8000

Why an open model: a closed loop (send, wait for the answer, send the next) slows down
when the server slows down, so a server stall shows up as a few slow requests instead of
a pile of late ones (a 2-second freeze measured p99 = 7 ms under ``constant_throughput``).
Here every request has an *intended* send instant from the plan, and its latency is
measured from that instant; a source that falls behind sends at once and its lateness
counts. A source stays sequential (its events keep their order, as a terminal's do).

Which process replays which source: process ``w`` of ``SUPSIM_WORKERS`` takes the sources
with ``index % workers == w``, dealt inside the process to the users Locust gave it when
the replay starts (:mod:`loadtests.dealing`); a user replays each of its sources in its own
greenlet.

A capacity plan (``--from-busiest``) starts with a warm-up of reference data; its sends are
reported as ``POST /v1/events (warm-up)`` (not judged) and the judged window opens only when
the deployment has applied them (:mod:`loadtests.warmup`, bounded by ``SUPSIM_WARMUP_MAX_S``,
default 120 s): judged send ``k`` is then due ``at_k - warmup_s`` after that instant.

On a node of several processes each source with a hall sends to its owner's own port
(:mod:`loadtests.routing`, ``GET /v1/partitions`` read once at the start), unless
``SUPSIM_NODE_ROUTING=public``.

Each ``POST /v1/events`` is reported with ``response_length`` = the number of events it
carried, so Locust's aggregated stats (also across workers) hold the events delivered.
"""

from __future__ import annotations

import os
import time
import urllib.request
from pathlib import Path
from typing import Any, ClassVar, cast

import gevent
import gevent.event
import msgspec
from locust import LoadTestShape, between, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment

from loadtests.dealing import deal
from loadtests.dealing import share as _share
from loadtests.replay_plan import Plan, SourcePlan, load_plan
from loadtests.routing import fetch_partitions, owner_url
from loadtests.slo import install_slo_listener
from loadtests.warmup import WarmupGate, warmup_events

__all__ = [
    "CameraUser",
    "PlanShape",
    "SupervisorConsole",
    "TradingPlatformUser",
    "WindowTerminalUser",
    "deal",
    "grace_s",
    "share",
]

_PLAN: Plan | None = load_plan(os.environ["SUPSIM_PLAN"]) if os.environ.get("SUPSIM_PLAN") else None
_TOKENS: dict[str, str] = (
    msgspec.json.decode(Path(os.environ["SUPSIM_TOKENS"]).read_bytes())
    if os.environ.get("SUPSIM_TOKENS")
    else {}
)
_OUT = Path(os.environ.get("SUPSIM_OUT", "."))
_WORKERS = max(int(os.environ.get("SUPSIM_WORKERS", "1")), 1)
_MAX_RETRY_S = 5.0
_WARMUP_MAX_S = float(os.environ.get("SUPSIM_WARMUP_MAX_S", "120"))
_state: dict[str, Any] = {"epoch": None, "acked": {}, "users": [], "dealt": None, "judged": None}
_opened = gevent.event.Event()


def grace_s() -> float:
    """Seconds from the test start to the first send: time for Locust to spawn every user."""
    return 1.0 + (len(_PLAN.sources) / 400.0 if _PLAN else 0.0)


def _sources(role: str) -> list[SourcePlan]:
    return [s for s in (_PLAN.sources if _PLAN else []) if s.role == role]


def _warmup_s() -> float:
    return float(_PLAN.warmup_s) if _PLAN is not None else 0.0


@events.test_start.add_listener
def _on_start(environment: Environment, **_: Any) -> None:
    now = time.monotonic()
    _state.update(start=now, epoch=now + grace_s(), acked={}, users=[], dealt=None, judged=None)
    _opened.clear()
    is_master = type(environment.runner).__name__ == "MasterRunner"
    _state["partitions"] = None
    if not is_master and os.environ.get("SUPSIM_NODE_ROUTING", "map") != "public":
        admin = _TOKENS.get("admin", _TOKENS.get("supervisor", ""))
        _state["partitions"] = fetch_partitions(environment.host or "", admin)
    if _warmup_s() <= 0:
        _state["judged"] = _state["epoch"]
        _opened.set()
        return
    index = int(getattr(environment.runner, "worker_index", 0))
    mine = [] if is_master else share(index, _WORKERS)  # each replay signals once, sends or not
    gate = WarmupGate(len(mine), warmup_events(_PLAN), max_s=grace_s() + _WARMUP_MAX_S, sleep=gevent.sleep)
    _state["gate"] = gate
    token = _TOKENS.get("supervisor", _TOKENS.get("admin", ""))
    url = f"{(environment.host or '').rstrip('/')}/v1/stats"

    def fetch() -> dict[str, Any]:
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            return cast(dict[str, Any], msgspec.json.decode(resp.read()))

    def open_window() -> None:
        _state["judged"] = gate.wait(fetch)
        _state["warmup_timed_out"] = gate.timed_out
        _opened.set()

    gevent.spawn(open_window)


def share(worker_index: int, workers: int) -> list[SourcePlan]:
    """The sources process ``worker_index`` of ``workers`` replays (:func:`loadtests.dealing.share`)."""
    return _share(_PLAN.sources if _PLAN else [], worker_index, workers)


@events.test_stop.add_listener
def _on_stop(environment: Environment, **_: Any) -> None:
    """Each process writes which sends were acknowledged (source → count of acked sends)."""
    acked = _state["acked"]
    if acked:
        _OUT.mkdir(parents=True, exist_ok=True)
        (_OUT / f"acked-{os.getpid()}.json").write_bytes(msgspec.json.encode(acked))
    if _warmup_s() > 0 and type(environment.runner).__name__ != "WorkerRunner" and _state["epoch"]:
        judged = _state["judged"]
        info = {
            "warmup_wall_s": None if judged is None else round(judged - _state["epoch"], 3),
            "warmup_timed_out": bool(_state.get("warmup_timed_out", judged is None)),
            # the system-wide monotonic clock: a bench beside the run can cut its own series here
            "judged_monotonic": judged,
        }
        _OUT.mkdir(parents=True, exist_ok=True)
        (_OUT / "warmup.json").write_bytes(msgspec.json.encode(info))


install_slo_listener(events, lambda: _PLAN, _OUT)


class _SourceUser(FastHttpUser):
    """Replays one source's sends at their intended instants (see the module docstring)."""

    abstract = True
    role: ClassVar[str] = ""
    network_timeout = 30.0
    connection_timeout = 10.0
    concurrency = 64  # connections of this user: one per source it replays

    def on_start(self) -> None:
        _state["users"].append(self)

    def _mine(self) -> list[SourcePlan]:
        if _state["dealt"] is None:
            index = int(getattr(self.environment.runner, "worker_index", 0))
            _state["dealt"] = deal(share(index, _WORKERS), list(_state["users"]))
        return list(_state["dealt"].get(id(self), []))

    @task
    def replay(self) -> None:
        epoch = _state["epoch"] or time.monotonic()
        gevent.sleep(max(0.0, epoch - time.monotonic()))
        mine = self._mine()
        if len(mine) == 1:
            self._replay(mine[0], epoch)
        elif mine:
            gevent.joinall([gevent.spawn(self._replay, src, epoch) for src in mine])
        gevent.sleep(3600)  # done: idle until the shape ends the run

    def _replay(self, src: SourcePlan, epoch: float) -> None:
        headers = {"Authorization": f"Bearer {_TOKENS.get(src.source, _TOKENS.get('admin', ''))}"}
        headers["Content-Type"] = "application/json"
        warmup = _warmup_s()
        judged_s = (_PLAN.duration_s if _PLAN else 0.0) - warmup
        deadline = epoch + grace_s() + _WARMUP_MAX_S
        acked = _state["acked"]
        gate: WarmupGate | None = _state.get("gate") if warmup > 0 else None
        warming = gate is not None
        owner = owner_url(_state.get("partitions"), src.hall)
        path = f"{owner}/v1/events" if owner else "/v1/events"
        try:
            for i, send in enumerate(src.sends):
                warm = send.at < warmup
                if warm:
                    intended = epoch + send.at
                else:
                    if warming and gate is not None:
                        warming = False
                        gate.source_done()
                    _opened.wait()
                    intended = _state["judged"] + send.at - warmup
                    deadline = _state["judged"] + judged_s + 30.0
                delay = intended - time.monotonic()
                if delay > 0:
                    gevent.sleep(delay)
                if not self._deliver(path, send.body, send.n, intended, headers, deadline, warm):
                    break
                acked[src.source] = i + 1
        finally:
            if warming and gate is not None:
                gate.source_done()

    def _deliver(
        self,
        path: str,
        body: bytes,
        n: int,
        intended: float,
        headers: dict[str, str],
        deadline: float,
        warm: bool,
    ) -> bool:
        """Send until acknowledged (429/503/network errors are retried); False if abandoned."""
        while time.monotonic() < deadline:
            with self.client.post(
                path,
                data=cast(Any, body),  # bytes go out as they are; the stub says str
                headers=headers,
                name="POST /v1/events (warm-up)" if warm else "POST /v1/events",
                catch_response=True,
            ) as resp:
                resp.request_meta["response_time"] = (time.monotonic() - intended) * 1000.0
                status = resp.status_code
                if status == 202:
                    resp.request_meta["response_length"] = n
                    resp.success()
                    return True
                resp.request_meta["response_length"] = 0
                if status in (429, 503) or status == 0:
                    retry = resp.headers.get("Retry-After") if resp.headers else None
                    resp.failure(f"HTTP {status}; retried")
                    gevent.sleep(min(float(retry or 0.2), _MAX_RETRY_S))
                    continue
                resp.failure(f"HTTP {status}: {resp.text[:200] if resp.text else ''}")
                return False
        return False


class WindowTerminalUser(_SourceUser):
    role = "window"
    fixed_count = len(_sources("window"))


class CameraUser(_SourceUser):
    role = "camera"
    fixed_count = len(_sources("camera"))


class ComplaintsPlatformUser(_SourceUser):
    """A supervision centre's complaints platform: the hall's ``complaint.*`` events."""

    role = "complaints"
    fixed_count = len(_sources("complaints"))


class TradingPlatformUser(_SourceUser):
    role = "trading"
    fixed_count = len(_sources("trading"))


class SupervisorConsole(FastHttpUser):
    """A supervision-centre console tailing the alerts and the stats every two seconds."""

    fixed_count = 1
    wait_time = between(1.5, 2.5)

    def on_start(self) -> None:
        self.cursor = 0
        self.headers = {"Authorization": f"Bearer {_TOKENS.get('supervisor', _TOKENS.get('admin', ''))}"}

    @task
    def poll(self) -> None:
        with self.client.get(
            f"/v1/alerts?limit=500&cursor={self.cursor}", headers=self.headers, name="GET /v1/alerts",
            catch_response=True,
        ) as resp:  # fmt: skip
            if resp.status_code == 200 and resp.text:
                self.cursor = int(msgspec.json.decode(resp.text.encode())["next_cursor"])
        self.client.get("/v1/stats", headers=self.headers, name="GET /v1/stats")


class PlanShape(LoadTestShape):
    """Every source user at once, for the plan's duration; the rate lives in the plan.

    Under the open model the arrival rate is set by the plan's intended instants (the hall
    day or the step ramp of :mod:`loadtests.replay_plan`), not by the user count, so the shape's job
    is to start one user per source and console and to end the run on time.
    """

    def tick(self) -> tuple[int, float] | None:
        if _PLAN is None:
            return None
        users = len(_PLAN.sources) + 1
        judged = _state["judged"]
        if judged is not None:
            end = judged + _PLAN.duration_s - _warmup_s() + 1.5
        else:  # still warming up: the gate is bounded, so is the run
            end = _state.get("start", time.monotonic()) + grace_s() + _WARMUP_MAX_S + _PLAN.duration_s + 1.5
        if time.monotonic() > end:
            return None
        return users, float(max(users, 100))
