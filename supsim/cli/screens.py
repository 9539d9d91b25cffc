"""``supsim screens``: bid-rigging screens from a CSV of raw bids, optionally evaluated.

``supsim screens --data bids.csv`` prints one row per tender with the seven screens (CSV on
standard output or ``--out FILE``). ``--evaluate`` also runs the tender-level
cross-validated classifier of :mod:`reports.evaluation.cartel_data` (scikit-learn, the
``[screens]`` extra) and prints accuracy, balanced accuracy and ROC AUC. The CSV needs the
columns ``Tender`` and ``Bid_value``; evaluation also needs ``Collusive_competitor`` (see
``docs/bidding.md``).
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from pathlib import Path

from supsim.cli.extras import require

__all__ = ["register", "run_screens"]


def _fmt(x: float) -> str:
    return "" if math.isnan(x) else f"{x:.6g}"


def run_screens(args: argparse.Namespace) -> int:
    from engine.rules.collusion.screen_stats import SCREEN_NAMES
    from reports.evaluation.cartel_data import evaluate_cartel_data, tender_screens

    if args.evaluate:
        require("sklearn")
    path = Path(args.data)
    try:
        ts = tender_screens(path, extras=False)
    except (OSError, ValueError) as exc:
        print(f"supsim screens: {exc}", file=sys.stderr)
        return 2
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["Tender", *SCREEN_NAMES, "Collusive_competitor"])
    for i, tender in enumerate(ts.tenders):
        label = "" if ts.labels[i] < 0 else str(int(ts.labels[i]))
        writer.writerow([tender, *(_fmt(float(v)) for v in ts.features[i]), label])
    if args.out:
        Path(args.out).write_text(buf.getvalue(), encoding="utf-8")
        print(f"{len(ts.tenders)} tenders written to {args.out}")
    elif not args.evaluate:
        sys.stdout.write(buf.getvalue())
    if args.evaluate:
        try:
            r = evaluate_cartel_data(path, folds=args.folds, repeats=args.repeats, seed=args.seed)
        except ValueError as exc:
            print(f"supsim screens: {exc}", file=sys.stderr)
            return 2
        print(
            f"{r.name}: {r.tenders} tenders ({r.collusive} collusive); "
            f"{args.folds}-fold CV x {args.repeats}\n"
            f"  accuracy {r.accuracy:.3f}  balanced accuracy {r.balanced_accuracy:.3f}  "
            f"ROC AUC {r.auc:.3f}  (CV alone: AUC {r.auc_cv_alone:.3f})\n"
            f"  features by importance: " + ", ".join(f"{n} {v:.2f}" for n, v in r.importances[:5])
        )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``screens`` sub-command."""
    p = subparsers.add_parser(
        "screens",
        help="bid-rigging screens (CV, SPD, DIFFP, RD, KURT, SKEW, KS) from a CSV of bids",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", required=True, help="CSV with one row per bid (columns Tender, Bid_value)")
    p.add_argument("--out", help="write the per-tender screens here instead of standard output")
    p.add_argument("--evaluate", action="store_true", help="cross-validate a classifier on the screens")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run_screens)
