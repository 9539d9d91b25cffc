"""``supsim report RUN_DIR [RUN_DIR...] [--out report.html] [--bench bench.json] [--scenario F]``.

Turns finished run folders (and sweep or load-test folders) into one self-contained HTML
report plus ``report.md`` and ``report.json`` beside it (default: ``report.html`` in the first
folder), and prints the path of the HTML file, so ``make demo`` can end by showing where to
look. ``--scenario`` names scenario files to take the runs' working calendars from when they
are not where the report looks by itself (they are matched to runs by digest).
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register", "report"]


def report(args: argparse.Namespace) -> int:
    from reports.render.report.html import write_report
    from reports.render.report.model import folder_kind

    runs = [Path(r) for r in args.runs]
    for run in runs:
        folder_kind(run)  # FileNotFoundError naming the folder, before anything is written
    out = Path(args.out) if args.out else runs[0] / "report.html"
    scenarios = tuple(Path(s) for s in args.scenario or ())
    paths = write_report(runs, out, bench=Path(args.bench) if args.bench else None, scenarios=scenarios)
    for path in paths[1:]:
        print(f"  {path}")
    print(f"report: {paths[0]}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("report", help="write an HTML/Markdown/JSON report of finished runs")
    p.add_argument(
        "runs", nargs="+", metavar="RUN_DIR", help="folders written by `supsim run`, `sweep` or `loadtest`"
    )
    p.add_argument("--out", default=None, help="HTML file (default: RUN_DIR/report.html of the first run)")
    p.add_argument("--bench", default=None, help="a pytest-benchmark JSON file to include (make bench)")
    p.add_argument(
        "--scenario",
        action="append",
        metavar="FILE",
        help="scenario file of a run, for its working calendar (matched by digest; repeatable)",
    )
    p.set_defaults(func=report)
