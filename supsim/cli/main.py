"""The ``supsim`` command line.

Each sub-command is a thin shell over a library call, so everything the command line
does can also be done from Python. Errors in user input (scenario, rulebook, event
files) are reported as one line naming the file, the field and the reason, with exit
status 2; nothing is written in that case. So is a command whose optional extra is not
installed (:mod:`supsim.cli.extras`).

Logging is configured here and nowhere else: the library modules only create their
``logging.getLogger(__name__)`` and log; ``-v`` shows INFO, ``-vv`` DEBUG, on standard error,
so a command's own output on standard output stays clean for pipes.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from supsim import __version__
from supsim.cli.extras import install_hint, missing_extra

__all__ = ["build_parser", "configure_logging", "main"]

logger = logging.getLogger(__name__)

_LEVELS = (logging.WARNING, logging.INFO, logging.DEBUG)
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class UserError(Exception):
    """Bad input from the user: printed without a traceback."""


def _cmd_run(args: argparse.Namespace) -> int:
    from sim.network.scenario import is_network_file
    from supsim.cli.calendar import calendar_override
    from supsim.experiments.run import run_scenario

    if is_network_file(args.scenario):
        return _run_network(args)
    network_only = (
        ("--workers", args.workers),
        ("--dask", args.dask),
        ("--halls", args.halls),
        ("--days", args.days),
    )
    for flag, value in network_only:
        if value is not None:
            raise UserError(
                f"{flag} applies to network scenarios only ({args.scenario} is one hall or market)"
            )
    from sim.common.scenario import load_scenario
    from sim.market.scenario import is_market_file, load_market_scenario

    load = load_market_scenario if is_market_file(args.scenario) else load_scenario
    scenario = load(args.scenario, calendar=calendar_override(args))
    check_references(scenario, Path(args.scenario), rulebook=Path(args.rulebook) if args.rulebook else None)
    result = run_scenario(
        Path(args.scenario),
        seed=args.seed,
        out_dir=Path(args.out) if args.out else None,
        rulebook=Path(args.rulebook) if args.rulebook else None,
        progress=not args.quiet,
        calendar=calendar_override(args),
    )
    print(result.table)
    print(f"\noutputs in {result.out_dir}/ :")
    for name in result.files:
        print(f"  {result.out_dir / name}")
    print(result.timing_line)
    return 0


def _run_network(args: argparse.Namespace) -> int:
    from supsim.cli.calendar import calendar_override
    from supsim.experiments.network.run import run_network

    result = run_network(
        Path(args.scenario),
        seed=args.seed,
        out_dir=Path(args.out) if args.out else None,
        rulebook=Path(args.rulebook) if args.rulebook else None,
        workers=args.workers if args.workers is not None else (os.cpu_count() or 1),
        dask_address=args.dask,
        halls=args.halls,
        days=args.days,
        progress=not args.quiet,
        calendar=calendar_override(args),
    )
    print(result.table)
    print(f"outputs in {result.out_dir}/ :")
    for name in result.files:
        print(f"  {result.out_dir / name}")
    print(result.timing_line)
    return 0


def _cmd_detect(args: argparse.Namespace) -> int:
    from supsim.cli.calendar import calendar_override
    from supsim.experiments.detect import detect_file

    out = Path(args.out) if args.out else Path(args.events).with_name("alerts.jsonl")
    if out.is_dir():  # a folder: its alerts.jsonl (a run folder's is guarded by detect_file)
        out = out / "alerts.jsonl"
    reference = None
    if args.reference_time:
        try:
            reference = datetime.fromisoformat(args.reference_time)
        except ValueError as exc:
            raise UserError(f"--reference-time: {exc}") from None
        if reference.tzinfo is None:
            raise UserError("--reference-time: give a timezone offset, e.g. 2025-04-01T00:00+08:00")
    report = detect_file(
        Path(args.events),
        rulebook=Path(args.rulebook) if args.rulebook else None,
        out=out,
        side_output=Path(args.side_output) if args.side_output else None,
        reference=reference,
        calendar=calendar_override(args),
        skip_invalid=Path(args.skip_invalid) if args.skip_invalid else None,
        in_time_order=args.in_time_order,
    )
    print(report.text)
    if report.invalid_lines:  # judged without them: everything is written, the run is incomplete
        print(
            f"supsim: error: {report.invalid_lines:,} line(s) of {args.events} are not contract events; "
            f"they were set aside to {args.skip_invalid} and not judged",
            file=sys.stderr,
        )
        code = 1
    else:
        code = 0
    n = report.side_counts["out_of_calendar"]
    if n:  # alerts and side output are written; the verdicts on those instants are missing
        print(
            f"supsim: error: {n:,} event(s) or deadline(s) lie outside the working-day calendar and were not "
            f"judged (see the side output, reason out_of_calendar); the first: {report.first_calendar_error}",
            file=sys.stderr,
        )
        return 1
    return code


def _cmd_validate(args: argparse.Namespace) -> int:
    """Every file is checked, with the rulebook and targets it names; each bad one is reported."""
    from sim.common.scenario import load_scenario
    from sim.market.scenario import is_market_file, load_market_scenario
    from sim.network.scenario import is_network_file, load_network
    from supsim.cli.calendar import calendar_override

    bad = 0
    calendar = calendar_override(args)  # --holidays / --beyond-range, as `run` would be given them
    for path in args.files:
        try:
            if is_network_file(path):
                scenario: Any = load_network(path, calendar=calendar)
            else:
                load = load_market_scenario if is_market_file(path) else load_scenario
                scenario = load(path, calendar=calendar)
            check_references(scenario, Path(path))
        except _user_errors() as exc:
            print(f"supsim: error: {_said(exc)}", file=sys.stderr)
            bad += 1
            continue
        print(f"{path}: ok ({scenario.name})")
    return 2 if bad else 0


_DEFAULT_RULEBOOK = "rulebooks/default.yaml"


def check_references(scenario: Any, path: Path, *, rulebook: Path | None = None) -> None:
    """The rulebook and targets a scenario names load, or the error names the scenario's field.

    Checked before a run simulates anything: a bad ``targets:`` used to surface only after the
    run folder was written. A ``rulebook:`` left out means ``rulebooks/default.yaml`` beside the
    scenario file, which a scenario written elsewhere does not have: the error says so.
    """
    from engine.rules.rulebook import RulebookError, load_rulebook
    from reports.evaluation.calibration.targets import TargetsError, load_targets

    if rulebook is None:
        try:
            load_rulebook(path.parent / scenario.rulebook)
        except RulebookError as exc:
            default = (
                f" (`rulebook:` left out means {_DEFAULT_RULEBOOK} beside the scenario file; "
                "name one there, or give --rulebook)"
                if scenario.rulebook == _DEFAULT_RULEBOOK
                else ""
            )
            raise UserError(f"{path}: `$.rulebook` - {exc}{default}") from None
    ref = scenario.targets_path(path) if hasattr(scenario, "targets_path") else None
    if ref is not None:
        try:
            load_targets(ref)
        except TargetsError as exc:
            raise UserError(f"{path}: `$.targets` - {exc}") from None


def _cmd_schema(args: argparse.Namespace) -> int:
    if args.what == "events":
        from engine.contract.events import event_json_schema

        schema = event_json_schema()
    elif args.what == "scenario":
        from sim.common.scenario import scenario_json_schema

        schema = scenario_json_schema()
    elif args.what == "network":
        from sim.network.scenario import network_json_schema

        schema = network_json_schema()
    elif args.what == "market":
        from sim.market.scenario import market_scenario_json_schema

        schema = market_scenario_json_schema()
    else:
        from engine.rules.rulebook import rulebook_json_schema

        schema = rulebook_json_schema()
    print(json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True))
    return 0


#: Integer options that mean something only from a minimum, by name, whichever command declares
#: them: the parser refuses the rest naming the option (a negative ``--seed`` or ``--seeds 0``
#: used to end in a traceback from deep inside a run).
_MINIMUM = {
    "seed": 0,
    "seeds": 1,
    "replications": 1,
    "workers": 1,
    "folds": 2,
    "repeats": 1,
    "trees": 1,
    "processes": 1,
    "batch": 1,
    "partitions": 1,
    "nats": 1,
    "ingest": 1,
    "halls": 1,
    "days": 1,
    "cameras": 0,
    "events": 1,
}


def _at_least(minimum: int) -> Callable[[str], int]:
    def check(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    check.__name__ = "int"  # argparse names the type in "invalid int value: 'x'"
    return check


_positive = _at_least(1)


def _bound_counts(sub: argparse._SubParsersAction) -> None:
    for command in sub.choices.values():
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):  # `cluster up`, `cluster chaos`
                _bound_counts(action)
            elif action.type is int and action.dest in _MINIMUM:
                action.type = _at_least(_MINIMUM[action.dest])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="supsim",
        description="Simulate electronic-supervision worlds, detect violations, measure accuracy.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more on stderr: -v INFO, -vv DEBUG"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from supsim.cli.calendar import add_calendar_options

    run = sub.add_parser("run", help="simulate a scenario, run the rule engine and score it against truth")
    run.add_argument("scenario", help="scenario YAML file")
    run.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    run.add_argument("--out", default=None, help="output folder (default: runs/<scenario>-seed<N>)")
    run.add_argument("--rulebook", default=None, help="override the scenario's rulebook")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    run.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="network scenarios: worker processes (default: all cores)",
    )
    run.add_argument(
        "--dask", default=None, metavar="ADDRESS", help="network scenarios: run on a Dask scheduler"
    )
    run.add_argument(
        "--halls", type=_positive, default=None, help="network scenarios: run a sample of N halls"
    )
    run.add_argument("--days", type=_positive, default=None, help="network scenarios: run N days instead")
    add_calendar_options(run)
    run.set_defaults(func=_cmd_run)

    det = sub.add_parser("detect", help="run the rule engine on any event file that follows the contract")
    det.add_argument("events", help="events in JSON Lines (see `supsim schema events`)")
    det.add_argument("--rulebook", default=None, help="rulebook YAML (default: the shipped default rulebook)")
    det.add_argument(
        "--out",
        default=None,
        help="alerts file, or a folder to write alerts.jsonl in (default: alerts.jsonl beside the events)",
    )
    add_calendar_options(det)
    det.add_argument(
        "--side-output",
        default=None,
        metavar="FILE",
        help="write each set-aside event or timer (late, future, duplicate, after_close, out_of_calendar) "
        "as JSON Lines",
    )
    det.add_argument(
        "--reference-time",
        default=None,
        metavar="ISO",
        help="when the export was taken (ISO 8601 with offset): no event is later; jumps up to it need "
        "no second source (see docs/engine.md, event time)",
    )
    det.add_argument(
        "--skip-invalid",
        default=None,
        metavar="FILE",
        help="judge the valid events and write each line that is not one to FILE (line, error, text); "
        "exits 1 (default: any invalid line stops the run, every one named)",
    )
    det.add_argument(
        "--in-time-order",
        action="store_true",
        help="replay the events sorted by event time (an export sorted by case or hall); default: the "
        "file's order is the order they arrived in, and late ones are set aside",
    )
    det.set_defaults(func=_cmd_detect)

    val = sub.add_parser("validate", help="check scenario files without running them")
    val.add_argument("files", nargs="+")
    add_calendar_options(val)
    val.set_defaults(func=_cmd_validate)

    sch = sub.add_parser("schema", help="print a JSON Schema")
    sch.add_argument("what", choices=["events", "scenario", "market", "network", "rulebook"])
    sch.set_defaults(func=_cmd_schema)

    from supsim.cli import (
        calendar,
        calibrate,
        cluster,
        completion,
        discipline_sweep,
        loadtest,
        plan,
        plan_deployment,
        report,
        screens,
        serve,
        sweep,
    )

    sweep.register(sub)
    plan.register(sub)
    plan_deployment.register(sub)
    discipline_sweep.register(sub)
    screens.register(sub)
    report.register(sub)
    calibrate.register(sub)
    serve.register(sub)
    loadtest.register(sub)
    calendar.register(sub)
    cluster.register(sub)
    completion.register(sub, build_parser)
    _bound_counts(sub)
    for command in sub.choices.values():  # `supsim run x.yaml -v` as well as `supsim -v run x.yaml`
        command.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="log more")
    return parser


def configure_logging(verbose: int) -> None:
    """Root level from the ``-v`` count; a stderr handler unless logging is already set up."""
    logging.basicConfig(stream=sys.stderr, format=_FORMAT)
    logging.getLogger().setLevel(_LEVELS[min(verbose, len(_LEVELS) - 1)])


def _user_errors() -> tuple[type[BaseException], ...]:
    from engine.contract.events import EventDecodeError
    from engine.contract.holidays import HolidayError
    from engine.rules.rulebook import RulebookError
    from engine.service.auth import AuthError
    from reports.evaluation.sweeps.grid import GridError
    from reports.render.report.integrity import RunFolderError
    from sim.common.scenario import ScenarioError
    from supsim.experiments.deployment.capacity import CapacityError
    from supsim.experiments.staffing_plan import PlanSpecError

    return (
        UserError,
        AuthError,
        GridError,
        RunFolderError,
        PlanSpecError,
        CapacityError,
        ScenarioError,
        RulebookError,
        EventDecodeError,
        HolidayError,
        FileNotFoundError,
        FileExistsError,
        IsADirectoryError,
        NotADirectoryError,
    )


def _said(exc: BaseException) -> str:
    """A user error as one line; a file-system error as ``path: reason`` (``--out x`` onto a file)."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        hint = (
            " (a file is there: give a folder)"
            if isinstance(exc, (FileExistsError, NotADirectoryError))
            else ""
        )
        return f"{exc.filename}: {exc.strerror}{hint}"
    return str(exc)


def main(argv: Sequence[str] | None = None) -> int:
    from supsim.cli.plan_deployment import route

    args = build_parser().parse_args(route(sys.argv[1:] if argv is None else argv))
    configure_logging(args.verbose)
    logger.info("supsim %s: %s", __version__, args.command)
    t0 = time.perf_counter()
    try:
        code = int(args.func(args))
    except _user_errors() as exc:
        print(f"supsim: error: {_said(exc)}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        extra = missing_extra(exc)
        if extra is None:
            raise
        logger.debug("missing optional module %s", exc.name, exc_info=True)
        print(f"supsim {args.command} needs the [{extra}] extra: {install_hint(extra)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("supsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `supsim schema events | head`: the reader left; no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    logger.info("supsim %s: exit %d after %.1f s", args.command, code, time.perf_counter() - t0)
    return code


if __name__ == "__main__":
    sys.exit(main())
