"""Holiday arrangements as data: one small YAML file per year, shipped or written by users.

Each year's State Council notice (国务院办公厅关于YYYY年部分节假日安排的通知) is one file::

    year: 2027
    source: "the notice's title and number"
    holidays:            # days off, inclusive ranges
      - [2027-01-01, 2027-01-01]
    workdays:            # make-up working days (调休上班) that fall on weekends
      - 2027-02-20

Why files and not a table in code: the official arrangement for a year appears each
November, and a supervision centre must be able to add it (or a province's extra day off)
the day it is published, without a new release. The shipped years live in
``engine/contract/data/holidays/YYYY.yaml``; users add or override years with
``--holidays FILE_OR_DIR`` or a ``calendar: {holidays: [...]}`` list.

Rules, checked for shipped and user files alike (:func:`check_arrangement`):

* every date lies inside the file's ``year`` (a next-year notice's December days go in an
  amending file for that December's year);
* each range runs forward, ranges are in date order and do not overlap;
* make-up working days are Saturdays or Sundays, listed once, in order (a local amending
  file may also open a weekday the national arrangement closes);
* no day is both off and working.

How files combine (:func:`load_holiday_table`): a file without ``amends`` is a year's whole
arrangement and replaces the shipped file of that year; two such user files for one year
are an error. A file with ``amends: true`` (a local arrangement) adds its days off and
working days on top of the year's arrangement, which must exist. The covered range is the
union of the years with a whole arrangement; a gap between them is an error naming the
missing year. Problems name the file and the line of the offending entry.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import yaml
from msgspec import Meta

from engine.contract.yaml_checks import impossible_date, yaml_problems

__all__ = [
    "BEYOND_RANGE_CHOICES",
    "BeyondRange",
    "CalendarOverride",
    "HolidayArrangement",
    "HolidayError",
    "HolidayTable",
    "LoadedArrangement",
    "Problem",
    "check_arrangement",
    "combine",
    "expand_files",
    "how_to_add",
    "load_holiday_table",
    "parse_arrangement",
    "shipped_arrangements",
]

BeyondRange = Literal["error", "weekdays"]
#: What an instant outside the covered years does: raise (default) or count as plain Mon-Fri weeks.
BEYOND_RANGE_CHOICES: tuple[str, ...] = ("error", "weekdays")

_ONE = timedelta(days=1)
_WEEKDAY = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class HolidayArrangement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One year's holiday arrangement, as written in its YAML file."""

    year: Annotated[int, Meta(ge=1900, le=2199)]
    source: Annotated[str, Meta(min_length=1, max_length=2000)]
    holidays: tuple[tuple[date, date], ...] = ()
    workdays: tuple[date, ...] = ()
    #: ``true``: a local arrangement added on top of the year's (national) arrangement.
    amends: bool = False

    def days_off(self) -> Iterator[date]:
        for first, last in self.holidays:
            d = first
            while d <= last:
                yield d
                d += _ONE


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (file and 1-based line, when known) and why."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


class HolidayError(ValueError):
    """Holiday files that cannot be used; the message has one line per problem."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class LoadedArrangement:
    """An arrangement and where it came from (``shipped`` or a user file's path)."""

    arrangement: HolidayArrangement
    origin: str


@dataclass(frozen=True)
class CalendarOverride:
    """What a command line adds to a file's calendar: more holiday files, another fallback.

    ``holidays`` are paths (already resolved against the working directory); they come after
    the files the scenario, rulebook or service config names. ``beyond_range`` replaces the
    file's choice when given.
    """

    holidays: tuple[str, ...] = ()
    beyond_range: BeyondRange | None = None


def how_to_add(year: int) -> str:
    """The second half of every "outside the covered years" message: what the user can do."""
    return (
        f"no holiday arrangement for {year} is loaded. Add {year}'s arrangement with "
        f"`--holidays FILE` (or `calendar: {{holidays: [FILE]}}`), a YAML file with `year: {year}`, "
        "`source: ...`, `holidays: [[first, last], ...]` and `workdays: [...]` "
        "(see `supsim calendar --help`), "
        f"or count {year} as plain Monday-Friday weeks with `--beyond-range weekdays`"
    )


# -- reading one file, with line numbers ---------------------------------------------------

_AT = re.compile(r"^(?P<msg>.*) - at `(?P<path>\$[^`]*)`$", re.S)
_STEP = re.compile(r"\.([A-Za-z_]\w*)|\[(\d+)\]")


def _node_line(root: yaml.Node | None, steps: Sequence[str | int]) -> int | None:
    """1-based line of the deepest node reached along ``steps`` (keys and list indices)."""
    if root is None:
        return None
    node: yaml.Node = root
    for step in steps:
        nxt: yaml.Node | None = None
        if isinstance(step, str) and isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == step), None)
        elif isinstance(step, int) and isinstance(node, yaml.SequenceNode) and step < len(node.value):
            nxt = node.value[step]
        if nxt is None:
            break
        node = nxt
    return int(node.start_mark.line) + 1


def _steps(path: str) -> list[str | int]:
    return [key if key else int(index) for key, index in _STEP.findall(path)]


def parse_arrangement(text: str, name: str) -> tuple[HolidayArrangement | None, list[Problem]]:
    """Decode and check one file's text; problems name ``name`` and the line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else int(mark.line) + 1
        return None, [Problem(name, line, f"malformed YAML: {getattr(exc, 'problem', exc)}")]
    if twice := yaml_problems(text):
        return None, [Problem(name, None, f"`{path}` - {reason}") for path, reason in twice]
    try:
        arr = msgspec.yaml.decode(text, type=HolidayArrangement)
    except msgspec.ValidationError as exc:
        m = _AT.match(str(exc))
        if m is None:
            return None, [Problem(name, _node_line(root, []), str(exc))]
        msg = m["msg"]
        if "got `str`" in msg and "date" in msg:
            msg += " (write dates unquoted, as YYYY-MM-DD)"
        return None, [Problem(name, _node_line(root, _steps(m["path"])), f"`{m['path']}` - {msg}")]
    except msgspec.DecodeError as exc:  # YAML reads 2012-13-07 as a date and fails on it
        if (found := impossible_date(root)) is None:
            return None, [Problem(name, None, f"a value is not a date ({exc})")]
        _, line, value, reason = found
        return None, [Problem(name, line, f"{value} is not a date ({reason})")]
    return arr, check_arrangement(arr, name, root)


def check_arrangement(arr: HolidayArrangement, name: str, root: yaml.Node | None = None) -> list[Problem]:
    """The rules of the module docstring; ``root`` (the composed YAML) gives the lines."""
    out: list[Problem] = []

    def bad(steps: Sequence[str | int], message: str) -> None:
        out.append(Problem(name, _node_line(root, steps), message))

    y = arr.year
    prev: tuple[date, date] | None = None
    for k, (a, b) in enumerate(arr.holidays):
        for j, d in enumerate((a, b)):
            if d.year != y:
                bad(["holidays", k, j], f"holiday {d} is not in {y} (every date must lie inside its year)")
        if b < a:
            bad(["holidays", k], f"range [{a}, {b}] ends before it starts")
        elif prev is not None and a <= prev[1]:
            if a < prev[0]:
                bad(["holidays", k], f"range [{a}, {b}] is out of order: list ranges by date")
            else:
                bad(["holidays", k], f"range [{a}, {b}] overlaps the range [{prev[0]}, {prev[1]}] before it")
        if b >= a:
            prev = (a, b)
    off = set(arr.days_off())
    last: date | None = None
    for k, d in enumerate(arr.workdays):
        if d.year != y:
            bad(
                ["workdays", k],
                f"make-up working day {d} is not in {y} (every date must lie inside its year)",
            )
        if not arr.amends and d.weekday() < 5:
            bad(["workdays", k], f"make-up working day {d} is a {_WEEKDAY[d.weekday()]}, not a weekend day")
        if last is not None and d <= last:
            what = "is listed twice" if d == last else "is out of order: list working days by date"
            bad(["workdays", k], f"make-up working day {d} {what}")
        if d in off:
            bad(["workdays", k], f"{d} is both a holiday and a make-up working day")
        last = d if last is None else max(last, d)
    return out


def _read(path: Path) -> tuple[HolidayArrangement | None, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else f"not UTF-8 ({exc.reason})"
        return None, [Problem(str(path), None, f"cannot read the holiday file ({reason})")]
    return parse_arrangement(text, str(path))


def expand_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named directly, and the ``*.yaml`` / ``*.yml`` files of directories (sorted by name).

    A file reached twice (named, and inside a named directory) is read once.
    """
    out: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix in (".yaml", ".yml") and q.is_file())
            if not found:
                raise HolidayError([Problem(str(p), None, "directory holds no *.yaml holiday files")])
        else:
            found = [p]
        for q in found:
            if (key := q.resolve()) not in seen:
                seen.add(key)
                out.append(q)
    return out


@lru_cache(maxsize=1)
def shipped_arrangements() -> tuple[HolidayArrangement, ...]:
    """The years shipped in ``engine/contract/data/holidays/`` (read once, checked like user files)."""
    folder = resources.files("engine.contract").joinpath("data/holidays")
    arrs: list[HolidayArrangement] = []
    problems: list[Problem] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        arr, probs = parse_arrangement(entry.read_text(encoding="utf-8"), f"shipped {entry.name}")
        problems += probs
        if arr is not None:
            arrs.append(arr)
    if problems:
        raise HolidayError(problems)
    return tuple(arrs)


# -- combining files into one table -----------------------------------------------------------


@dataclass(frozen=True)
class HolidayTable:
    """Every covered year's days off and make-up working days, after overrides and amendments."""

    first_year: int
    last_year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    #: per covered year, where its arrangement came from (whole arrangement first, then amendments)
    origins: dict[int, tuple[LoadedArrangement, ...]] = field(default_factory=dict)
    #: the user files read, in order (paths as given)
    files: tuple[str, ...] = ()

    @property
    def covered(self) -> str:
        return f"{self.first_year}..{self.last_year}"

    def file_refs(self) -> list[dict[str, str]]:
        """The user files as outputs name them: name and sha256, no machine-specific directory."""
        refs = []
        for path in map(Path, self.files):
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                digest = "unreadable"
            refs.append({"name": path.name, "sha256": digest})
        return refs

    def user_years(self) -> list[int]:
        """Years whose arrangement a user file replaced or amended."""
        return sorted(y for y, parts in self.origins.items() if any(p.origin != "shipped" for p in parts))


def _user_arrangements(paths: Sequence[str | Path]) -> list[LoadedArrangement]:
    loaded: list[LoadedArrangement] = []
    problems: list[Problem] = []
    for path in expand_files(paths):
        arr, probs = _read(path)
        problems += probs
        if arr is not None:
            loaded.append(LoadedArrangement(arr, str(path)))
    if problems:
        raise HolidayError(problems)
    return loaded


def load_holiday_table(paths: Sequence[str | Path] = ()) -> HolidayTable:
    """The shipped years combined with user files and directories (see the module docstring)."""
    shipped = [LoadedArrangement(a, "shipped") for a in shipped_arrangements()]
    user = _user_arrangements(paths)
    return replace(combine(shipped, user), files=tuple(item.origin for item in user))


def combine(shipped: Sequence[LoadedArrangement], user: Sequence[LoadedArrangement]) -> HolidayTable:
    """Whole arrangements by year (a user file replaces the shipped one), then amendments."""
    whole: dict[int, LoadedArrangement] = {a.arrangement.year: a for a in shipped}
    given: dict[int, LoadedArrangement] = {}
    problems: list[Problem] = []
    for item in user:
        y = item.arrangement.year
        if item.arrangement.amends:
            continue
        if y in given:
            problems.append(
                Problem(
                    item.origin, None, f"a second whole arrangement for {y} (the first is {given[y].origin})"
                )
            )
        given[y] = whole[y] = item
    if not whole:
        raise HolidayError([Problem("holiday files", None, "no year has a holiday arrangement")])
    first, last = min(whole), max(whole)
    if missing := [y for y in range(first, last + 1) if y not in whole]:
        around = ", ".join(str(y) for y in missing)
        problems.append(
            Problem(
                "holiday files",
                None,
                f"no arrangement for {around} between {first} and {last}: "
                f"add {missing[0]}.yaml (the covered years must not have gaps)",
            )
        )
    hol: set[date] = set()
    work: set[date] = set()
    origins: dict[int, tuple[LoadedArrangement, ...]] = {y: (a,) for y, a in whole.items()}
    for item in whole.values():
        hol.update(item.arrangement.days_off())
        work.update(item.arrangement.workdays)
    amended_off: dict[date, str] = {}
    amended_work: dict[date, str] = {}
    for item in user:
        arr = item.arrangement
        if not arr.amends:
            continue
        if arr.year not in whole:
            problems.append(
                Problem(
                    item.origin,
                    None,
                    f"amends {arr.year}, which has no arrangement to amend "
                    f"(covered: {first}..{last}); give the year's whole arrangement first",
                )
            )
            continue
        origins[arr.year] += (item,)
        for d in arr.days_off():
            if d in amended_work:
                problems.append(
                    Problem(item.origin, None, f"{d} is off here but worked in {amended_work[d]}")
                )
            amended_off[d] = item.origin
            hol.add(d)
            work.discard(d)
        for d in arr.workdays:
            if d in amended_off:
                problems.append(Problem(item.origin, None, f"{d} is worked here but off in {amended_off[d]}"))
            amended_work[d] = item.origin
            work.add(d)
            hol.discard(d)
    if problems:
        raise HolidayError(problems)
    return HolidayTable(first, last, frozenset(hol), frozenset(work), dict(sorted(origins.items())))
