"""The README's short tour: every line parses, reads only files that exist, and runs as written.

The fast tests keep the README from drifting (an option renamed, a subcommand gone, a shipped
file moved: a README line once named a bids file nothing shipped) by parsing each line with the
real parser. The slow one runs the whole tour in a fresh folder that sees only the project's
``scenarios/``, as a newcomer would after ``make demo``: about four minutes here.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from supsim.cli.main import build_parser
from supsim.cli.plan_deployment import route
from tests.background import stop_all, wait_answers

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


README_PORT = 8000  # `supsim serve &` and `--host http://127.0.0.1:8000` in the tour


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _on_port(line: str, port: int) -> str:
    """``line`` with the tour's service on ``port`` instead of 8000 (unchanged when it is 8000)."""
    if port == README_PORT:
        return line
    line = line.replace(f"127.0.0.1:{README_PORT}", f"127.0.0.1:{port}")
    if shlex.split(line)[1] == "serve" and "--port" not in line:
        line = line.removesuffix("&").rstrip() + f" --port {port} &"
    return line


def test_the_tour_moves_to_a_free_port_only_when_8000_is_taken() -> None:
    serve, load = "supsim serve &", "supsim loadtest s.yaml --host http://127.0.0.1:8000"
    assert [_on_port(x, 8000) for x in (serve, load)] == [serve, load]
    assert [_on_port(x, 8123) for x in (serve, load)] == [
        "supsim serve --port 8123 &",
        "supsim loadtest s.yaml --host http://127.0.0.1:8123",
    ]


@pytest.mark.slow  # the whole tour: simulations, a service, Locust and a NATS cluster
def test_the_tour_runs_as_written(tmp_path: Path) -> None:
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    # Latency SLOs are the load-test suite's to judge; on a shared test machine they would be flaky.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SUPSIM_SLO": '{"p95_ms": 5000, "p99_ms": 10000}'}
    # As written, unless another process holds port 8000: then its /readyz would answer for the
    # tour's service (which fails to bind) and the load test would talk to a stranger.
    tour_port = README_PORT
    if not _port_free(tour_port):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            tour_port = int(sock.getsockname()[1])
    lines = [_on_port(x, tour_port) for x in tour()]
    background: list[subprocess.Popen[bytes]] = []
    try:
        for line in lines:
            argv = [sys.executable, "-m", "supsim", *_argv(line)]
            if line.endswith("&"):
                log = (tmp_path / f"background-{len(background)}.log").open("wb")
                proc = subprocess.Popen(
                    argv, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
                background.append(proc)
                port = re.search(r"--port (\d+)", line)
                wait_answers(proc, f"http://127.0.0.1:{port[1] if port else 8000}/readyz", line)
                continue
            words = shlex.split(line)
            target = words[words.index(">") + 1] if ">" in words else f"stdout-{len(background)}.log"
            with (tmp_path / target).open("w") as out:
                done = subprocess.run(
                    argv, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.PIPE, text=True, timeout=600
                )
            assert done.returncode == 0, f"`{line}` exited {done.returncode}\n{(done.stderr or '')[-2000:]}"
    finally:
        if (tmp_path / "runs" / "cluster" / "cluster.json").exists():  # a failure between up and down
            subprocess.run(
                [sys.executable, "-m", "supsim", "cluster", "down", "--dir", "runs/cluster"],
                cwd=tmp_path, env=env, capture_output=True, timeout=120, check=False,
            )  # fmt: skip
        stop_all(background)
    assert (tmp_path / "runs" / "smoke-seed7" / "report.html").is_file()
    assert (tmp_path / "events.schema.json").stat().st_size > 1000
    assert (tmp_path / "flagged.md").is_file()
