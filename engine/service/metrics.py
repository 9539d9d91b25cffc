"""Counters of the live service and their Prometheus text exposition.

Why hand-written rather than a client library: a dozen series, all updated from one event
loop and one writer thread, do not need a registry; and the exposition format is plain
text. Counters only go up; rates are for Prometheus to compute (``rate()``), except the
short-window ingest rate that the supervision-centre page shows without a Prometheus.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "COMMIT_BUCKETS",
    "INGEST_BUCKETS",
    "SIDE_OUTPUT_STATS",
    "Histogram",
    "Metrics",
    "render_calendar_metrics",
    "render_quarantine_metrics",
    "side_output_counts",
]

#: Side-output reason (``engine.core.SIDE_REASONS``) → the engine stats key that counts it.
#: Duplicates posted to the service are answered by the store before the engine sees them
#: (``supsim_ingest_events_total{result="duplicate"}``); ``duplicate`` here counts only
#: those the engine itself set aside, as in a replay.
SIDE_OUTPUT_STATS: dict[str, str] = {
    "late": "late",
    "future": "future",
    "duplicate": "duplicates",
    "after_close": "after_close",
    "out_of_calendar": "out_of_calendar",
}


def side_output_counts(engine: dict[str, int]) -> dict[str, int]:
    """Every side-output reason with its count (zeros included) from engine stats."""
    return {reason: engine.get(key, 0) for reason, key in SIDE_OUTPUT_STATS.items()}


COMMIT_BUCKETS: tuple[float, ...] = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
INGEST_BUCKETS: tuple[float, ...] = (
    0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
)  # fmt: skip
_RATE_WINDOW_S = 10.0


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Histogram:
    """A Prometheus-style histogram with fixed bounds (seconds); not cumulative until rendered."""

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0
        self.n = 0

    def observe(self, seconds: float) -> None:
        i = 0
        while i < len(self.bounds) and seconds > self.bounds[i]:
            i += 1
        self.counts[i] += 1
        self.total += seconds
        self.n += 1

    def render(self, name: str, lines: list[str], labels: str = "") -> None:
        """Append the series; ``labels`` (``key="value"``, comma-separated) go on every sample."""
        head = labels + "," if labels else ""
        tail = "{" + labels + "}" if labels else ""
        cumulative = 0
        for bound, n in zip(self.bounds, self.counts, strict=False):
            cumulative += n
            lines.append(f'{name}_bucket{{{head}le="{bound}"}} {cumulative}')
        lines.append(f'{name}_bucket{{{head}le="+Inf"}} {self.n}')
        lines.append(f"{name}_sum{tail} {self.total:.6f}")
        lines.append(f"{name}_count{tail} {self.n}")


class Metrics:
    """Service counters. ``clock`` is injectable so tests can drive the rate window."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.requests: dict[int, int] = {}
        self.events_accepted = 0
        self.events_duplicate = 0
        self.alerts_by_rule: dict[str, int] = {}
        self.commit_buckets = [0] * (len(COMMIT_BUCKETS) + 1)
        self.commit_sum = 0.0
        self.commit_count = 0
        self.group_events_sum = 0
        self.ingest_seconds = Histogram(INGEST_BUCKETS)
        self._recent: deque[tuple[float, int]] = deque()

    def request(self, status: int) -> None:
        self.requests[status] = self.requests.get(status, 0) + 1

    def ingest_served(self, seconds: float) -> None:
        """Record the server-side time of one acknowledged ``POST /v1/events`` (arrival to 202).

        Set beside a client's latency, it splits a slow answer into the server's share and the
        network's, the client's and the scheduler's.
        """
        self.ingest_seconds.observe(seconds)

    def committed(self, seconds: float, accepted: int, duplicates: int, alerts: dict[str, int]) -> None:
        """Record one group commit (called from the writer thread; ints and floats only)."""
        i = 0
        while i < len(COMMIT_BUCKETS) and seconds > COMMIT_BUCKETS[i]:
            i += 1
        self.commit_buckets[i] += 1
        self.commit_sum += seconds
        self.commit_count += 1
        self.group_events_sum += accepted + duplicates
        self.events_accepted += accepted
        self.events_duplicate += duplicates
        for rule, n in alerts.items():
            self.alerts_by_rule[rule] = self.alerts_by_rule.get(rule, 0) + n
        self._recent.append((self._clock(), accepted))

    def ingest_rate(self) -> float:
        """Accepted events per second over the last ten seconds."""
        now = self._clock()
        recent = self._recent
        while recent and recent[0][0] < now - _RATE_WINDOW_S:
            recent.popleft()
        return sum(n for _, n in list(recent)) / _RATE_WINDOW_S

    def render(self, *, queue_depth: int, queue_bound: int, engine: dict[str, int]) -> str:
        lines: list[str] = []

        def family(name: str, kind: str, text: str) -> None:
            lines.append(f"# HELP {name} {text}")
            lines.append(f"# TYPE {name} {kind}")

        family("supsim_ingest_requests_total", "counter", "Ingest requests by HTTP status.")
        for status, n in sorted(self.requests.items()):
            lines.append(f'supsim_ingest_requests_total{{code="{status}"}} {n}')
        family("supsim_ingest_events_total", "counter", "Events acknowledged, by outcome.")
        lines.append(f'supsim_ingest_events_total{{result="accepted"}} {self.events_accepted}')
        lines.append(f'supsim_ingest_events_total{{result="duplicate"}} {self.events_duplicate}')
        family("supsim_ingest_rate_events_per_second", "gauge", "Accepted events/s over the last 10 s.")
        lines.append(f"supsim_ingest_rate_events_per_second {self.ingest_rate():.3f}")
        family("supsim_ingest_queue_events", "gauge", "Events waiting for the group commit.")
        lines.append(f"supsim_ingest_queue_events {queue_depth}")
        family("supsim_ingest_queue_bound_events", "gauge", "Queue bound; above it ingest answers 429.")
        lines.append(f"supsim_ingest_queue_bound_events {queue_bound}")
        family(
            "supsim_engine_side_output_total",
            "counter",
            "Events (and deadline timers) the engine set aside, by reason.",
        )
        for reason, key in SIDE_OUTPUT_STATS.items():
            lines.append(f'supsim_engine_side_output_total{{reason="{reason}"}} {engine.get(key, 0)}')
        family("supsim_engine_open_cases", "gauge", "Cases the engine is watching.")
        lines.append(f"supsim_engine_open_cases {engine.get('open_cases', 0)}")
        family("supsim_alerts_total", "counter", "Alerts raised since this process started, by rule.")
        for rule, n in sorted(self.alerts_by_rule.items()):
            lines.append(f'supsim_alerts_total{{rule="{_esc(rule)}"}} {n}')
        family("supsim_commit_seconds", "histogram", "Latency of one group commit (engine + fsync).")
        cumulative = 0
        for bound, n in zip(COMMIT_BUCKETS, self.commit_buckets, strict=False):
            cumulative += n
            lines.append(f'supsim_commit_seconds_bucket{{le="{bound}"}} {cumulative}')
        lines.append(f'supsim_commit_seconds_bucket{{le="+Inf"}} {self.commit_count}')
        lines.append(f"supsim_commit_seconds_sum {self.commit_sum:.6f}")
        lines.append(f"supsim_commit_seconds_count {self.commit_count}")
        family("supsim_ingest_request_seconds", "histogram", "Server time of acknowledged ingest requests.")
        self.ingest_seconds.render("supsim_ingest_request_seconds", lines)
        family("supsim_commit_group_events_total", "counter", "Events written by group commits.")
        lines.append(f"supsim_commit_group_events_total {self.group_events_sum}")
        return "\n".join(lines) + "\n"


def render_calendar_metrics(coverage: Mapping[str, Any]) -> str:
    """The calendar's series (``WorkingCalendar.coverage()``): covered years and the fallback.

    Why a gauge per assumed year: an alert rule on ``supsim_calendar_years_assumed > 0`` tells
    the operator that deadlines are being counted without a holiday arrangement.
    """
    first, _, last = str(coverage["covered"]).partition("..")
    assumed = list(coverage.get("years_assumed", ()))
    lines = [
        "# HELP supsim_calendar_covered_year First and last year with a holiday arrangement.",
        "# TYPE supsim_calendar_covered_year gauge",
        f'supsim_calendar_covered_year{{bound="first"}} {first}',
        f'supsim_calendar_covered_year{{bound="last"}} {last}',
        "# HELP supsim_calendar_beyond_range_weekdays 1 when uncovered years count as Monday-Friday weeks.",
        "# TYPE supsim_calendar_beyond_range_weekdays gauge",
        f"supsim_calendar_beyond_range_weekdays {int(coverage.get('beyond_range') == 'weekdays')}",
        "# HELP supsim_calendar_years_assumed Uncovered years counted as plain weekdays so far.",
        "# TYPE supsim_calendar_years_assumed gauge",
        f"supsim_calendar_years_assumed {len(assumed)}",
        "# HELP supsim_calendar_year_assumed 1 for each uncovered year counted as plain weekdays.",
        "# TYPE supsim_calendar_year_assumed gauge",
        *(f'supsim_calendar_year_assumed{{year="{y}"}} 1' for y in assumed),
    ]
    return "\n".join(lines) + "\n"


def render_quarantine_metrics(counts: Mapping[str, Mapping[str, int]]) -> str:
    """Quarantined events by state, summed over halls (``GET /v1/quarantine`` has the detail).

    Why no hall label: a hall is an unbounded label value; the alert worth having is
    ``supsim_quarantine_events{state="held"} > 0``, and the operator reads the list.
    """
    total = {"held": 0, "released": 0, "dropped": 0}
    for states in counts.values():
        for state, n in states.items():
            total[state] = total.get(state, 0) + n
    lines = [
        "# HELP supsim_quarantine_events Events the engine failed on, by state (held: not applied).",
        "# TYPE supsim_quarantine_events gauge",
        *(f'supsim_quarantine_events{{state="{s}"}} {n}' for s, n in sorted(total.items())),
        "# HELP supsim_quarantine_halls Halls with at least one held event.",
        "# TYPE supsim_quarantine_halls gauge",
        f"supsim_quarantine_halls {sum(1 for st in counts.values() if st.get('held'))}",
    ]
    return "\n".join(lines) + "\n"
