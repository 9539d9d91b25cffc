"""Readable renderings of the collusion measurements (terminal table and Markdown).

Kept apart from :mod:`reports.evaluation.collusion` so that what is measured and how it is shown can
change independently; both read the same dictionary that goes to ``metrics.json``.
"""

from __future__ import annotations

from typing import Any

from reports.render.text_table import fixed_width, markdown_table

__all__ = ["render_collusion_markdown", "render_collusion_table", "render_screens_markdown"]


def _f(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.3f}"
    return str(x)


def _lines(m: dict[str, Any]) -> list[str]:
    t = m["tenders"]
    out = [
        f"tenders {t['tenders']} ({t['collusive']} collusive): precision {_f(t['precision'])} "
        f"recall {_f(t['recall'])} F1 {_f(t['f1'])} FPR(clean) {_f(t['fpr_clean'])}",
        f"ROC AUC of the combined screen score: {_f(t['roc_auc_screen_score'])} "
        f"(firm rings only: {_f(t['roc_auc_screen_score_firm_rings'])})",
        f"rings: ARI {_f(m['rings']['ari'])}, {m['rings']['recovered']} recovered / "
        f"{m['rings']['true_rings']} true",
    ]
    rz = m["realism"]
    if rz.get("ks") is not None:
        out.append(
            f"realism: KS(CV synthetic competitive, {rz['reference']} non-collusive) = {_f(rz['ks'])} "
            f"(medians {_f(rz['synthetic_cv_median'])} vs {_f(rz['real_cv_median'])})"
        )
    return out


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    return markdown_table(header, [[_f(c) for c in row] for row in rows])


def render_collusion_table(m: dict[str, Any]) -> str:
    lines = _lines(m)
    rows = [
        [name, str(r["tenders"]), str(r["flagged"]), f"{r['recall']:.3f}"]
        for name, r in m["by_strategy"].items()
    ]
    lines += fixed_width([["strategy", "tenders", "flagged", "recall"], *rows], right=(1, 2, 3))
    for name, row in m["trace_rules"].items():
        lines.append(f"{name:<20} P {_f(row['precision'])} R {_f(row['recall'])} (tp {row['tp']})")
    return "\n".join(lines)


def render_collusion_markdown(m: dict[str, Any], *, title: str) -> str:
    lines = [f"# {title}", "", "## Collusion", "", *(f"- {x}" for x in _lines(m)), ""]
    lines += ["### By strategy", ""]
    lines += _table(
        ["strategy", "tenders", "flagged", "recall", "by rule"],
        [
            [
                k,
                r["tenders"],
                r["flagged"],
                r["recall"],
                ", ".join(f"{a}={b}" for a, b in r["by_rule"].items()),
            ]
            for k, r in m["by_strategy"].items()
        ],
    )
    lines += ["", "### By camouflage", ""]
    lines += _table(
        ["camouflage", "tenders", "flagged", "recall"],
        [[k, r["tenders"], r["flagged"], r["recall"]] for k, r in m["by_camouflage"].items()],
    )
    lines += ["", "### Trace rules (expected = the ring leaked a clause's fields)", ""]
    lines += _table(
        ["rule", "tp", "fp", "fn", "precision", "recall"],
        [[k, r["tp"], r["fp"], r["fn"], r["precision"], r["recall"]] for k, r in m["trace_rules"].items()],
    )
    lines += ["", "### Look-alike negatives", ""]
    lines += _table(
        ["kind", "episodes", "flagged by a trace rule", "flagged by any rule"],
        [[k, r["episodes"], r["trace_flagged"], r["any_flagged"]] for k, r in m["lookalikes"].items()],
    )
    lines += ["", "### Rings", ""]
    lines += _table(
        ["ring", "members", "recall", "precision"],
        [[k, r["members"], r["recall"], r["precision"]] for k, r in m["rings"]["per_ring"].items()],
    )
    lines += ["", "### Experts and agents", ""]
    lines += _table(
        ["party", "tp", "fp", "fn", "precision", "recall"],
        [[k, r["tp"], r["fp"], r["fn"], r["precision"], r["recall"]] for k, r in m["parties"].items()],
    )
    lines += ["", "### Alerts", ""]
    lines += _table(["rule", "alerts"], [[k, v] for k, v in m["alerts"].items()])
    return "\n".join(lines) + "\n"


def render_screens_markdown(
    *,
    scores: dict[str, tuple[float, float, bool, str]],
    comparison: Any = None,
    market: Any = None,
    reference: str = "",
    name: str = "",
) -> str:
    """``supsim screens --report``: the model's figures, its reliability curve, the flagged tenders.

    ``scores`` maps tender → (score, calibrated probability, flagged, drivers). With a
    ``comparison`` (:class:`reports.evaluation.cartels.models.ModelComparison`) the figures are
    out-of-fold; with a ``market`` (:class:`~reports.evaluation.cartels.models.MarketScores`)
    the model was trained on ``reference`` and scored ``name``."""
    lines: list[str] = []
    if comparison is not None:
        r = comparison
        lo, hi = r.diff_interval
        lines += [
            f"# Screens: {r.name}",
            "",
            f"{r.tenders} tenders ({r.collusive} collusive); nested {r.folds}-fold cross-validation "
            f"repeated {r.repeats} times (folds never split a tender).",
            "",
        ]
        lines += _table(
            ["", "AUC", "± sd", "balanced accuracy"],
            [
                ["chosen model (nested)", r.auc, r.auc_sd, r.balanced_accuracy],
                [
                    "reference forest (7 screens + N)",
                    r.reference_auc,
                    r.reference_auc_sd,
                    r.reference_balanced_accuracy,
                ],
            ],
        )
        lines += [
            "",
            f"Paired AUC difference {r.diff_mean:+.3f} (95 % bootstrap interval over tenders "
            f"{lo:+.3f} to {hi:+.3f}); with the raw scores pooled instead of the calibrated "
            f"probabilities, AUC {r.auc_raw:.3f} and difference {r.diff_raw_mean:+.3f} "
            f"({r.diff_raw_interval[0]:+.3f} to {r.diff_raw_interval[1]:+.3f}). "
            "Models chosen by the inner CV: " + ", ".join(f"{k} {v}" for k, v in r.chosen.items() if v) + ".",
            "",
            "## Reliability of the calibrated probabilities (out of fold)",
            "",
            f"Brier score {r.brier:.3f}. A calibrated probability of 0.8 should come true four "
            "times in five.",
            "",
        ]
        lines += _table(
            ["probability", "tenders", "mean predicted", "observed collusive"],
            [[b["bin"], b["tenders"], b["predicted"], b["observed"]] for b in r.reliability],
        )
        reference = reference or r.name
    if market is not None:
        lines += [
            f"# Screens: {name}, scored by a model trained on {reference}",
            "",
            f"Model {market.model} (chosen by cross-validation on {reference}), threshold "
            f"{market.threshold:.3f} on its score (balanced accuracy on {reference}'s out-of-fold "
            f"scores); features: {', '.join(market.features)}.",
        ]
    flagged = sorted((t for t, s in scores.items() if s[2]), key=lambda t: -scores[t][1])
    lines += [
        "",
        f"## Flagged tenders ({len(flagged)} of {len(scores)})",
        "",
        f"Drivers: the features furthest from the competitive tenders of {reference}, in the direction "
        f"its collusive tenders lean; the percentage is the share of those competitive tenders on the "
        f"other side of the value.",
        "",
    ]
    lines += _table(
        ["tender", "probability", "drivers"], [[t, scores[t][1], scores[t][3] or "–"] for t in flagged]
    )
    return "\n".join(lines) + "\n"
