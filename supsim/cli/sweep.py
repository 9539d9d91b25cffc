"""``supsim sweep``: vary rule thresholds or engine settings over a grid, on the same simulated streams.

The command is a thin shell over :func:`supsim.experiments.sweep.run_sweep`: it loads the grid,
runs the seeds (process pool, or a Dask cluster with ``--dask``), prints the table with the
Pareto frontier and the recommendation, and writes ``sweep.json`` (the table, byte-identical
for the same inputs) and ``sweep.png`` (the curves) to the output folder.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import msgspec

__all__ = ["register"]


def _cmd_sweep(args: argparse.Namespace) -> int:
    from reports.evaluation.sweeps.grid import load_grid
    from reports.evaluation.sweeps.table import build_table
    from reports.render.plots.sweep import plot_sweep
    from reports.render.tables.sweep_table import render_sweep
    from sim.common.scenario import load_scenario
    from supsim.cli.calendar import calendar_override, horizon_note
    from supsim.experiments.sweep import run_sweep

    override = calendar_override(args)
    scenario = load_scenario(args.scenario, calendar=override)
    grid = load_grid(args.grid)
    seeds = [scenario.seed + i for i in range(args.seeds)]
    from supsim.experiments.progress import Progress

    with Progress("sweep", unit="seed", total=len(seeds)) as bar:
        variants, results = run_sweep(
            args.scenario,
            grid,
            seeds=seeds,
            workers=args.workers,
            dask_address=args.dask,
            rulebook=args.rulebook,
            batch=not args.no_batch,
            calendar=override,
            progress=bar.update_to,
        )
    table = build_table(variants, results, grid.goal)
    out = (
        Path(args.out)
        if args.out
        else Path("runs") / f"sweep-{Path(args.scenario).stem}-{Path(args.grid).stem}"
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.json").write_bytes(msgspec.json.format(msgspec.json.encode(table), indent=2) + b"\n")
    plot_sweep(table, out / "sweep.png")
    print(render_sweep(table))
    if note := horizon_note(scenario):
        print(note)
    written = ["sweep.json", "sweep.png"]
    if grid.impairments():
        written += _impairment_outputs(variants, results, out)
    print(f"\noutputs in {out}/ : {', '.join(written)}")
    return 0


def _impairment_outputs(variants: list, results: list, out: Path) -> list[str]:
    """A sweep over impairment strengths also writes ``impairments.json``, the heat maps, the
    delay figure and ``impairments.md`` linking them (docs/data_quality.md)."""
    from reports.evaluation.sweeps.impairments import summarise_impairments
    from reports.render.plots.impairments import delay_table, write_impairment_report

    summary = summarise_impairments(variants, results)
    (out / "impairments.json").write_bytes(
        msgspec.json.format(msgspec.json.encode(summary), indent=2) + b"\n"
    )
    report = write_impairment_report(summary, out)
    if summary.delay:
        print("\nmedian alert delay by rule family and sync interval:\n" + delay_table(summary))
    return [
        "impairments.json",
        report.name,
        "heatmap-<rule>.png",
        *(["delay_vs_sync.png"] if summary.delay else []),
    ]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``sweep`` to the ``supsim`` command line."""
    p = subparsers.add_parser(
        "sweep", help="sweep rule thresholds or engine settings over seeds and recommend one"
    )
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--grid", required=True, help="grid YAML (see docs/sweeps.md)")
    p.add_argument("--seeds", type=int, default=5, help="number of seeds, from the scenario's (default 5)")
    p.add_argument("--workers", type=int, default=2, help="local worker processes (default 2)")
    p.add_argument("--dask", default=None, metavar="ADDRESS", help="run on this Dask scheduler instead")
    p.add_argument("--rulebook", default=None, help="override the scenario's rulebook")
    p.add_argument("--out", default=None, help="output folder (default: runs/sweep-<scenario>-<grid>)")
    p.add_argument("--no-batch", action="store_true", help="streaming engine for every variant (slow)")
    from supsim.cli.calendar import add_calendar_options

    add_calendar_options(p)
    p.set_defaults(func=_cmd_sweep)
