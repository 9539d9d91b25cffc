"""``supsim loadtest``: drive a deployment with Locust, then check nothing was lost or changed.

Steps: simulate the scenario; cut its stream into a replay plan (:mod:`loadtests.replay_plan`);
run Locust headless on it (CSV and HTML report into the run folder; SLO verdict in
``slo.json``); ask the deployment which acknowledged events it holds; pull its alerts and
compare them with the in-process engine on the same acknowledged events; score both
against the truth (accuracy under load). Exit 0 only if the SLOs passed, lost, missing,
extra and differing are all zero, and the deployment held none of the run's events before
(a second run against the same deployment measures nothing). An earlier load test's folder
is never overwritten unless asked. Locust and httpx come with the ``[load]`` extra.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec

from supsim.cli.extras import require

__all__ = ["loadtest", "register"]

logger = logging.getLogger(__name__)

_LOCUSTFILE = Path(__file__).resolve().parents[2] / "loadtests" / "locustfile.py"


def _tokens_for(plan_sources: list[tuple[str, str, str | None]], tokens_file: Path | None) -> dict[str, str]:
    """Source → the most specific token in the file (role and hall), else the admin token."""
    from engine.service.auth import load_tokens

    specs = load_tokens(tokens_file) if tokens_file is not None and tokens_file.exists() else []
    admin = next((s.token for s in specs if s.role == "admin"), "")
    out = {"admin": admin}
    out["supervisor"] = next((s.token for s in specs if s.role == "supervisor"), admin)
    for name, role, hall in plan_sources:
        out[name] = next((s.token for s in specs if s.role == role and s.hall == hall), admin)
    return out


def _acked(out: Path) -> tuple[dict[str, int], list[str]]:
    """Acknowledged sends per source over every Locust process, and the sources two processes sent."""
    acked: dict[str, int] = {}
    twice: list[str] = []
    for path in sorted(out.glob("acked-*.json")):
        for source, n in json.loads(path.read_text()).items():
            if source in acked:
                twice.append(source)
            acked[source] = max(acked.get(source, 0), int(n))
    return acked, sorted(twice)


def _accuracy(events: list[Any], alerts: list[Any], world: Any, seed: int) -> dict[str, object]:
    from reports import evaluate

    e = evaluate(events, alerts, world.truth, calendar=world.calendar, seed=seed, bootstrap=0)
    o = e.overall
    return {
        "alerts": o.alerts, "tp": o.tp, "fp": o.fp, "fn": o.fn,
        "precision": o.precision, "recall": o.recall, "f1": o.f1,
    }  # fmt: skip


def loadtest(args: argparse.Namespace) -> int:
    """``supsim loadtest``: simulate the scenario, then :func:`drive` the deployment with it."""
    from sim.common.scenario import load_scenario
    from sim.hall.world import simulate

    require("locust", "httpx")  # before the simulation, not after it
    import httpx

    if (why := _unreachable(args.host)) is not None:
        print(
            f"supsim loadtest: cannot reach the deployment at {args.host} ({why}); start one "
            "(`supsim serve`) or check --host",
            file=sys.stderr,
        )
        return 2
    out = _run_folder(args)
    if out is None:
        return 2
    args.out = str(out)
    scenario = load_scenario(Path(args.scenario))
    seed = scenario.seed if args.seed is None else args.seed
    try:
        return drive(args, scenario, simulate(scenario, seed=seed), seed)
    except (OSError, httpx.HTTPError) as exc:  # the deployment went away, or refused the harness's checks
        logger.error("a request to %s failed during the load test", args.host, exc_info=True)
        print(
            f"supsim loadtest: FAILED: a request to the deployment at {args.host} failed during the run "
            f"({exc}: gone, or refusing the tokens in use?); the run folder {out} holds what was written "
            "before",
            file=sys.stderr,
        )
        return 1


def _unreachable(host: str) -> str | None:
    """Why ``host`` cannot be reached (any HTTP answer, even 404, counts as reachable), or None."""
    import httpx

    try:
        httpx.get(host.rstrip("/") + "/healthz", timeout=10)
    except (httpx.HTTPError, OSError) as exc:
        return str(exc) or type(exc).__name__
    return None


def _run_folder(args: argparse.Namespace) -> Path | None:
    """Where this load test writes: never over an earlier one unless asked (``--overwrite``).

    Without ``--out`` the first free ``runs/loadtest-<scenario>[-N]``; an ``--out`` that holds a
    ``loadtest.json`` is refused, naming it, because its figures would be replaced.
    """
    if args.out is None:
        base = Path("runs") / f"loadtest-{Path(args.scenario).stem}"
        out, n = base, 1
        while (out / "loadtest.json").exists():
            n += 1
            out = base.with_name(f"{base.name}-{n}")
        return out
    out = Path(args.out)
    if (out / "loadtest.json").exists() and not getattr(args, "overwrite", False):
        print(
            f"supsim loadtest: {out / 'loadtest.json'}: the folder holds an earlier load test; choose "
            "another --out, or pass --overwrite to replace it",
            file=sys.stderr,
        )
        return None
    return out


def _duplicates(host: str, token: str) -> int:
    """The deployment's count of events acknowledged as duplicates so far."""
    import httpx

    stats = httpx.get(
        host.rstrip("/") + "/v1/stats", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).json()
    return int(stats.get("events_duplicate") or 0)


def drive(args: argparse.Namespace, scenario: Any, world: Any, seed: int) -> int:
    """Plan, run Locust, check loss and alerts, score; ``world`` is the simulated scenario.

    Separate from :func:`loadtest` so that a capacity search stepping ``--halls`` simulates
    the scenario once (``city_hall`` takes about 15 s) and replays it at every step.
    """
    require("locust")  # Locust runs in a subprocess: check here, not from its exit code
    import httpx

    from engine.contract import events as ev
    from engine.rules.rulebook import load_rulebook
    from engine.service.halls import reference_alerts
    from loadtests.compare import compare_alerts, fetch_alerts, missing_events
    from loadtests.replay_plan import make_plan, unordered_halls, write_plan
    from loadtests.warmup import warmup_events

    scenario_path = Path(args.scenario)
    out = Path(args.out) if args.out else Path("runs") / f"loadtest-{scenario_path.stem}"
    out.mkdir(parents=True, exist_ok=True)
    for stale in [*out.glob("acked-*.json"), out / "slo.json", out / "warmup.json"]:
        stale.unlink(missing_ok=True)
    ramp = [float(x) for x in args.ramp.split(",")] if args.ramp else None
    book = (
        load_rulebook(args.rulebook)
        if args.rulebook
        else load_rulebook(scenario.rulebook_path(scenario_path))
    )
    plan = make_plan(
        world.events, scenario=scenario.name, duration_s=args.duration, halls=args.halls, peak=args.peak,
        tick_s=args.tick, ramp=ramp, from_busiest=args.from_busiest, stagger=not args.no_stagger,
        same_ids=getattr(args, "same_ids", False), lateness_s=float(book.allowed_lateness),
    )  # fmt: skip
    write_plan(plan, out / "plan.msgpack")
    tokens = _tokens_for(
        [(s.source, s.role, s.hall) for s in plan.sources], Path(args.tokens) if args.tokens else None
    )
    (out / "tokens.json").write_text(json.dumps(tokens))
    (out / "tokens.json").chmod(0o600)
    print(
        f"plan: {plan.events:,} events from {len(plan.sources)} sources, {plan.halls} hall(s), "
        f"shape {plan.shape}, "
        f"{args.duration:.0f} s; hall-scale peak {plan.hall_peak_rate:.2f} events/s; planned peak "
        f"{plan.peak_rate:.1f} events/s ({plan.peak_rate / max(plan.hall_peak_rate, 1e-9):,.0f}× hall peak)",
        flush=True,
    )
    env = dict(os.environ, SUPSIM_PLAN=str(out / "plan.msgpack"), SUPSIM_TOKENS=str(out / "tokens.json"))
    env.update(SUPSIM_OUT=str(out), SUPSIM_WORKERS=str(max(args.processes, 1)))
    env["SUPSIM_WARMUP_MAX_S"] = str(args.warmup_max)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "locust", "-f", str(_LOCUSTFILE), "--headless", "--host", args.host,
           "--csv", str(out / "locust"), "--html", str(out / "locust.html"), "--only-summary",
           "--loglevel", "WARNING"]  # fmt: skip
    if args.processes > 1:
        # Master and workers talk on loopback only, on a free port pair (two runs at once on one
        # machine must not collide on Locust's default 5557/5558).
        port = _free_port_pair()
        cmd += ["--processes", str(args.processes), "--master-bind-host", "127.0.0.1"]
        cmd += ["--master-bind-port", str(port), "--master-host", "127.0.0.1", "--master-port", str(port)]
    cpus = {int(c) for c in args.locust_cpus.split(",")} if args.locust_cpus else None

    def pin() -> None:  # the load generator kept off the deployment's cores
        if cpus is not None:
            os.sched_setaffinity(0, cpus)

    # Events the deployment already holds are acknowledged as duplicates and measure nothing:
    # a second run against the same deployment would otherwise "pass" on the first run's work.
    duplicates_before = _duplicates(args.host, tokens["supervisor"])
    limit = args.duration + args.warmup_max + 120
    code = subprocess.run(cmd, env=env, timeout=limit, preexec_fn=pin).returncode
    slo: dict[str, Any] = {"passed": False, "reasons": ["Locust wrote no verdict"]}
    if (out / "slo.json").exists():
        slo = json.loads((out / "slo.json").read_text())

    warmup = json.loads((out / "warmup.json").read_text()) if (out / "warmup.json").exists() else {}
    acked, twice = _acked(out)
    unsent = sorted(s.source for s in plan.sources if s.sends and acked.get(s.source, 0) == 0)
    supervisor = tokens["supervisor"]
    sent: list[tuple[float, int, ev.Event]] = []
    acked_ids: list[tuple[str | None, str]] = []
    in_flight = 0
    for k, src in enumerate(plan.sources):
        n = acked.get(src.source, 0)
        for send in src.sends[:n]:
            for event in ev.decode_events(send.body):
                sent.append((send.at, k, event))
                acked_ids.append((getattr(event, "hall_id", None), event.event_id))
        if n < len(src.sends):  # a request cut off by the end of the run may still have been stored
            nxt = ev.decode_events(src.sends[n].body)
            if not missing_events(
                args.host, supervisor, [(getattr(e, "hall_id", None), e.event_id) for e in nxt]
            ):
                sent.extend((src.sends[n].at, k, e) for e in nxt)
                in_flight += 1
    sent.sort(key=lambda x: (x[0], x[1]))
    events = [e for _, _, e in sent]
    reference = reference_alerts(events, book)
    lost = missing_events(args.host, supervisor, acked_ids)
    service_stats = httpx.get(
        args.host.rstrip("/") + "/v1/stats", headers={"Authorization": f"Bearer {supervisor}"}, timeout=30
    ).json()
    already_held = int(service_stats.get("events_duplicate") or 0) - duplicates_before
    halls = {s.hall for s in plan.sources if s.hall}
    live = [a for a in fetch_alerts(args.host, supervisor) if a.hall_id is None or a.hall_id in halls]
    cmp = compare_alerts(live, reference)
    unordered = unordered_halls(plan, args.tick, float(book.allowed_lateness))
    original = [e for e in events if "~r" not in getattr(e, "hall_id", "")]
    acc_live = _accuracy(original, [a for a in live if "~r" not in (a.hall_id or "")], world, seed)
    acc_ref = _accuracy(original, [a for a in reference if "~r" not in (a.hall_id or "")], world, seed)
    report: dict[str, Any] = {
        "slo": slo,
        "events_planned": plan.events,
        "events_acknowledged": len(acked_ids),
        "lost_events": len(lost),
        "events_duplicate_at_service": service_stats.get("events_duplicate"),
        "events_already_held": already_held,
        "stored_unacknowledged_batches": in_flight,
        "sources": len(plan.sources),
        "same_ids": plan.same_ids,
        "sources_unsent": unsent,
        "sources_sent_by_two_processes": twice,
        "locust_processes": max(args.processes, 1),
        "alerts_live": cmp.live,
        "alerts_reference": cmp.reference,
        "alerts_missing": len(cmp.missing),
        "alerts_extra": len(cmp.extra),
        "alerts_differing": len(cmp.differing),
        "accuracy_live": acc_live,
        "accuracy_in_process": acc_ref,
        "accuracy_equal": acc_live == acc_ref,
        "halls_with_unordered_sources": unordered,
        "warmup_events": warmup_events(plan),
        "warmup_wall_s": warmup.get("warmup_wall_s"),
        "warmup_timed_out": warmup.get("warmup_timed_out", False),
        "hall_scale_peak_events_per_s": plan.hall_peak_rate,
        "planned_peak_events_per_s": plan.peak_rate,
        "examples": {"lost": lost[:5], "missing": cmp.missing[:5], "extra": cmp.extra[:5]},
    }
    failures = _failures(report, slo, code, lost=len(lost), twice=twice)
    report["passed"], report["failures"] = not failures, failures
    (out / "loadtest.json").write_bytes(msgspec.json.format(msgspec.json.encode(report), indent=2) + b"\n")
    reasons = "; ".join(str(r) for r in slo.get("reasons", []))
    latency = f"(p95 {slo.get('p95_ms', 0):.0f} ms, p99 {slo.get('p99_ms', 0):.0f} ms)"
    if already_held:  # the latencies timed duplicate handling, not this run's events
        slo_line = f"SLO not judged: the run's events were already held {latency}"
    else:
        slo_line = f"SLO {'passed' if slo.get('passed') else 'FAILED'}: {reasons or 'all met'} {latency}"
    print(
        f"{slo_line}\n"
        f"events acknowledged {len(acked_ids):,} of {plan.events:,} planned; lost {len(lost)}\n"
        f"alerts live {cmp.live:,}, in-process {cmp.reference:,}: missing {len(cmp.missing)}, "
        f"extra {len(cmp.extra)}, differing {len(cmp.differing)}\n"
        f"accuracy under load: F1 {acc_live['f1']} (in-process {acc_ref['f1']}); "
        f"{'equal' if acc_live == acc_ref else 'DIFFERENT'}\n"
        f"report: {out / 'loadtest.json'}, {out / 'locust.html'}"
    )
    if unordered:
        print(
            f"note: hall(s) {', '.join(unordered[:5])} have several sources and one tick spans more than "
            f"the allowed lateness of event time ({args.tick:g} s x {plan.compression:,.0f}): their arrival "
            "order decides which events are late, so live and in-process alerts may differ (lower --peak or "
            "--tick)"
        )
    if already_held:
        print(
            f"FAILED: the deployment already held {already_held:,} of this run's events (acknowledged as "
            "duplicates), so they measured nothing; run against an empty deployment, or with other hall "
            "ids (--halls makes copies with distinct ids)"
        )
    print("load test PASSED" if not failures else f"load test FAILED: {'; '.join(failures)}")
    return 0 if not failures else 1


def _failures(
    report: dict[str, Any], slo: dict[str, Any], code: int, *, lost: int, twice: list[str]
) -> list[str]:
    """Every reason the run fails, in the order a reader checks them; empty when it passes."""
    out = []
    if report["events_already_held"]:
        out.append(f"{report['events_already_held']:,} events already held")
    elif not slo.get("passed"):
        out.append("SLO not met")
    if lost:
        out.append(f"{lost:,} acknowledged events lost")
    if report["alerts_missing"] or report["alerts_extra"] or report["alerts_differing"]:
        out.append("live alerts differ from in-process")
    if not report["accuracy_equal"]:
        out.append("accuracy under load differs")
    if twice:
        out.append("sources sent by two processes")
    if code != 0:
        out.append(f"Locust exited with status {code}")
    return out


def _free_port_pair() -> int:
    """A loopback port P with P + 1 also free (Locust's master takes both)."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = int(a.getsockname()[1])
            with socket.socket() as b:
                try:
                    b.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no free pair of loopback ports for the Locust master")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``loadtest`` to the ``supsim`` command line."""
    p = subparsers.add_parser(
        "loadtest", help="replay a scenario against a deployment with Locust; check for loss"
    )
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--host", required=True, help="deployment base URL, e.g. http://127.0.0.1:8000")
    p.add_argument(
        "--peak", type=float, default=None, help="busiest hour at X × hall-scale peak (default: fit)"
    )
    p.add_argument("--duration", type=float, default=30.0, help="seconds of load (default 30)")
    p.add_argument("--halls", type=int, default=1, help="copies of the scenario's halls (distinct ids)")
    p.add_argument(
        "--same-ids", action="store_true", help="hall copies keep the original's case and event ids"
    )
    p.add_argument("--ramp", default=None, help="step ramp instead: comma-separated events/s per step")
    p.add_argument(
        "--tick", type=float, default=1.0, help="a source's batching tick in s (0: one event each)"
    )
    p.add_argument(
        "--no-stagger", action="store_true", help="all sources flush on the same tick (burst test)"
    )
    p.add_argument("--processes", type=int, default=1, help="Locust worker processes on this machine")
    p.add_argument(
        "--from-busiest", action="store_true", help="start at the busiest hour (capacity runs; see docs)"
    )
    p.add_argument(
        "--warmup-max", type=float, default=120.0, help="longest warm-up drain wait, s (default 120)"
    )
    p.add_argument("--locust-cpus", default=None, help="pin Locust to these CPUs, e.g. 1 (Linux)")
    p.add_argument("--tokens", default="runs/service/tokens.yaml", help="token file (default: the demo's)")
    p.add_argument("--rulebook", default=None, help="the deployment's rulebook (default: the scenario's)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument(
        "--out", default=None, help="run folder (default: the first free runs/loadtest-<scenario>[-N])"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an earlier load test in --out")
    p.set_defaults(func=loadtest)
