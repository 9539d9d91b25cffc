"""The tables of a bidding-market run (``metrics.json`` with ``collusion``) in a report.

A market run has no cases, hall KPIs or case-bootstrap intervals; what it measures is
which tenders, rings and parties the collusion rules caught (:mod:`reports.evaluation.collusion`).
The numbers are the ones ``summary.md`` shows, formatted as :mod:`reports.render.report.tables` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reports.render.report.tables import NA, Table, number

__all__ = ["market_facts_table", "market_rules_table", "market_scores_table"]


def market_facts_table(run: Mapping[str, Any]) -> Table:
    t = run["collusion"]["tenders"]
    engine = run.get("engine") or {}
    rows = [
        ("scenario", f"{run['scenario']} ({run['scenario_file']})"),
        ("seed", str(run["seed"])),
        ("period", f"{run['start']} to {run['end']}"),
        ("tenders", f"{t['tenders']:,} ({t['collusive']:,} collusive)"),
        ("events", NA if engine.get("events_in") is None else f"{engine['events_in']:,}"),
        ("alerts", NA if engine.get("alerts") is None else f"{engine['alerts']:,}"),
    ]
    return ("fact", "value"), rows


def market_scores_table(run: Mapping[str, Any]) -> Table:
    """Tender-level detection, ring recovery and party-level (experts, agents) scores."""
    c = run["collusion"]
    t = c["tenders"]
    rows = [
        ("collusive tenders", str(t["collusive"]), str(t["tp"] + t["fp"]), number(t["precision"]),
         number(t["recall"]), number(t["f1"]), f"FPR on clean tenders {number(t['fpr_clean'])}"),
    ]  # fmt: skip
    rings = c.get("rings") or {}
    if rings:
        rows.append(("rings (clusters of firms)", str(rings["true_rings"]), str(rings["recovered"]),
                     NA, NA, NA, f"adjusted Rand index {number(rings['ari'])}"))  # fmt: skip
    for name, p in sorted((c.get("parties") or {}).items()):
        true, flagged = p["tp"] + p["fn"], p["tp"] + p["fp"]
        scores = (number(p["precision"]), number(p["recall"]), number(p["f1"]))
        rows.append((f"colluding {name}", str(true), str(flagged), *scores, ""))
    return ("what", "true", "flagged", "precision", "recall", "F1", "note"), rows


def market_rules_table(run: Mapping[str, Any]) -> Table:
    """Per trace rule (the rules with a per-tender truth): TP, FP, FN."""
    rules = run["collusion"].get("trace_rules") or {}
    rows = [
        (name, str(r["tp"]), str(r["fp"]), str(r["fn"]), number(r["precision"]), number(r["recall"]))
        for name, r in sorted(rules.items())
    ]
    return ("rule", "TP", "FP", "FN", "precision", "recall"), rows
