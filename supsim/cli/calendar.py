"""``supsim calendar``: see a year's holiday arrangement, check holiday files; the shared flags.

``supsim calendar 2026`` prints the year month by month with its days off and make-up working
days marked, and the covered range; ``supsim calendar`` alone lists the covered years and
where each arrangement comes from; ``supsim calendar --check FILE_OR_DIR...`` validates holiday
files (make-up days on weekends, ranges in order and not overlapping, every date inside its
year, no day both off and working, and how the files combine with the shipped years), each
problem naming the file and the line. Exit status: 0 ok, 1 problems found, 2 usage.

The same module owns ``--holidays FILE_OR_DIR`` (repeatable) and ``--beyond-range
error|weekdays``, which ``run``, ``validate``, ``detect``, ``serve``, ``sweep``, ``calibrate`` and ``plan``
accept (:func:`add_calendar_options`, :func:`calendar_override`): one spelling everywhere.
"""

from __future__ import annotations

import argparse
import calendar as stdcal
import os
import sys
from datetime import date, timedelta
from typing import TYPE_CHECKING

from engine.contract.holidays import (
    BEYOND_RANGE_CHOICES,
    CalendarOverride,
    HolidayError,
    HolidayTable,
    LoadedArrangement,
    Problem,
    combine,
    expand_files,
    load_holiday_table,
    parse_arrangement,
    shipped_arrangements,
)

if TYPE_CHECKING:
    from sim.common.scenario import Scenario
    from sim.market.scenario import MarketScenario

__all__ = ["add_calendar_options", "calendar_override", "horizon_note", "register", "render_year"]

_FORMAT = """\
holiday file format (one file per year; see docs/engine.md, "The calendar"):
  year: 2027
  source: "国务院办公厅关于2027年部分节假日安排的通知 (number)"
  holidays:            # days off, inclusive ranges
    - [2027-01-01, 2027-01-01]
  workdays:            # make-up working days (调休上班) that fall on weekends
    - 2027-02-20
  amends: false        # true: a local arrangement added on top of the year's
"""
_MARK_OFF, _MARK_WORK = "*", "+"


def add_calendar_options(p: argparse.ArgumentParser) -> None:
    """``--holidays`` and ``--beyond-range`` on a command that counts working time."""
    p.add_argument(
        "--holidays",
        action="append",
        default=[],
        metavar="FILE_OR_DIR",
        help="holiday arrangement file or directory of them (repeatable); adds or replaces years "
        "(see `supsim calendar --help`)",
    )
    p.add_argument(
        "--beyond-range",
        choices=BEYOND_RANGE_CHOICES,
        default=None,
        help="outside the covered years: stop with an error (default) or count plain Monday-Friday "
        "weeks (reported in every output)",
    )


def calendar_override(args: argparse.Namespace) -> CalendarOverride | None:
    """The flags as an override (paths made absolute: worker processes may run elsewhere).

    The files are read here once, so that a bad one is reported as the flag's, not as the
    scenario's ``$.calendar.holidays`` field, which is where the scenario checks would meet it.
    """
    files = tuple(os.path.abspath(p) for p in getattr(args, "holidays", None) or ())
    if files:
        try:
            load_holiday_table(files)
        except HolidayError as exc:
            head = Problem("--holidays", None, "cannot use the holiday files")
            raise HolidayError([head, *exc.problems]) from None
    beyond = getattr(args, "beyond_range", None)
    return CalendarOverride(holidays=files, beyond_range=beyond) if files or beyond else None


def horizon_note(scenario: Scenario | MarketScenario) -> str | None:
    """The calendar sentence for commands whose outputs are tables (sweep, plan, calibrate).

    Their runs happen in workers, so the years are those of the scenario's own days: what
    every replication touches at least.
    """
    from reports.render.report.run_calendar import calendar_note

    cal = scenario.build_calendar()
    cal.is_working_day(scenario.start)
    cal.is_working_day(scenario.start + timedelta(days=scenario.days - 1))
    return calendar_note(cal.coverage())


# -- printing a year -------------------------------------------------------------------------


def _runs(days: list[date]) -> list[tuple[date, date]]:
    out: list[tuple[date, date]] = []
    for d in sorted(days):
        if out and d - out[-1][1] == timedelta(days=1):
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def _month(year: int, month: int, table: HolidayTable) -> list[str]:
    rows = [stdcal.month_name[month].center(20).rstrip(), "Mo Tu We Th Fr Sa Su"]
    for week in stdcal.Calendar().monthdayscalendar(year, month):
        cells = []
        for day in week:
            if not day:
                cells.append("   ")
                continue
            d = date(year, month, day)
            mark = _MARK_OFF if d in table.holidays else _MARK_WORK if d in table.workdays else " "
            cells.append(f"{day:2d}{mark}")
        rows.append("".join(cells).rstrip())
    return rows


def render_year(year: int, table: HolidayTable) -> str:
    """The year month by month (three months a row), a legend, the arrangement and its sources."""
    if not table.first_year <= year <= table.last_year:
        raise HolidayError([Problem(f"year {year}", None, f"outside the covered years {table.covered}: "
                                    f"no holiday arrangement for {year} is loaded; show one from a file with "
                                    f"`supsim calendar {year} --holidays FILE` (the file's format: "
                                    "`supsim calendar --help`)")])  # fmt: skip
    lines = [f"{year}    (holiday arrangements cover {table.covered})", ""]
    for first in (1, 4, 7, 10):
        blocks = [_month(year, m, table) for m in range(first, first + 3)]
        height = max(len(b) for b in blocks)
        for i in range(height):
            lines.append("  ".join(f"{(b[i] if i < len(b) else ''):<21}" for b in blocks).rstrip())
        lines.append("")
    in_year = [date(year, 1, 1) + timedelta(days=k) for k in range(366 if stdcal.isleap(year) else 365)]
    off = [d for d in in_year if d in table.holidays]
    work = [d for d in in_year if d in table.workdays]
    working = sum(1 for d in in_year if d in table.workdays or (d not in table.holidays and d.weekday() < 5))
    lines.append(
        f"legend: {_MARK_OFF} holiday (day off)   {_MARK_WORK} make-up working day (调休上班)   "
        "other Saturdays and Sundays are off"
    )
    spans = ", ".join(
        f"{a:%m-%d}" + (f"..{b:%m-%d}" if b != a else "") + f" ({(b - a).days + 1})" for a, b in _runs(off)
    )
    lines.append(f"days off: {spans or 'none'}")
    lines.append(
        f"make-up working days: {', '.join(f'{d:%m-%d} %s' % d.strftime('%a') for d in work) or 'none'}"
    )
    lines.append(f"working days in {year}: {working}")
    for item in table.origins.get(year, ()):
        where = "shipped" if item.origin == "shipped" else item.origin
        kind = "amended by" if item.arrangement.amends else "from"
        lines.append(f"{kind} {where}: {item.arrangement.source}")
    return "\n".join(lines)


def _covered(table: HolidayTable) -> str:
    lines = [f"holiday arrangements cover {table.covered}"]
    for year, parts in table.origins.items():
        where = "; ".join(("shipped" if p.origin == "shipped" else p.origin) for p in parts)
        lines.append(f"  {year}  {where}")
    lines.append("years outside: an error naming the year, or --beyond-range weekdays (plain Monday-Friday)")
    return "\n".join(lines)


# -- checking files ----------------------------------------------------------------------------


def _check(paths: list[str]) -> int:
    problems: list[Problem] = []
    loaded: list[LoadedArrangement] = []
    try:
        files = expand_files(paths)
    except HolidayError as exc:
        files, problems = [], list(exc.problems)
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
            problems.append(Problem(str(path), None, f"cannot read the holiday file ({reason})"))
            continue
        arr, probs = parse_arrangement(text, str(path))
        problems += probs
        if arr is not None and not probs:
            loaded.append(LoadedArrangement(arr, str(path)))
            n_off = sum(1 for _ in arr.days_off())
            kind = "local amendment of" if arr.amends else "arrangement for"
            print(
                f"{path}: ok ({kind} {arr.year}: {n_off} days off, {len(arr.workdays)} make-up working days)"
            )
    if loaded and not problems:  # how the files combine with the shipped years
        try:
            table = combine([LoadedArrangement(a, "shipped") for a in shipped_arrangements()], loaded)
            print(f"together with the shipped years: covered {table.covered}")
        except HolidayError as exc:
            problems += exc.problems
    for p in problems:
        print(p)
    return 1 if problems else 0


def _cmd_calendar(args: argparse.Namespace) -> int:
    if args.check:
        if args.year is not None or args.holidays:
            print("supsim calendar: --check takes files only (no YEAR, no --holidays)", file=sys.stderr)
            return 2
        return _check(args.check)
    try:
        table = load_holiday_table(args.holidays)
        print(render_year(args.year, table) if args.year is not None else _covered(table))
    except HolidayError as exc:
        print(exc)
        return 1
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``calendar`` to the ``supsim`` command line."""
    p = subparsers.add_parser(
        "calendar",
        help="print a year's holidays and make-up working days; --check validates holiday files",
        description="Print a year month by month with its holidays and make-up working days, or the "
        "covered years; --check validates holiday files (exit 0 ok, 1 problems, 2 usage).",
        epilog=_FORMAT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "year", nargs="?", type=int, default=None, help="the year to print (default: the covered years)"
    )
    p.add_argument(
        "--holidays",
        action="append",
        default=[],
        metavar="FILE_OR_DIR",
        help="holiday file or directory to add to the shipped years (repeatable)",
    )
    p.add_argument("--check", nargs="+", metavar="FILE_OR_DIR", default=None, help="validate holiday files")
    p.set_defaults(func=_cmd_calendar)
