"""Collusion measurements on a simulated market: tenders, trace rules, rings, parties, realism.

Conventions (``docs/bidding.md``):

* A tender is **flagged** when a tender-level collusion alert names it: its subject is
  ``tender:<id>`` (trace rules, price pattern, screens — not the weak same-IP notice), or
  its evidence names it (``tender_id`` of an expert deviation, ``tenders`` of a pairing or
  of a recovered ring).
  Truth: the ``collusive_tender`` episodes. Precision, recall, F1 and the false-positive
  rate on clean tenders follow; recall is also split by strategy and by camouflage level.
* **ROC AUC** ranks every tender with enough bids by the engine's combined screen score
  (recomputed with the rulebook's thresholds), collusive against clean.
* **Trace rules**: a rule *should* fire on a tender when a member copied from the leader
  every field of one of the rule's clauses (the truth's ``leaks``). Precision and recall of
  each rule against that expectation; look-alike tenders flagged by a trace rule.
* **Rings**: the ``collusion.ring`` alerts against the firm rings of the truth (cover,
  rotation, surrounding, pattern); adjusted Rand index over all bidding firms (firms in no
  ring are singletons on both sides) and, per ring, the share of members found together.
* **Escalation**: price-pattern alerts on clean tenders (the rule's false-alert budget),
  red cards and ``debarred_party`` alerts against honest firms (firms in no ring of any
  strategy) — the false debarments the card rule's corroboration is there to prevent.
* **Realism**: Kolmogorov–Smirnov distance between the CV of synthetic competitive
  construction/procurement tenders and the CV of the real non-collusive Ticino tenders.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.rules.collusion.screen_stats import cv
from engine.rules.collusion.screens import combined_score
from engine.rules.collusion.traces import Art40Rule, DaqingRule, FujianRule, TraceRule
from engine.rules.rulebook import Rulebook
from reports.evaluation.auc import roc_auc
from sim.common.truth import Episode

__all__ = ["FLAG_RULES", "TICINO", "adjusted_rand_index", "evaluate_collusion", "realism_ks", "tender_flags"]

FLAG_RULES = (
    "collusion.art40",
    "collusion.fujian",
    "collusion.daqing",
    "collusion.price_pattern",
    "collusion.screens",
    "collusion.expert_deviation",
    "collusion.expert_pairing",
    "collusion.agent_pairing",
    "collusion.ring",
)
TRACE_RULE_CLASSES: tuple[type[TraceRule], ...] = (Art40Rule, FujianRule, DaqingRule)
FIRM_RING_STRATEGIES = ("cover", "rotation", "surrounding", "pattern")
#: The real non-collusive reference, relative to the repository root's parent.
TICINO = Path("shared") / "data" / "bidrigging" / "DB_Collusion_Switzerland_Ticino_processed.csv"

Json = dict[str, Any]


def _prf(tp: int, fp: int, fn: int) -> Json:
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f1 = 2 * p * r / (p + r) if p is not None and r is not None and p + r > 0 else None
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f1}


def tender_flags(alerts: Iterable[Alert], rules: Sequence[str] = FLAG_RULES) -> dict[str, set[str]]:
    """Tender id → names of the rules that flagged it."""
    out: dict[str, set[str]] = defaultdict(set)
    for a in alerts:
        if a.rule not in rules:
            continue
        if a.subject.startswith("tender:"):
            out[a.subject[len("tender:") :]].add(a.rule)
        tid = a.evidence.get("tender_id")
        if isinstance(tid, str):
            out[tid].add(a.rule)
        tenders = a.evidence.get("tenders")
        if isinstance(tenders, list):
            for t in tenders:
                out[t].add(a.rule)
    return out


def adjusted_rand_index(true: Sequence[str], pred: Sequence[str]) -> float:
    """Adjusted Rand index of two labelings of the same items (Hubert and Arabie, 1985).

    Why not scikit-learn's: it is the only thing a market run needed from it, and a core
    install leaves scikit-learn out (the ``[screens]`` extra). The pair counts are exact
    integers and the last step is the same expression as ``sklearn.metrics.adjusted_rand_score``
    (1.0 when no pair disagrees), so the figure is the same float; a test compares the two.
    """
    cells = Counter(zip(true, pred, strict=True))
    rows, cols = Counter(true), Counter(pred)
    n = len(true)
    same_both = sum(c * c for c in cells.values())
    tp = same_both - n  # ordered pairs together in both
    fp = sum(c * cols[p] for (_, p), c in cells.items()) - same_both  # together only in pred
    fn = sum(c * rows[t] for (t, _), c in cells.items()) - same_both  # together only in true
    tn = n * n - fp - fn - same_both
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


def realism_ks(synthetic_cv: Sequence[float], reference: Path | None) -> Json:
    """KS distance of the synthetic competitive CVs to the real non-collusive ones."""
    if reference is None or not reference.exists() or not synthetic_cv:
        return {"reference": None, "ks": None}
    from scipy.stats import ks_2samp

    from reports.evaluation.cartels.data import tender_screens

    ts = tender_screens(reference, extras=False)
    real = ts.features[ts.labels == 0, 0]
    real = real[np.isfinite(real)]
    res = ks_2samp(np.asarray(synthetic_cv), real)
    return {
        "reference": reference.name,
        "ks": round(float(res.statistic), 6),
        "synthetic_cv_median": round(float(np.median(synthetic_cv)), 6),
        "real_cv_median": round(float(np.median(real)), 6),
    }


def _firm_prf(true: set[str], pred: set[str]) -> Json:
    """Firm-level precision and recall of ring membership (in any recovered ring)."""
    tp = len(true & pred)
    return {
        "true": len(true),
        "recovered": len(pred),
        "precision": tp / len(pred) if pred else None,
        "recall": tp / len(true) if true else None,
    }


def _rings_by_strategy(
    truth: Sequence[Episode], members: dict[str, list[str]], found: list[list[str]]
) -> Json:
    """Per strategy: members of its rings found in some recovered ring, and how pure those are.

    Precision of a strategy: of the recovered rings that hold its members, the share of their
    firms that belong to the same true ring (a wrong ring costs precision, no ring only recall)."""
    strategy = {
        str(ep.params["ring"]): str(ep.params["strategy"]) for ep in truth if ep.kind == "ring_member"
    }
    out: Json = {}
    for s in FIRM_RING_STRATEGIES:
        names = [n for n in sorted(members) if strategy.get(n) == s]
        if not names:
            continue
        true_n = hit = held = right = 0
        for n in names:
            ms = set(members[n])
            true_n += len(ms)
            rings = [set(g) for g in found if ms & set(g)]
            hit += len(ms & set().union(*rings)) if rings else 0
            held += sum(len(g) for g in rings)
            right += sum(len(g & ms) for g in rings)
        out[s] = {
            "rings": len(names),
            "members": true_n,
            "recall": hit / true_n,
            "precision": right / held if held else None,
        }
    return out


def _escalation(alerts: Sequence[Alert], truth: Sequence[Episode], clean: Sequence[str]) -> Json:
    """False alerts that escalate: price patterns on clean tenders, cards against honest firms."""
    ring_firms = {ep.subject for ep in truth if ep.kind == "ring_member"}
    clean_set = set(clean)
    pattern_clean = sorted(
        {
            str(a.evidence.get("tender_id"))
            for a in alerts
            if a.rule == "collusion.price_pattern" and a.evidence.get("tender_id") in clean_set
        }
    )
    cards = [a for a in alerts if a.rule == "collusion.card" and a.subject.startswith("bidder:")]
    honest_cards = [a for a in cards if a.subject not in ring_firms]
    debarred = [a for a in alerts if a.rule == "collusion.debarred_party" and a.subject.startswith("bidder:")]
    return {
        "clean_tenders": len(clean),
        "price_pattern_clean": len(pattern_clean),
        "price_pattern_clean_rate": len(pattern_clean) / len(clean) if clean else None,
        "cards_bidders": len(cards),
        "carded_firms": len({a.subject for a in cards}),
        "cards_honest": len(honest_cards),
        "carded_honest_firms": sorted({a.subject for a in honest_cards}),
        "debarred_party_honest": sum(a.subject not in ring_firms for a in debarred),
    }


def _expected_trace(leaks: str, rule: type[TraceRule]) -> bool:
    for part in filter(None, leaks.split(";")):
        fields = set(part.split(":", 1)[1].split("+"))
        if any(set(group) <= fields for group in rule.expected_groups()):
            return True
    return False


def _camouflage(ep: Episode) -> str:
    p = ep.params
    return (
        f"noise={p.get('price_noise')},separate_machines={p.get('separate_machines')},"
        f"irregular={p.get('irregular')}"
    )


def evaluate_collusion(
    events: Sequence[ev.Event],
    alerts: Sequence[Alert],
    truth: Sequence[Episode],
    *,
    rulebook: Rulebook | None = None,
    reference: Path | None = None,
) -> Json:
    book = rulebook if rulebook is not None else Rulebook.default()
    c = book.rules.collusion
    bids: dict[str, list[float]] = defaultdict(list)
    category: dict[str, str] = {}
    bidders: set[str] = set()
    for e in events:
        if isinstance(e, ev.BidSubmitted):
            bids[e.tender_id].append(e.price)
            bidders.add(e.bidder_id)
        elif isinstance(e, ev.TenderPublished):
            category[e.tender_id] = e.category
    tenders = sorted(category)
    collusive = {ep.subject[len("tender:") :]: ep for ep in truth if ep.kind == "collusive_tender"}
    flags = tender_flags(alerts)
    flagged = {t for t in tenders if flags.get(t)}
    truth_set = set(collusive)
    clean = [t for t in tenders if t not in truth_set]
    overall = _prf(len(flagged & truth_set), len(flagged - truth_set), len(truth_set - flagged))
    overall["fpr_clean"] = len(flagged - truth_set) / len(clean) if clean else None
    overall["tenders"], overall["collusive"] = len(tenders), len(truth_set)

    # ROC AUC of the combined screen score.
    scored = [t for t in tenders if len(bids[t]) >= c.min_bids]
    scores = [
        combined_score(
            bids[t], cv_threshold=c.cv_threshold, spd_threshold=c.spd_threshold, rd_threshold=c.rd_threshold
        )[0]
        for t in scored
    ]
    labels = [t in truth_set for t in scored]
    overall["roc_auc_screen_score"] = roc_auc(scores, labels)
    price_rigged = [
        (s, y)
        for t, s, y in zip(scored, scores, labels, strict=True)
        if not y or collusive[t].params.get("strategy") in FIRM_RING_STRATEGIES
    ]
    overall["roc_auc_screen_score_firm_rings"] = roc_auc(
        [s for s, _ in price_rigged], [y for _, y in price_rigged]
    )

    def recall_by(key: Any) -> Json:
        groups: dict[str, list[str]] = defaultdict(list)
        for t, ep in collusive.items():
            groups[key(ep)].append(t)
        out: Json = {}
        for g in sorted(groups):
            ts = groups[g]
            hit = [t for t in ts if t in flagged]
            by_rule: dict[str, int] = defaultdict(int)
            for t in ts:
                for r in flags.get(t, ()):
                    by_rule[r] += 1
            out[g] = {
                "tenders": len(ts),
                "flagged": len(hit),
                "recall": len(hit) / len(ts),
                "by_rule": dict(sorted(by_rule.items())),
            }
        return out

    by_strategy = recall_by(lambda ep: str(ep.params.get("strategy")))
    by_camouflage = recall_by(_camouflage)

    # Trace rules against the leaks they should see.
    trace: Json = {}
    for cls in TRACE_RULE_CLASSES:
        hits = {t for t, rs in flags.items() if cls.name in rs}
        expected = {t for t, ep in collusive.items() if _expected_trace(str(ep.params.get("leaks", "")), cls)}
        trace[cls.name] = _prf(len(hits & expected), len(hits - expected), len(expected - hits))
    look: Json = {}
    for ep in truth:
        if not ep.lookalike:
            continue
        t = ep.subject[len("tender:") :]
        row = look.setdefault(ep.kind, {"episodes": 0, "trace_flagged": 0, "any_flagged": 0})
        row["episodes"] += 1
        rs = flags.get(t, set())
        row["trace_flagged"] += bool(rs & {cls.name for cls in TRACE_RULE_CLASSES})
        row["any_flagged"] += bool(rs)
    look = dict(sorted(look.items()))

    # Rings.
    true_ring: dict[str, str] = {}
    members: dict[str, list[str]] = defaultdict(list)
    for ep in truth:
        if ep.kind == "ring_member" and ep.params.get("strategy") in FIRM_RING_STRATEGIES:
            firm = ep.subject[len("bidder:") :]
            true_ring[firm] = str(ep.params["ring"])
            members[str(ep.params["ring"])].append(firm)
    pred_ring: dict[str, str] = {}
    found: list[list[str]] = []
    for a in alerts:
        if a.rule == "collusion.ring":
            ms = a.evidence.get("members")
            if isinstance(ms, list):
                found.append(sorted(ms))
                for m in ms:
                    pred_ring[m] = a.subject
    firms = sorted(bidders)
    ari = adjusted_rand_index(
        [true_ring.get(f, f"solo:{f}") for f in firms], [pred_ring.get(f, f"solo:{f}") for f in firms]
    )
    per_ring: Json = {}
    for name in sorted(members):
        true_set = set(members[name])
        best = max(found, key=lambda g: (len(true_set & set(g)), -len(g)), default=[])
        per_ring[name] = {
            "members": len(true_set),
            "recall": len(true_set & set(best)) / len(true_set),
            "precision": len(true_set & set(best)) / len(best) if best else None,
        }
    rings: Json = {
        "ari": ari,
        "recovered": len(found),
        "true_rings": len(members),
        "per_ring": per_ring,
        "firms": _firm_prf(set(true_ring), set(pred_ring)),
        "by_strategy": _rings_by_strategy(truth, members, found),
    }

    # Experts and agents.
    def party(kind: str, prefix: str, rules: tuple[str, ...]) -> Json:
        bad = {ep.subject for ep in truth if ep.kind == kind}
        hit = {a.subject for a in alerts if a.rule in rules and a.subject.startswith(prefix)}
        return _prf(len(hit & bad), len(hit - bad), len(bad - hit))

    parties = {
        "experts": party(
            "corrupt_expert", "expert:", ("collusion.expert_deviation", "collusion.expert_pairing")
        ),
        "agents": party("corrupt_agent", "agent:", ("collusion.agent_pairing",)),
    }
    counts: dict[str, int] = defaultdict(int)
    for a in alerts:
        if a.rule.startswith("collusion."):
            counts[a.rule] += 1
    escalation = _escalation(alerts, truth, clean)

    competitive_cv = [
        cv(bids[t]) for t in clean if category[t] in ("construction", "procurement") and len(bids[t]) >= 2
    ]
    return {
        "tenders": overall,
        "by_strategy": by_strategy,
        "by_camouflage": by_camouflage,
        "trace_rules": trace,
        "lookalikes": look,
        "rings": rings,
        "escalation": escalation,
        "parties": parties,
        "alerts": dict(sorted(counts.items())),
        "realism": realism_ks([x for x in competitive_cv if not math.isnan(x)], reference),
    }
