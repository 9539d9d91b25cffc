"""Every command of docs/tutorials runs as written, from a folder that sees the project's scenarios.

Commands are taken from the ``sh`` blocks in order and run without a shell (so the tutorials use
no shell features). A command ending in ``&`` starts a service in the background, as a reader
would in a second terminal; the next command runs once the service answers ``/readyz`` on the
``--port`` the command names, and the service is stopped at the end.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.background import stop_all, wait_answers

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "docs" / "tutorials").glob("*.md"))
_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
pytestmark = pytest.mark.slow  # whole commands, a service and Locust


def commands(text: str) -> list[str]:
    return [ln.strip() for block in _BLOCK.findall(text) for ln in block.splitlines() if ln.strip()]


def _argv(line: str) -> list[str]:
    argv = shlex.split(line.removesuffix("&"))
    assert argv[0] == "supsim", f"tutorial commands are supsim commands: {line}"
    return [sys.executable, "-m", "supsim", *argv[1:]]


def _wait_ready(line: str, proc: subprocess.Popen[bytes]) -> None:
    port = re.search(r"--port (\d+)", line)
    assert port is not None, f"a background command names its --port: {line}"
    wait_answers(proc, f"http://127.0.0.1:{port[1]}/readyz", line)


def test_every_tutorial_is_listed_and_has_commands() -> None:
    index = (ROOT / "docs" / "tutorials" / "README.md").read_text(encoding="utf-8")
    pages = [p for p in TUTORIALS if p.name != "README.md"]
    assert len(pages) == 4
    for page in pages:
        assert f"({page.name})" in index
        assert commands(page.read_text(encoding="utf-8")), page.name


@pytest.mark.parametrize("page", [p for p in TUTORIALS if p.name != "README.md"], ids=lambda p: p.stem)
def test_tutorial_commands_run_as_written(page: Path, tmp_path: Path) -> None:
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    # The tutorials check that their commands work as written. Latency SLOs are the load-test
    # suite's to judge; on a test machine shared with other work they would make this flaky.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SUPSIM_SLO": '{"p95_ms": 5000, "p99_ms": 10000}'}
    background: list[subprocess.Popen[bytes]] = []
    try:
        for line in commands(page.read_text(encoding="utf-8")):
            if line.endswith("&"):
                log = (tmp_path / f"background-{len(background)}.log").open("wb")
                proc = subprocess.Popen(
                    _argv(line),
                    cwd=tmp_path,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                background.append(proc)
                _wait_ready(line, proc)
                continue
            done = subprocess.run(
                _argv(line), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False
            )
            assert done.returncode == 0, (
                f"{page.name}: `{line}` exited {done.returncode}\n{done.stderr[-2000:]}"
            )
    finally:
        stop_all(background)
