"""The tables of a load test (what ``supsim loadtest`` leaves in its folder) in a report.

Locust writes its CSV cells with every digit a float has, and ``slo.json`` / ``loadtest.json``
hold booleans, lists and nested objects (the accuracy live and in process, the example ids).
Printed as they come they read ``12.3456789``, ``False`` or ``{'tp': 12000, ...}``. Here each
value has a label, counts have thousands separators, rates and times sensible digits, and a
nested object becomes one ``key: value`` text; both ``report.html`` and ``report.md`` are
rendered from these rows, so they agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reports.render.report.tables import NA, Table

__all__ = ["loadtest_summary_table", "loadtest_table", "slo_table"]

#: Locust's statistics columns: the report's heading and how a cell is written.
_LOCUST_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("Type", "request", "text"),
    ("Name", "endpoint", "text"),
    ("Request Count", "requests", "count"),
    ("Failure Count", "failures", "count"),
    ("Median Response Time", "median (ms)", "ms"),
    ("95%", "p95 (ms)", "ms"),
    ("99%", "p99 (ms)", "ms"),
    ("Requests/s", "requests/s", "rate"),
)

#: Short names of the counts and scores inside ``accuracy_live`` / ``accuracy_in_process``.
_KEY_LABELS = {"tp": "TP", "fp": "FP", "fn": "FN", "f1": "F1"}


def _cell(value: Any, kind: str) -> str:
    if kind == "text" or value in (None, ""):
        return "" if value is None else str(value)
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if kind == "count":
        return f"{x:,.0f}"
    if kind == "ms":
        return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"
    return f"{x:,.1f}"


def _share(x: Any) -> str:
    """A ratio as a percentage; a small non-zero one is not rounded to a false 0.00 %."""
    pct = 100 * float(x)
    return "< 0.01 %" if 0 < pct < 0.005 else f"{pct:.2f} %"


def _value(v: Any) -> str:
    """A JSON value as text: yes/no, separated counts, 3 digits below 1, objects as ``key: value``."""
    if v is None:
        return NA
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) >= 100 else f"{v:.2f}" if abs(v) >= 1 else f"{v:.3f}"
    if isinstance(v, Mapping):
        return "; ".join(
            f"{_KEY_LABELS.get(str(k), str(k).replace('_', ' '))}: {_value(x)}" for k, x in v.items()
        )
    if isinstance(v, list | tuple):
        if not v:
            return "none"
        return ", ".join(f"({_value(x)})" if isinstance(x, list | tuple) else _value(x) for x in v)
    return str(v)


def loadtest_table(load: Mapping[str, Any]) -> Table:
    """Locust's statistics per endpoint, numbers formatted (counts, milliseconds, rates)."""
    stats = load.get("stats") or []
    if not stats:
        return ("no Locust statistics",), []
    cols = [c for c in _LOCUST_COLUMNS if c[0] in stats[0]]
    rows = [tuple(_cell(r.get(key), kind) for key, _, kind in cols) for r in stats]
    return tuple(head for _, head, _ in cols), rows


#: ``slo.json`` keys worth a line, with their labels and how they are written.
_SLO_ROWS: tuple[tuple[str, str, str], ...] = (
    ("passed", "SLOs met", "value"),
    ("valid", "valid run (load generator not saturated)", "value"),
    ("reasons", "misses", "list"),
    ("requests", "requests", "count"),
    ("failures", "failures", "count"),
    ("fail_ratio", "failure ratio", "ratio"),
    ("p95_ms", "p95 (ms)", "ms"),
    ("p99_ms", "p99 (ms)", "ms"),
    ("events_delivered", "events delivered", "count"),
    ("events_planned", "events planned", "count"),
    ("rate_ratio", "delivered / planned", "ratio"),
    ("cpu_warning", "load generator's CPU warning fired", "value"),
)


def slo_table(slo: Mapping[str, Any]) -> Table:
    """The SLO verdict (``slo.json``) as labelled lines instead of raw JSON; unknown keys last."""
    rows = []
    for key, label, kind in _SLO_ROWS:
        if key not in slo:
            continue
        v = slo[key]
        if kind == "list":
            text = "; ".join(map(str, v)) if v else "none"
        elif kind == "ratio":
            text = NA if v is None else _share(v)
        elif kind == "value":
            text = _value(v)
        else:
            text = _cell(v, kind)
        rows.append((label, text))
    known = {k for k, _, _ in _SLO_ROWS}
    rows += [(k.replace("_", " "), _value(v)) for k, v in sorted(slo.items()) if k not in known]
    return ("SLO", "value"), rows


#: ``loadtest.json`` keys worth a line in the report, with their labels (its ``slo`` is
#: :func:`slo_table`'s).
_LOAD_SUMMARY = (
    ("events_planned", "events planned"),
    ("events_acknowledged", "events acknowledged"),
    ("lost_events", "events lost"),
    ("events_duplicate_at_service", "events the deployment received twice"),
    ("stored_unacknowledged_batches", "batches stored but cut off before their acknowledgement"),
    ("sources", "event sources replayed"),
    ("same_ids", "copies keep the original ids"),
    ("sources_unsent", "sources that sent nothing"),
    ("sources_sent_by_two_processes", "sources sent by two Locust processes"),
    ("planned_peak_events_per_s", "planned peak (events/s)"),
    ("hall_scale_peak_events_per_s", "hall-scale peak (events/s)"),
    ("warmup_events", "warm-up events"),
    ("warmup_wall_s", "warm-up (wall-clock s)"),
    ("warmup_timed_out", "warm-up timed out"),
    ("alerts_live", "alerts raised live"),
    ("alerts_reference", "alerts in process (reference)"),
    ("alerts_missing", "alerts missing live"),
    ("alerts_extra", "extra alerts live"),
    ("alerts_differing", "alerts differing live"),
    ("accuracy_live", "accuracy live"),
    ("accuracy_in_process", "accuracy in process"),
    ("accuracy_equal", "live accuracy equals in-process"),
    ("locust_processes", "Locust processes"),
)


def loadtest_summary_table(summary: Mapping[str, Any]) -> Table:
    """The load test's own verdicts (``loadtest.json``): nothing lost, same alerts as in process.

    The example ids (``examples``) get a line only when one of their lists is not empty.
    """
    rows = [(label, _value(summary[key])) for key, label in _LOAD_SUMMARY if key in summary]
    examples = summary.get("examples")
    if isinstance(examples, Mapping) and any(examples.values()):
        rows.append(("examples (first five)", _value(examples)))
    return ("load test", "value"), rows
