"""``supsim screens``: bid-rigging screens from a CSV of raw bids, scored so a regulator can act.

``supsim screens --data bids.csv`` prints one row per tender with the seven screens (CSV on
standard output or ``--out FILE``).

``--evaluate`` (the file has labels) runs the nested, repeated tender-level cross-validation of
:mod:`reports.evaluation.cartels.models` and compares it with the reference forest on the same
folds: AUC, balanced accuracy, the paired AUC difference with its 95 % interval, and the
reliability of the calibrated probabilities. With ``--out`` each tender also gets its
out-of-fold score and calibrated probability.

``--train LABELLED.csv`` (the file has no labels — a regulator's new market) chooses, calibrates
and thresholds a model on another, labelled market and scores every tender of ``--data``: the
calibrated probability, whether it is flagged, and for a flagged tender the features that drove
it, each with the share of the *training market's competitive tenders* on the other side.

``--report FILE.md`` writes the figures, the reliability curve and the flagged tenders as
Markdown. The CSV needs the columns ``Tender`` and ``Bid_value``; evaluation and training need
``Collusive_competitor`` (``docs/bidding.md``). Scikit-learn comes with the ``[screens]`` extra.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from pathlib import Path
from typing import Any

from supsim.cli.extras import require

__all__ = ["format_drivers", "register", "run_screens"]


def _fmt(x: float) -> str:
    return "" if math.isnan(x) else f"{x:.6g}"


def format_drivers(drivers: list[tuple[str, float, float, str]]) -> str:
    """``CV=0.0213 below 97%; RD=2.1 above 95%`` (share of reference competitive tenders)."""
    return "; ".join(f"{n}={v:.4g} {side} {share:.0%}" for n, v, share, side in drivers)


def _models(args: argparse.Namespace) -> tuple[str, ...]:
    from reports.evaluation.cartels.models import CANDIDATES

    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    unknown = [m for m in models if m not in CANDIDATES]
    if unknown or not models:
        raise ValueError(
            f"--models: unknown {', '.join(unknown) or '(none given)'} (known: {', '.join(CANDIDATES)})"
        )
    return models


def _columns(args: argparse.Namespace) -> dict[str, str]:
    """``--columns Tender=tender_id,Bid_value=amount`` as {standard name: the file's header}."""
    out: dict[str, str] = {}
    for part in (args.columns or "").split(","):
        if not part.strip():
            continue
        name, sep, header = part.partition("=")
        if not sep or not name.strip() or not header.strip():
            raise ValueError(f"--columns: {part.strip()!r} is not STANDARD=HEADER (e.g. Tender=tender_id)")
        out[name.strip()] = header.strip()
    return out


def _bids(args: argparse.Namespace, path: Path) -> dict[str, Any]:
    """A bids CSV, or the bids of a bidding-market run folder (labels from its truth)."""
    from reports.evaluation.cartels.data import load_bids_csv
    from reports.evaluation.cartels.run_bids import bids_from_run, is_market_run

    if is_market_run(path):
        return bids_from_run(path)
    try:
        return load_bids_csv(path, columns=_columns(args), decimal=args.decimal)
    except UnicodeDecodeError as exc:  # it names neither the file nor what to do
        utf16 = bytes(exc.object[:2]) in (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode text"
        raise ValueError(
            f"{path}: not UTF-8 text (it holds byte 0x{exc.object[exc.start]:02x}); "
            "save it as UTF-8 (a spreadsheet's 'CSV UTF-8'), e.g. "
            + ("iconv -f utf-16 -t utf-8" if utf16 else "iconv -f latin1 -t utf-8 (if it is Latin-1)")
        ) from None


def _write(args: argparse.Namespace, text: str, what: str) -> None:
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"{what} written to {args.out}")
    else:
        sys.stdout.write(text)


def _scored_rows(
    ts: Any, screen_idx: list[int], scores: dict[str, tuple[float, float, bool, str]], reference: str
) -> str:
    from engine.rules.collusion.screen_stats import SCREEN_NAMES

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "Tender",
            *SCREEN_NAMES,
            "score",
            "probability",
            "flagged",
            "drivers",
            "reference",
            "Collusive_competitor",
        ]
    )
    for i, t in enumerate(ts.tenders):
        score, prob, flag, why = scores[t]
        label = "" if ts.labels[i] < 0 else str(int(ts.labels[i]))
        screens = [_fmt(float(ts.features[i, j])) for j in screen_idx]
        w.writerow([t, *screens, f"{score:.4f}", f"{prob:.4f}", int(flag), why, reference, label])
    return buf.getvalue()


def _evaluate(args: argparse.Namespace, path: Path) -> int:
    from reports.evaluation.cartels.features import tender_features
    from reports.evaluation.cartels.models import compare_with_reference, drivers
    from reports.render.tables.collusion import render_screens_markdown
    from supsim.experiments.progress import Progress

    ts, _ = tender_features(path, data=_bids(args, path))
    with Progress("cross-validation", unit="fold", total=args.folds * args.repeats) as bar:
        r = compare_with_reference(
            ts,
            name=path.stem,
            folds=args.folds,
            repeats=args.repeats,
            seed=args.seed,
            n_estimators=args.trees,
            candidates=_models(args),
            progress=bar.update_to,
        )
    lo, hi = r.diff_interval
    print(
        f"{r.name}: {r.tenders} tenders ({r.collusive} collusive); "
        f"nested {args.folds}-fold CV x {args.repeats}\n"
        f"  model: AUC {r.auc:.3f} ± {r.auc_sd:.3f} SD over repeats (raw scores pooled: {r.auc_raw:.3f})  "
        f"balanced accuracy {r.balanced_accuracy:.3f}  "
        f"(chosen: {', '.join(f'{k} {v}' for k, v in r.chosen.items() if v)})\n"
        f"  reference forest (7 screens + N): AUC {r.reference_auc:.3f}  "
        f"balanced accuracy {r.reference_balanced_accuracy:.3f}\n"
        f"  AUC difference {r.diff_mean:+.3f} (95 % interval {lo:+.3f} to {hi:+.3f}; raw scores "
        f"{r.diff_raw_mean:+.3f}, {r.diff_raw_interval[0]:+.3f} to {r.diff_raw_interval[1]:+.3f}); "
        f"Brier {r.brier:.3f}"
    )
    x = ts.features
    flagged = r.probability >= 0.5
    idx = [ts.names.index(n) for n in ts.names[:7]]
    scores = {
        t: (
            float(r.score[i]),
            float(r.probability[i]),
            bool(flagged[i]),
            format_drivers(drivers(x[i], x, ts.labels, ts.names)) if flagged[i] else "",
        )
        for i, t in enumerate(ts.tenders)
    }
    if args.out:
        _write(args, _scored_rows(ts, idx, scores, path.stem), f"{len(ts.tenders)} tenders")
    if args.report:
        Path(args.report).write_text(render_screens_markdown(comparison=r, scores=scores), encoding="utf-8")
        print(f"report written to {args.report}")
    return 0


def _score(args: argparse.Namespace, path: Path) -> int:
    from reports.evaluation.cartels.features import tender_features
    from reports.evaluation.cartels.models import score_market
    from reports.render.tables.collusion import render_screens_markdown

    train, _ = tender_features(Path(args.train), data=_bids(args, Path(args.train)))
    target, _ = tender_features(path, data=_bids(args, path))
    from supsim.experiments.progress import Progress

    with Progress("model choice", unit="fold", total=args.folds) as bar:
        m = score_market(
            train,
            target,
            seed=args.seed,
            folds=args.folds,
            n_estimators=args.trees,
            candidates=_models(args),
            progress=bar.update_to,
        )
    idx = [target.names.index(n) for n in target.names[:7]]
    reference = Path(args.train).stem
    scores = {
        t: (float(m.score[i]), float(m.probability[i]), bool(m.flagged[i]), format_drivers(m.drivers[i]))
        for i, t in enumerate(m.tenders)
    }
    _write(args, _scored_rows(target, idx, scores, reference), f"{len(m.tenders)} tenders")
    if args.out:
        print(
            f"{int(m.flagged.sum())} flagged ({m.model} trained on {reference}, threshold {m.threshold:.3f})"
        )
    if args.report:
        text = render_screens_markdown(scores=scores, market=m, reference=reference, name=path.stem)
        Path(args.report).write_text(text, encoding="utf-8")
        print(f"report written to {args.report}")
    return 0


def run_screens(args: argparse.Namespace) -> int:
    from engine.rules.collusion.screen_stats import SCREEN_NAMES
    from reports.evaluation.cartels.data import tender_screens

    if args.evaluate or args.train:
        require("sklearn")
    path = Path(args.data)
    inputs = {Path(p).resolve() for p in (args.data, args.train) if p}
    alone = args.report and not (args.evaluate or args.train)  # before: ignored without a word
    problems = ["--report needs --evaluate or --train"] if alone else []
    for flag, out in (("--out", args.out), ("--report", args.report)):
        if out and Path(out).resolve() in inputs:  # before: the bids file was overwritten without a word
            problems.append(f"{flag} {out} is an input file; give another name")
        elif out and not Path(out).resolve().parent.is_dir():  # said before the work, not after it
            problems.append(f"{flag} {out}: no folder {Path(out).parent}")
    if problems:
        print("\n".join(f"supsim screens: {p}" for p in problems), file=sys.stderr)
        return 2
    try:
        if args.evaluate:
            return _evaluate(args, path)
        if args.train:
            return _score(args, path)
        ts = tender_screens(path, extras=False, data=_bids(args, path))
    except (OSError, ValueError) as exc:
        print(f"supsim screens: {exc}", file=sys.stderr)
        return 2
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["Tender", *SCREEN_NAMES, "Collusive_competitor"])
    for i, tender in enumerate(ts.tenders):
        label = "" if ts.labels[i] < 0 else str(int(ts.labels[i]))
        writer.writerow([tender, *(_fmt(float(v)) for v in ts.features[i]), label])
    _write(args, buf.getvalue(), f"{len(ts.tenders)} tenders")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``screens`` sub-command."""
    p = subparsers.add_parser(
        "screens",
        help="bid-rigging screens (CV, SPD, DIFFP, RD, KURT, SKEW, KS) from a CSV of bids, scored",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--data",
        required=True,
        help="CSV with one row per bid (columns Tender, Bid_value), or a bidding-market run folder",
    )
    p.add_argument("--out", help="write the per-tender rows here instead of standard output")
    p.add_argument(
        "--columns",
        default=None,
        metavar="STANDARD=HEADER,...",
        help="the file's names for the standard columns, e.g. Tender=tender_id,Bid_value=amount "
        "(also for the --train file; names differing only in case are found without it)",
    )
    p.add_argument(
        "--decimal",
        choices=(".", ","),
        default=".",
        help="the files' decimal mark: ',' reads 1.234,50 (also for the --train file); spaces and "
        "apostrophes grouping thousands are read either way (default '.')",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--evaluate", action="store_true", help="nested CV on the file's labels, vs the reference"
    )
    mode.add_argument(
        "--train",
        metavar="LABELLED.csv",
        help="score --data with a model trained on this market (a CSV or a market run folder)",
    )
    p.add_argument("--report", metavar="FILE.md", help="write figures, reliability curve and flagged tenders")
    p.add_argument(
        "--folds", type=int, default=5, help="outer cross-validation folds, stratified by tender (default 5)"
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="repetitions of the cross-validation with reshuffled folds (default 3; docs/bidding.md uses 10)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the fold shuffles and the models (default 0)")
    p.add_argument("--trees", type=int, default=300, help="trees per forest (the reference uses 300)")
    p.add_argument(
        "--models",
        default="forest,boosting,logistic",
        help="candidates the inner cross-validation chooses among (default: all three)",
    )
    p.set_defaults(func=run_screens)
