"""``supsim calibrate``: a scenario's figures beside the published ones, and a fit of its rates.

``supsim calibrate SCENARIO --targets T.yaml [--replications R] [--fit [--budget N] [--out F]]``
runs the scenario ``R`` times (seeds ``seed .. seed + R - 1``), prints each figure (target at
the scenario's scale, simulated mean and interval, relative error) and the NRMSE. With
``--fit`` it searches the rates the targets file lists under ``fit`` and writes the fitted
scenario (default ``<scenario>.fitted.yaml`` beside the original) only when the fit lowers the
NRMSE of the scenario as written; otherwise it says so and writes nothing, so a fitted file
is always an improvement and never silently a clipped copy of the original. Exit status 0 when every
figure is within its tolerance, 1 otherwise, so a CI job can hold a scenario to its claims.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.common.scenario import Scenario

__all__ = ["calibrate", "register"]


def _with_rulebook_from(scenario_path: Path, out: Path, scenario: Scenario) -> Scenario:
    """Keep the rulebook and holiday-file references valid when the fitted file lands elsewhere."""
    import msgspec

    def rel(path: Path) -> str:
        return Path(os.path.relpath(path.resolve(), out.resolve().parent)).as_posix()

    fitted = msgspec.structs.replace(scenario, rulebook=rel(scenario.rulebook_path(scenario_path)))
    if isinstance(scenario.calendar.holidays, list):  # already resolved when the scenario was loaded
        files = [rel(Path(p)) for p in scenario.calendar.holidays]
        fitted = msgspec.structs.replace(
            fitted, calendar=msgspec.structs.replace(scenario.calendar, holidays=files)
        )
    return fitted


def _targets_ref(given: str | None, claimed: str | None, scenario_path: Path) -> tuple[str, str | None]:
    """The targets reference to use, and a note when it was completed from the scenario's claim.

    Why: a targets file often serves several scenarios through tags (``huiyang.yaml#volume``
    for a one-month hall, ``#hall`` for the district); the whole file then claims figures the
    scenario deliberately does not reproduce. Given the file without a tag, the scenario's own
    ``targets:`` tag for that same file is used (and said so); without ``--targets`` the claim
    itself is used.
    """
    from reports.evaluation.calibration.targets import TargetsError

    if given is None:
        if claimed is None:
            raise TargetsError(
                str(scenario_path), [("$.targets", "the scenario names no `targets:`; give --targets")]
            )
        return claimed, f"targets: {claimed} (the scenario's `targets:`)"
    if "#" in given or claimed is None or "#" not in claimed:
        return given, None
    claimed_file, _, tag = claimed.partition("#")
    if Path(given).resolve() != Path(claimed_file).resolve():
        return given, None
    note = (
        f"targets: {given}#{tag}, the figures {scenario_path.name} claims (its `targets:`); "
        f"name another tag (file#tag) to compare others"
    )
    return f"{given}#{tag}", note


def _progress(line: str) -> None:
    """Per-candidate progress goes to stderr, so the table on stdout stays clean to redirect."""
    print(line, file=sys.stderr, flush=True)


def calibrate(args: argparse.Namespace) -> int:
    from reports.evaluation.calibration.table import calibrate_figures
    from reports.evaluation.calibration.targets import load_targets
    from reports.render.tables.calibration import render_calibration
    from sim.common.scenario import load_scenario
    from sim.market.scenario import is_market_file
    from supsim.cli.calendar import calendar_override, horizon_note
    from supsim.experiments.calibrate_fit import fit_scenario, load_rulebook_for, replicate, write_scenario

    scenario_path = Path(args.scenario)
    if is_market_file(scenario_path):
        return _calibrate_market(args, scenario_path)
    scenario = load_scenario(scenario_path, calendar=calendar_override(args))
    ref, note = _targets_ref(args.targets, scenario.targets_path(scenario_path), scenario_path)
    if note:
        print(note)
    targets = load_targets(ref)  # a TargetsError is a ScenarioError: reported as user input
    rulebook = load_rulebook_for(scenario, scenario_path)
    reps = args.replications or targets.replications

    if note := horizon_note(scenario):
        print(note)
    if not args.fit:
        from supsim.experiments.progress import Progress

        with Progress("calibrate", unit="run", total=reps) as bar:
            runs = replicate(scenario, rulebook, reps, workers=args.workers, progress=bar.update_to)
        result = calibrate_figures(scenario, targets, runs)
        print(render_calibration(result))
        return 0 if result.all_within else 1

    fitted, fit, result = fit_scenario(
        scenario,
        rulebook,
        targets,
        replications=reps,
        budget=args.budget,
        seed=scenario.seed,
        workers=args.workers,
        # the per-candidate log is for a reader at a terminal (or asked for with -v), not for logs
        log=None if args.quiet or not (sys.stderr.isatty() or args.verbose) else _progress,
        source=ref.partition("#")[0],
    )
    out = Path(args.out) if args.out else scenario_path.with_suffix(".fitted.yaml")
    print(render_calibration(result))
    nrmse = f"NRMSE: {fit.start_nrmse:.4f} as written -> {fit.best_nrmse:.4f} fitted"
    print(f"{nrmse} ({fit.evaluations} candidates)")
    if not fit.improved:
        print("no candidate improved on the scenario as written; nothing written")
        return 0 if result.all_within else 1
    fitted = _with_rulebook_from(scenario_path, out, fitted)
    lines = [
        f"{scenario.name} fitted to {targets.place} by `supsim calibrate --fit`",
        f"targets: {ref}; {reps} replications per candidate, {fit.evaluations} candidates",
        f"NRMSE {fit.start_nrmse:.4f} (as written) -> {fit.best_nrmse:.4f} (fitted)",
        *(
            f"{n}: {a:.6g} -> {b:.6g}"
            if n not in fit.kept
            else f"{n}: {a:.6g} (kept: moving it did not help)"
            for n, a, b in zip(fit.names, fit.start, fit.best, strict=True)
        ),
    ]
    write_scenario(fitted, out, header="\n".join(lines))
    print("\n".join(lines[3:]))
    print(f"fitted scenario written to {out}")
    return 0 if result.all_within else 1


def _calibrate_market(args: argparse.Namespace, scenario_path: Path) -> int:
    """A bidding-market scenario: replications and the table; ``--fit`` is for hall scenarios."""
    from reports.evaluation.calibration.targets import load_targets
    from reports.render.tables.calibration import render_calibration
    from sim.market.scenario import load_market_scenario
    from supsim.experiments.calibrate_market import calibrate_market

    if args.fit:
        print(
            f"supsim calibrate: {scenario_path}: --fit searches hall scenarios only; "
            "a market's rates are set in its `market:` block (docs/bidding.md)",
            file=sys.stderr,
        )
        return 2
    from supsim.cli.calendar import calendar_override, horizon_note

    market = load_market_scenario(scenario_path, calendar=calendar_override(args))
    if note := horizon_note(market):
        print(note)
    ref, note = _targets_ref(args.targets, market.targets_path(scenario_path), scenario_path)
    if note:
        print(note)
    targets = load_targets(ref)
    result = calibrate_market(
        market, targets, args.replications or targets.replications, workers=args.workers
    )
    print(render_calibration(result))
    return 0 if result.all_within else 1


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "calibrate", help="compare a scenario with published figures; --fit searches its rates"
    )
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument(
        "--targets",
        default=None,
        help="targets YAML file (path#tag selects tagged figures; without a tag, the scenario's own tag "
        "for that file; default: the scenario's `targets:`)",
    )
    p.add_argument("--replications", type=int, default=None, help="runs per candidate (default: the file's)")
    p.add_argument("--fit", action="store_true", help="search the file's `fit` rates to minimise the NRMSE")
    p.add_argument(
        "--budget",
        type=_positive,
        default=40,
        help="candidates the fit may simulate, the scenario as written included (a hard cap; default 40)",
    )
    p.add_argument("--out", default=None, help="fitted scenario file (default <scenario>.fitted.yaml)")
    p.add_argument("--workers", type=int, default=1, help="processes for the replications")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-candidate log during --fit")
    from supsim.cli.calendar import add_calendar_options

    add_calendar_options(p)
    p.set_defaults(func=calibrate)
