"""``supsim report RUN_DIR [RUN_DIR...] [--out report.html] [--bench bench.json]``.

Turns finished run folders into one self-contained HTML report plus ``report.md`` and
``report.json`` beside it (default: ``report.html`` in the first run folder), and prints the
path of the HTML file, so ``make demo`` can end by showing where to look.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register", "report"]


def report(args: argparse.Namespace) -> int:
    from reports.html import write_report

    runs = [Path(r) for r in args.runs]
    for run in runs:
        if not (run / "metrics.json").is_file():
            raise FileNotFoundError(f"{run}: not a run folder (no metrics.json); run `supsim run` first")
    out = Path(args.out) if args.out else runs[0] / "report.html"
    paths = write_report(runs, out, bench=Path(args.bench) if args.bench else None)
    for path in paths[1:]:
        print(f"  {path}")
    print(f"report: {paths[0]}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("report", help="write an HTML/Markdown/JSON report of finished runs")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders written by `supsim run`")
    p.add_argument("--out", default=None, help="HTML file (default: RUN_DIR/report.html of the first run)")
    p.add_argument("--bench", default=None, help="a pytest-benchmark JSON file to include (make bench)")
    p.set_defaults(func=report)
