"""The data-quality section of a run's summary: rules clean vs impaired, and why each error happened.

Reads the ``data_quality`` block of ``metrics.json`` (the same dictionary is rendered for
the terminal and for ``summary.md``), so what is printed is what is stored.
"""

from __future__ import annotations

from typing import Any

from reports.render.text_table import fixed_width

__all__ = ["render_data_quality"]


def _p(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _causes(counts: dict[str, int]) -> str:
    return ", ".join(f"{cause} {n}" for cause, n in counts.items()) or "–"


def render_data_quality(block: dict[str, Any]) -> str:
    """Delivery counts, per-rule precision/recall clean vs impaired, and the causes of every error."""
    d = block["delivery"]
    a = block["attribution"]
    impaired = {k.removeprefix("impaired."): v for k, v in d.items() if k.startswith("impaired.")}
    lines = [
        "Data quality (scenario section data_quality; impairment truth in impairments.jsonl)",
        f"  events made {d['events_in']:,}, delivered {d['events_out']:,}, "
        f"impaired {d['impaired_events']:,}: " + ", ".join(f"{k} {v:,}" for k, v in impaired.items()),
        "",
    ]
    head = [
        "rule",
        "P clean",
        "R clean",
        "P impaired",
        "R impaired",
        "FP",
        "FN",
        "causes of false alarms | of misses",
    ]
    rows = [
        [
            r["rule"],
            *(_p(x) for x in (r["clean"]["precision"], r["clean"]["recall"])),
            *(_p(x) for x in (r["impaired"]["precision"], r["impaired"]["recall"])),
            str(r["impaired"]["fp"]),
            str(r["impaired"]["fn"]),
            f"{_causes(r['false_alarms'])} | {_causes(r['misses'])}",
        ]
        for r in a["rules"]
    ]
    lines += fixed_width([head, *rows], right=range(1, 7))
    lines += [
        "",
        f"false alarms by cause: {_causes(a['false_alarms'])}",
        f"misses by cause:       {_causes(a['misses'])}",
        f"false alarms caused by data quality: {a['data_false_alarms_per_1000_cases']} per 1,000 cases "
        f"({a['data_false_alarms_per_10000_cases']} per 10,000)",
        "cause when several impairments touched a case: the first of " + " > ".join(a["precedence"]),
    ]
    return "\n".join(lines)
