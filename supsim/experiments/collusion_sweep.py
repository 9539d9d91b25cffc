"""Camouflage sweep and seed study: how detection holds across seeds and camouflage.

Rule designers need to know where the screens stop working, not only how they do at the
shipped setting. :func:`camouflage_sweep` reruns a market scenario with every ring's
``price_noise`` set to each level (and optionally separate machines), and reports the
tender-level recall of the firm rings, the false-positive rate on clean tenders, the ROC
AUC of the combined screen score and the ring-recovery ARI, averaged over seeds.

:func:`seed_study` runs one scenario over many seeds and keeps, per seed, the figures the
false-debarment budget is stated in (price-pattern alerts on clean tenders, cards and
``debarred_party`` alerts against honest firms) next to the detection figures (recall by
strategy, ring ARI, firm-level ring precision and recall); :func:`summarise_study` pools
them (counts summed over seeds, so a rate is events / tenders of all seeds).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
import numpy as np

from engine.core import detect
from engine.rules.rulebook import Rulebook
from reports.evaluation.collusion import FIRM_RING_STRATEGIES, evaluate_collusion
from sim.market.scenario import Camouflage, MarketScenario
from sim.market.world import simulate_market

__all__ = ["camouflage_sweep", "seed_study", "summarise_study"]


def _with_camouflage(sc: MarketScenario, noise: float, separate: bool) -> MarketScenario:
    rings = [
        msgspec.structs.replace(
            r, camouflage=Camouflage(price_noise=noise, irregular=noise > 0, separate_machines=separate)
        )
        for r in sc.market.rings
    ]
    return msgspec.structs.replace(sc, market=msgspec.structs.replace(sc.market, rings=rings))


def camouflage_sweep(
    scenario: MarketScenario,
    noises: Sequence[float],
    seeds: Sequence[int],
    *,
    separate_machines: bool = False,
    rulebook: Rulebook | None = None,
) -> list[dict[str, Any]]:
    rows = []
    for noise in noises:
        sc = _with_camouflage(scenario, noise, separate_machines)
        acc: dict[str, list[float]] = {"recall_firm_rings": [], "fpr_clean": [], "auc": [], "ari": []}
        for seed in seeds:
            world = simulate_market(sc, seed=seed)
            alerts = detect(world.events, rulebook).alerts
            m = evaluate_collusion(world.events, alerts, world.truth, rulebook=rulebook)
            firm = [m["by_strategy"][s] for s in FIRM_RING_STRATEGIES if s in m["by_strategy"]]
            acc["recall_firm_rings"].append(
                sum(r["flagged"] for r in firm) / max(sum(r["tenders"] for r in firm), 1)
            )
            acc["fpr_clean"].append(m["tenders"]["fpr_clean"] or 0.0)
            acc["auc"].append(m["tenders"]["roc_auc_screen_score_firm_rings"] or float("nan"))
            acc["ari"].append(m["rings"]["ari"])
        rows.append(
            {"price_noise": noise, "separate_machines": separate_machines}
            | {k: round(float(np.mean(v)), 3) for k, v in acc.items()}
        )
    return rows


def seed_study(
    scenario: MarketScenario, seeds: Sequence[int], *, rulebook: Rulebook | None = None
) -> list[dict[str, Any]]:
    """One row per seed: escalation, detection and ring figures of :func:`evaluate_collusion`."""
    rows = []
    for seed in seeds:
        world = simulate_market(scenario, seed=seed)
        alerts = detect(world.events, rulebook).alerts
        m = evaluate_collusion(world.events, alerts, world.truth, rulebook=rulebook)
        t, esc, rings = m["tenders"], m["escalation"], m["rings"]
        firm = [m["by_strategy"][s] for s in FIRM_RING_STRATEGIES if s in m["by_strategy"]]
        rows.append(
            {
                "seed": seed,
                "clean": esc["clean_tenders"],
                "fp_clean": t["fp"],
                "pattern_clean": esc["price_pattern_clean"],
                "cards_honest": esc["cards_honest"],
                "carded_honest_firms": len(esc["carded_honest_firms"]),
                "debarred_party_honest": esc["debarred_party_honest"],
                "collusive": t["collusive"],
                "flagged_collusive": t["tp"],
                "firm_ring_tenders": sum(r["tenders"] for r in firm),
                "firm_ring_flagged": sum(r["flagged"] for r in firm),
                "by_strategy": {k: [v["flagged"], v["tenders"]] for k, v in m["by_strategy"].items()},
                "ari": rings["ari"],
                "ring_firm_precision": rings["firms"]["precision"],
                "ring_firm_recall": rings["firms"]["recall"],
                "rings_by_strategy": rings["by_strategy"],
                "lookalikes": {k: [v["episodes"], v["any_flagged"]] for k, v in m["lookalikes"].items()},
                "alerts": m["alerts"],
            }
        )
    return rows


def summarise_study(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pooled rates over seeds and the mean, minimum and a t-interval of the ARI."""
    clean = sum(r["clean"] for r in rows)
    ari = np.asarray([r["ari"] for r in rows], dtype=np.float64)
    half = 2.201 * float(ari.std(ddof=1)) / np.sqrt(ari.size) if ari.size > 1 else 0.0  # t(0.975, 11)
    by_strategy: dict[str, list[int]] = {}
    for r in rows:
        for k, (hit, n) in r["by_strategy"].items():
            acc = by_strategy.setdefault(k, [0, 0])
            acc[0] += hit
            acc[1] += n
    return {
        "seeds": len(rows),
        "clean_tenders": clean,
        "fpr_clean": sum(r["fp_clean"] for r in rows) / clean if clean else None,
        "price_pattern_clean": sum(r["pattern_clean"] for r in rows),
        "price_pattern_clean_rate": sum(r["pattern_clean"] for r in rows) / clean if clean else None,
        "cards_honest": sum(r["cards_honest"] for r in rows),
        "debarred_party_honest": sum(r["debarred_party_honest"] for r in rows),
        "recall": sum(r["flagged_collusive"] for r in rows) / max(sum(r["collusive"] for r in rows), 1),
        "recall_firm_rings": sum(r["firm_ring_flagged"] for r in rows)
        / max(sum(r["firm_ring_tenders"] for r in rows), 1),
        "recall_by_strategy": {k: round(v[0] / v[1], 3) for k, v in sorted(by_strategy.items()) if v[1]},
        "ari_mean": float(ari.mean()) if ari.size else None,
        "ari_interval": [float(ari.mean()) - half, min(1.0, float(ari.mean()) + half)] if ari.size else None,
        "ari_min": float(ari.min()) if ari.size else None,
        "ring_firm_precision_mean": float(np.mean([r["ring_firm_precision"] or 0.0 for r in rows])),
        "ring_firm_recall_mean": float(np.mean([r["ring_firm_recall"] or 0.0 for r in rows])),
    }
