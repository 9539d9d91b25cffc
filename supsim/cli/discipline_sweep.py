"""``supsim discipline-sweep``: where do the discipline rules break as detectors get noisier?

``supsim discipline-sweep scenarios/city_hall_cameras.yaml --tpr 0.8,0.9,0.95
--debounce 0,15,30,60 --days 2 --seeds 1,2,3 --out DIR`` re-simulates the camera world for
each detector true-positive rate (same seed, so only the detector changes), re-runs the
engine for each leave debounce, and scores every discipline rule per grid point
(:mod:`supsim.experiments.discipline_sweep`). It prints one row per (TPR, debounce, rule) with
precision, recall, F1 and median latency, averaged over the seeds, and writes
``discipline_sweep.csv`` (one row per seed and cell) and ``discipline_sweep.json`` (the
averaged rows) to ``--out``. A progress bar goes to standard error.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["average_cells", "parse_floats", "parse_seeds", "register", "run_discipline_sweep"]


def parse_floats(text: str, what: str, *, lo: float, hi: float | None = None) -> tuple[float, ...]:
    """``"0.8,0.9"`` → ``(0.8, 0.9)``; ``ValueError`` naming ``what`` for anything else."""
    out: list[float] = []
    for part in text.split(","):
        try:
            x = float(part)
        except ValueError:
            raise ValueError(f"--{what}: {part.strip()!r} is not a number") from None
        if not lo <= x or (hi is not None and x > hi):
            rng = f"[{lo:g}, {hi:g}]" if hi is not None else f">= {lo:g}"
            raise ValueError(f"--{what}: {x:g} is outside {rng}")
        out.append(x)
    if len(set(out)) != len(out):
        raise ValueError(f"--{what}: repeated value in {text!r}")
    return tuple(out)


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"1,2,3"`` → ``(1, 2, 3)``; ``ValueError`` for anything but distinct non-negative integers."""
    out: list[int] = []
    for part in text.split(","):
        try:
            x = int(part)
        except ValueError:
            raise ValueError(f"--seeds: {part.strip()!r} is not a whole number") from None
        if x < 0:
            raise ValueError(f"--seeds: {x} is negative")
        out.append(x)
    if len(set(out)) != len(out):
        raise ValueError(f"--seeds: repeated value in {text!r}")
    return tuple(out)


def average_cells(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean P/R/F1/latency over seeds per (TPR, debounce, rule), in first-seen order."""
    groups: dict[tuple[float, float, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["tpr"], r["leave_debounce_s"], r["rule"]), []).append(r)
    out: list[dict[str, Any]] = []
    for (tpr, deb, rule), rs in groups.items():
        lat = [r["latency_median_s"] for r in rs if r["latency_median_s"] is not None]
        out.append(
            {
                "tpr": tpr,
                "leave_debounce_s": deb,
                "rule": rule,
                "seeds": len(rs),
                "precision": round(sum(r["precision"] for r in rs) / len(rs), 4),
                "recall": round(sum(r["recall"] for r in rs) / len(rs), 4),
                "f1": round(sum(r["f1"] for r in rs) / len(rs), 4),
                "latency_median_s": round(sum(lat) / len(lat), 1) if lat else None,
            }
        )
    return out


def _table(rows: Sequence[dict[str, Any]]) -> str:
    from reports.render.text_table import markdown_table

    cells = [
        [
            f"{r['tpr']:.2f}",
            f"{r['leave_debounce_s']:.0f}",
            r["rule"],
            *(f"{r[k]:.3f}" for k in ("precision", "recall", "f1")),
            "–" if r["latency_median_s"] is None else f"{r['latency_median_s']:.0f}",
        ]
        for r in rows
    ]
    head = ["TPR", "debounce s", "rule", "P", "R", "F1", "latency p50 s"]
    return "\n".join(markdown_table(head, cells, right=(0, 1, 3, 4, 5, 6))) + "\n"


def run_discipline_sweep(args: argparse.Namespace) -> int:
    import msgspec

    from engine.rules.rulebook import RulebookError
    from sim.common.scenario import ScenarioError, load_scenario
    from supsim.experiments.discipline_sweep import sweep_discipline
    from supsim.experiments.progress import Progress

    def fail(msg: str) -> int:
        print(f"supsim discipline-sweep: {msg}", file=sys.stderr)
        return 2

    try:
        tprs = parse_floats(args.tpr, "tpr", lo=0.0, hi=1.0)
        debounces = parse_floats(args.debounce, "debounce", lo=0.0)
        seeds = None if args.seeds is None else parse_seeds(args.seeds)
    except ValueError as exc:
        return fail(str(exc))
    if args.days is not None and args.days < 1:
        return fail(f"--days must be >= 1, got {args.days}")
    path = Path(args.scenario)
    try:
        scenario = load_scenario(path)
    except (ScenarioError, OSError) as exc:
        return fail(str(exc))
    if getattr(scenario, "cameras", None) is None:
        return fail(f"{path}: the scenario has no `cameras:` section (nothing to sweep)")
    if args.days is not None:
        scenario = msgspec.structs.replace(scenario, days=args.days)
    from supsim.experiments.run import _rulebook_for

    try:
        _, book = _rulebook_for(scenario, path, None)
    except (RulebookError, OSError) as exc:
        return fail(str(exc))
    runs = seeds if seeds is not None else (scenario.seed,)
    rows: list[dict[str, Any]] = []
    per_seed = len(tprs) * len(debounces)
    with Progress("discipline sweep", unit="cell", total=per_seed * len(runs)) as bar:
        for k, seed in enumerate(runs):

            def step(done: int, _total: int, k: int = k) -> None:
                bar.update_to(k * per_seed + done, per_seed * len(runs))

            cells = sweep_discipline(scenario, book, tprs=tprs, debounces=debounces, seed=seed, progress=step)
            rows += [{"seed": seed, **msgspec.structs.asdict(c)} for c in cells]
    mean = average_cells(rows)
    print(f"{scenario.name}: {len(runs)} seed(s), {scenario.days} day(s); mean over seeds")
    print(_table(mean), end="")
    if args.out is not None:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        buf = io.StringIO()
        fields = ["seed", "tpr", "leave_debounce_s", "rule", "precision", "recall", "f1", "latency_median_s"]
        writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows({f: ("" if r[f] is None else r[f]) for f in fields} for r in rows)
        (out / "discipline_sweep.csv").write_text(buf.getvalue(), encoding="utf-8")
        (out / "discipline_sweep.json").write_text(
            json.dumps({"scenario": scenario.name, "seeds": list(runs), "cells": mean}, indent=2) + "\n",
            encoding="utf-8",
        )
        print(f"written: {out / 'discipline_sweep.csv'}, {out / 'discipline_sweep.json'}")
    else:
        print("no files written (pass --out DIR to keep the per-seed rows as CSV and the means as JSON)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``discipline-sweep`` sub-command."""
    p = subparsers.add_parser(
        "discipline-sweep",
        help="discipline rules' P/R/F1/latency over detector TPR x leave debounce",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scenario", help="a hall scenario with a `cameras:` section")
    p.add_argument("--tpr", default="0.8,0.9,0.95", help="detector true-positive rates, comma-separated")
    p.add_argument("--debounce", default="0,15,30,60", help="leave debounces in seconds, comma-separated")
    p.add_argument(
        "--days", type=int, default=None, help="calendar days to simulate (default: the scenario's)"
    )
    p.add_argument("--seeds", default=None, help="comma-separated seeds (default: the scenario's seed)")
    p.add_argument("--out", default=None, help="directory for discipline_sweep.csv / .json")
    p.set_defaults(func=run_discipline_sweep)
