"""Pass/fail of a load run: service-level objectives checked when Locust quits.

Why in an ``events.quitting`` listener: that is where Locust lets a test set its process
exit code, so CI sees a failed SLO as a failed step, with or without ``supsim loadtest``
around it. A run during which Locust's own CPU warning fired is *invalid*, not passed or
failed: the load generator, not the deployment, may have been the bottleneck.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

__all__ = ["SLO", "Verdict", "install_slo_listener", "judge", "judged_events"]

INGEST = ("POST /v1/events", "POST")


class SLO(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    max_fail_ratio: float = 0.01
    p95_ms: float = 100.0
    p99_ms: float = 200.0
    min_rate_ratio: float = 0.95


class Verdict(msgspec.Struct, frozen=True, kw_only=True):
    passed: bool
    valid: bool
    reasons: list[str]
    requests: int
    failures: int
    fail_ratio: float
    p95_ms: float
    p99_ms: float
    events_delivered: int
    events_planned: int
    rate_ratio: float
    cpu_warning: bool


def judge(
    slo: SLO,
    *,
    requests: int,
    failures: int,
    p95_ms: float,
    p99_ms: float,
    delivered: int,
    planned: int,
    cpu_warning: bool,
) -> Verdict:
    """Check one run's figures against the SLOs; ``reasons`` lists every miss."""
    fail_ratio = failures / requests if requests else 0.0
    rate_ratio = delivered / planned if planned else 1.0
    reasons = []
    if fail_ratio > slo.max_fail_ratio:
        reasons.append(f"failure ratio {fail_ratio:.4f} > {slo.max_fail_ratio}")
    if p95_ms > slo.p95_ms:
        reasons.append(f"p95 {p95_ms:.0f} ms > {slo.p95_ms:.0f} ms")
    if p99_ms > slo.p99_ms:
        reasons.append(f"p99 {p99_ms:.0f} ms > {slo.p99_ms:.0f} ms")
    if rate_ratio < slo.min_rate_ratio:
        reasons.append(f"achieved {rate_ratio:.1%} of the planned events < {slo.min_rate_ratio:.0%}")
    if cpu_warning:
        reasons.append("INVALID: the load generator's CPU warning fired")
    return Verdict(
        passed=not reasons,
        valid=not cpu_warning,
        reasons=reasons,
        requests=requests,
        failures=failures,
        fail_ratio=fail_ratio,
        p95_ms=p95_ms,
        p99_ms=p99_ms,
        events_delivered=delivered,
        events_planned=planned,
        rate_ratio=rate_ratio,
        cpu_warning=cpu_warning,
    )


def judged_events(plan: Any) -> int:
    """Planned events the SLOs judge: all but the warm-up's (reference data of a capacity run)."""
    if plan is None:
        return 0
    warm = float(getattr(plan, "warmup_s", 0.0))
    return sum(s.n for src in plan.sources for s in src.sends if s.at >= warm)


def install_slo_listener(events: Any, plan: Callable[[], Any], out: Path) -> None:
    """Register the quitting listener: judge, write ``slo.json``, set the exit code.

    Only the master (or a local runner) judges; workers quit with their own code untouched.
    SLO overrides come from ``SUPSIM_SLO`` (JSON of :class:`SLO` fields).
    """

    @events.quitting.add_listener
    def _judge(environment: Any, **_: Any) -> None:
        runner = environment.runner
        if runner is None or type(runner).__name__ == "WorkerRunner":
            return
        slo = msgspec.json.decode(os.environ.get("SUPSIM_SLO", "{}").encode(), type=SLO)
        entry = environment.stats.get(*INGEST)
        p = plan()
        verdict = judge(
            slo,
            requests=entry.num_requests,
            failures=entry.num_failures,
            p95_ms=float(entry.get_response_time_percentile(0.95) or 0.0),
            p99_ms=float(entry.get_response_time_percentile(0.99) or 0.0),
            delivered=int(entry.total_content_length),
            planned=judged_events(p),
            cpu_warning=bool(
                getattr(runner, "cpu_warning_emitted", False)
                or getattr(runner, "worker_cpu_warning_emitted", False)
            ),
        )
        out.mkdir(parents=True, exist_ok=True)
        (out / "slo.json").write_bytes(msgspec.json.format(msgspec.json.encode(verdict), indent=2) + b"\n")
        environment.process_exit_code = 0 if verdict.passed else 1
