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

:func:`real_data_study` is the real-data half (``docs/bidding.md``): per labelled file, the
nested model choice against the reference forest on the same folds, ring recovery where the
file names firms, and the transfer matrix across the files and a simulated market
(:func:`synthetic_tenders`). It fits several thousand models; run it once, with fixed seeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from engine.contract import events as ev
from engine.replay import detect
from engine.rules.rulebook import Rulebook
from reports.evaluation.cartels.data import TenderScreens
from reports.evaluation.cartels.features import features_from_bids, tender_features
from reports.evaluation.cartels.models import ModelComparison, compare_with_reference, transfer_matrix
from reports.evaluation.cartels.rings import recover_cartels, ring_scores
from reports.evaluation.collusion import FIRM_RING_STRATEGIES, evaluate_collusion
from reports.evaluation.intervals import mean_interval, proportion_interval
from sim.market.scenario import Camouflage, MarketScenario
from sim.market.world import simulate_market

__all__ = ["camouflage_sweep", "real_data_study", "seed_study", "summarise_study", "synthetic_tenders"]


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


def _pooled_interval(rows: Sequence[dict[str, Any]], hits: str, of: str, what: str) -> list[float] | None:
    """Wilson 95 % interval of the pooled rate ``Σ hits / Σ of`` from each seed's counts,
    widened when the seeds disagree more than binomially (``None`` without any trial)."""
    res = proportion_interval([r[hits] for r in rows], [r[of] for r in rows], what=what)
    return None if res is None else [round(res[1][0], 6), round(res[1][1], 6)]


def summarise_study(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pooled rates over seeds with 95 % intervals, and the mean, minimum and a 95 % interval
    of the ARI.

    A pooled rate (tender recall, firm-ring recall, false-positive rate on clean tenders) is a
    ratio of counts, so its interval is the Wilson interval on the seeds' counts widened for
    seed-to-seed dispersion (:func:`reports.evaluation.intervals.proportion_interval`).

    The ARI's interval is the Student-t interval over seeds with the quantile of the actual
    number of seeds, cut to the ARI's range [-1, 1] (:mod:`reports.evaluation.intervals`):
    the t interval, because each seed's ARI is one value of a bounded score with no count
    behind it for a Wilson interval, and a dozen seeds are too few for a bootstrap to be
    wider than the spread of the values. ``None`` with fewer than two seeds (no spread)."""
    clean = sum(r["clean"] for r in rows)
    ari = np.asarray([r["ari"] for r in rows], dtype=np.float64)
    ari_ci = mean_interval(ari, "agreement", what="ring ARI over seeds")[1] if ari.size else None
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
        "fpr_clean_interval": _pooled_interval(rows, "fp_clean", "clean", "clean-tender FPR over seeds"),
        "price_pattern_clean": sum(r["pattern_clean"] for r in rows),
        "price_pattern_clean_rate": sum(r["pattern_clean"] for r in rows) / clean if clean else None,
        "cards_honest": sum(r["cards_honest"] for r in rows),
        "debarred_party_honest": sum(r["debarred_party_honest"] for r in rows),
        "recall": sum(r["flagged_collusive"] for r in rows) / max(sum(r["collusive"] for r in rows), 1),
        "recall_interval": _pooled_interval(
            rows, "flagged_collusive", "collusive", "tender recall over seeds"
        ),
        "recall_firm_rings": sum(r["firm_ring_flagged"] for r in rows)
        / max(sum(r["firm_ring_tenders"] for r in rows), 1),
        "recall_firm_rings_interval": _pooled_interval(
            rows, "firm_ring_flagged", "firm_ring_tenders", "firm-ring recall over seeds"
        ),
        "recall_by_strategy": {k: round(v[0] / v[1], 3) for k, v in sorted(by_strategy.items()) if v[1]},
        "ari_mean": float(ari.mean()) if ari.size else None,
        "ari_interval": None if ari_ci is None else list(ari_ci),
        "ari_min": float(ari.min()) if ari.size else None,
        "ring_firm_precision_mean": float(np.mean([r["ring_firm_precision"] or 0.0 for r in rows])),
        "ring_firm_recall_mean": float(np.mean([r["ring_firm_recall"] or 0.0 for r in rows])),
    }


def synthetic_tenders(scenario: MarketScenario, seeds: Sequence[int]) -> TenderScreens:
    """The literature features of a simulated market's construction and procurement tenders.

    Labels: 1 for every rigged tender (any strategy), 0 otherwise; ids carry the seed."""
    bids: dict[str, list[float]] = {}
    labels: dict[str, int] = {}
    for seed in seeds:
        world = simulate_market(scenario, seed=seed)
        rigged = {ep.subject[len("tender:") :] for ep in world.truth if ep.kind == "collusive_tender"}
        keep = {
            e.tender_id
            for e in world.events
            if isinstance(e, ev.TenderPublished) and e.category in ("construction", "procurement")
        }
        for e in world.events:
            if isinstance(e, ev.BidSubmitted) and e.tender_id in keep:
                bids.setdefault(f"{seed}:{e.tender_id}", []).append(e.price)
        for t in keep:
            labels[f"{seed}:{t}"] = int(t in rigged)
    return features_from_bids(bids, labels)


def real_data_study(
    files: dict[str, Path],
    *,
    synthetic: TenderScreens | None = None,
    repeats: int = 10,
    seed: int = 0,
    ring_bars: Sequence[float] = (1e-2, 1e-4, 1e-6, 1e-8),
) -> dict[str, Any]:
    """Nested CV against the reference forest, ring recovery and the transfer matrix.

    Ring recovery runs at the stated bar (family-wise 0.01, a 2-core) on the tenders the
    out-of-fold model flags; the other bars in ``ring_bars`` (and the files' own labels as
    flags) are a sensitivity table reported beside it, never used to choose the bar."""
    out: dict[str, Any] = {"classifier": {}, "rings": {}}
    markets: dict[str, TenderScreens] = {}
    for name, path in files.items():
        ts, data = tender_features(path)
        markets[name] = ts
        cmp = compare_with_reference(ts, name=name, repeats=repeats, seed=seed)
        skip = ("probability", "reference_score")
        out["classifier"][name] = {k: getattr(cmp, k) for k in ModelComparison.__slots__ if k not in skip}
        if not any(tb.firms for tb in data.values()):
            continue
        flagged = {t for t, p in zip(ts.tenders, cmp.probability, strict=True) if p >= 0.5}
        oracle = {t for t, tb in data.items() if tb.label == 1}
        rows = []
        for flags_name, flags in (("model", flagged), ("labels", oracle)):
            for bar in ring_bars:
                for core in (2, 3):
                    rings = recover_cartels(data, flags, alpha=bar, core=core)
                    rows.append({"flags": flags_name, "alpha": bar, "core": core} | ring_scores(rings, data))
        out["rings"][name] = {"flagged_tenders": len(flagged), "rows": rows}
    if synthetic is not None:
        markets["synthetic"] = synthetic
    out["transfer"] = transfer_matrix(markets, seed=seed)
    return out


#: The published files (``docs/bidding.md``), by the name the study reports them under.
REAL_FILES = {
    "ticino": "DB_Collusion_Switzerland_Ticino_processed.csv",
    "italy": "DB_Collusion_Italy_processed.csv",
    "brazil": "DB_Collusion_Brazil_processed.csv",
}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m supsim.experiments.collusion_sweep DATA_DIR SCENARIO OUT_DIR``.

    Writes ``market_seeds.json`` (:func:`seed_study`, seeds 1-12) and ``real_data.json``
    (:func:`real_data_study`, 10 repeats, the simulated market's seeds 1-4 as a fifth
    market of the transfer matrix) into ``OUT_DIR``: the figures of ``docs/bidding.md``."""
    import argparse
    import json

    from sim.market.scenario import load_market_scenario

    parser = argparse.ArgumentParser(prog="collusion_sweep", description=main.__doc__)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("scenario", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    scenario = load_market_scenario(args.scenario)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    rows = seed_study(scenario, range(1, 13))
    market = {"rows": rows, "summary": summarise_study(rows)}
    (args.out_dir / "market_seeds.json").write_text(json.dumps(market, indent=1, default=float))
    files = {k: args.data_dir / v for k, v in REAL_FILES.items() if (args.data_dir / v).exists()}
    real = real_data_study(files, synthetic=synthetic_tenders(scenario, range(1, 5)), repeats=args.repeats)
    (args.out_dir / "real_data.json").write_text(json.dumps(real, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
