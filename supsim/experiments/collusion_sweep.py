"""Camouflage sweep: how detection degrades as rings make their prices look competitive.

Rule designers need to know where the screens stop working, not only how they do at the
shipped setting. :func:`camouflage_sweep` reruns a market scenario with every ring's
``price_noise`` set to each level (and optionally separate machines), and reports the
tender-level recall of the firm rings, the false-positive rate on clean tenders, the ROC
AUC of the combined screen score and the ring-recovery ARI, averaged over seeds.
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

__all__ = ["camouflage_sweep"]


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
            alerts = detect(world.events, rulebook, reference=world.end).alerts
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
