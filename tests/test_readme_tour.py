"""Every command of the README's short tour is one the command line takes, naming files that exist.

The tour's commands are run end to end by the tutorials' test and by the tests of each command;
this test keeps the README itself from drifting: an option renamed, a subcommand gone, a shipped
file moved (a README line once named a bids file nothing shipped). It parses each line with the
real parser, without running it.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from supsim.cli.main import build_parser
from supsim.cli.plan_deployment import route

ROOT = Path(__file__).resolve().parents[1]


def tour() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^## A short tour\n+```sh\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert block is not None, "the README has no short tour"
    lines = [re.split(r"\s+#\s", ln, maxsplit=1)[0].strip() for ln in block[1].splitlines()]
    return [ln for ln in lines if ln and ln != ". .venv/bin/activate"]


def test_the_tour_has_the_commands_a_newcomer_needs() -> None:
    commands = {shlex.split(line)[1] for line in tour()}
    assert {
        "run",
        "detect",
        "report",
        "calibrate",
        "sweep",
        "plan",
        "serve",
        "loadtest",
        "cluster",
    } <= commands


#: Options whose value is a file or folder the command reads.
INPUTS = ("--data", "--train", "--targets", "--grid", "--rulebook", "--capacity")
_FILE = re.compile(r"\.(ya?ml|csv|json|jsonl)$|^runs/|^scenarios/")


def _argv(line: str) -> list[str]:
    argv = shlex.split(line)
    assert argv[0] == "supsim", line
    argv = argv[1:]
    if argv[-1] == "&":  # a service started in the background
        argv = argv[:-1]
    if ">" in argv:  # output redirected to a file
        argv = argv[: argv.index(">")]
    return argv


def _inputs(argv: list[str]) -> list[str]:
    """The paths a command line reads: its positional file arguments and the values of INPUTS."""
    out = []
    for i, token in enumerate(argv):
        before = argv[i - 1] if i else ""
        if before in INPUTS or (
            not token.startswith("-") and not before.startswith("-") and _FILE.search(token)
        ):
            out.append(token.split("#", 1)[0])
    return out


@pytest.mark.parametrize("n", range(len(tour())), ids=lambda n: tour()[n][:60])
def test_a_tour_line_parses_and_reads_only_shipped_or_earlier_files(n: int) -> None:
    lines = tour()
    line, argv = lines[n], _argv(lines[n])
    try:
        build_parser().parse_args(route(argv))
    except SystemExit as exc:  # argparse's way of refusing
        raise AssertionError(f"the parser refuses the README line: {line}") from exc
    # what earlier lines make: a run of scenarios/<stem>.yaml writes runs/<stem>-...
    made = {Path(a).stem for earlier in lines[:n] if _argv(earlier)[0] == "run" for a in _argv(earlier)[1:2]}
    for path in _inputs(argv):
        if path.startswith("runs/"):
            stem = path.removeprefix("runs/").split("/")[0].rsplit("-seed", 1)[0]
            assert stem in made, f"{line}: {path} is made by no earlier line of the tour"
        else:
            assert (ROOT / path).exists(), f"{line}: {path} is not shipped"


def test_the_check_finds_a_file_nothing_ships() -> None:
    """The check itself: the line the README once had names a file no line makes or ships."""
    line = "supsim screens --data new.csv --train runs/bidding_market-seed11 --report flagged.md"
    assert _inputs(_argv(line)) == ["new.csv", "runs/bidding_market-seed11"]
    assert not (ROOT / "new.csv").exists()
