"""A core install runs the core commands; a missing extra is one line naming it.

The core install is imitated in a subprocess whose import system refuses the optional
packages (a meta-path finder that raises ``ModuleNotFoundError`` for them and records every
attempt), so the test also proves that the core commands never even *try* to import them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.evaluation.collusion import adjusted_rand_index
from supsim.cli.extras import EXTRA_OF

ROOT = Path(__file__).resolve().parent.parent

# Runs each argv of argv[1] (a JSON list) through supsim's main() with the optional packages
# blocked; writes exit code, stderr and the blocked import attempts of each to argv[2].
_WRAPPER = """
import contextlib, io, json, sys, traceback

BLOCKED = set(json.loads(sys.argv[3]))
attempts = []

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            attempts.append(name)
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Block())
from supsim.cli.main import main

results = []
for argv in json.loads(sys.argv[1]):
    del attempts[:]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        except BaseException:
            code, _ = "traceback", traceback.print_exc(file=err)
    results.append({"argv": argv, "code": code, "stderr": err.getvalue(), "attempts": sorted(set(attempts))})
with open(sys.argv[2], "w") as fh:
    json.dump(results, fh)
"""


def _run_blocked(tmp_path: Path, commands: list[list[str]]) -> list[dict[str, object]]:
    out = tmp_path / "results.json"
    blocked = json.dumps(sorted(EXTRA_OF))
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, json.dumps(commands), str(out), blocked],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    results: list[dict[str, object]] = json.loads(out.read_text())
    return results


@pytest.mark.slow
def test_core_commands_run_without_any_extra_and_never_import_one(tmp_path: Path) -> None:
    run, market = tmp_path / "run", tmp_path / "market"
    commands = [
        ["run", "scenarios/smoke.yaml", "--out", str(run), "--quiet"],
        ["run", "scenarios/bidding_market.yaml", "--out", str(market), "--quiet"],
        ["detect", str(run / "events.jsonl"), "--out", str(tmp_path / "alerts.jsonl")],
        ["validate", "scenarios/smoke.yaml", "scenarios/bidding_market.yaml"],
        ["schema", "events"],
        ["report", str(run), "--out", str(tmp_path / "report.html")],
    ]
    for result in _run_blocked(tmp_path, commands):
        assert result["code"] == 0, result
        assert result["attempts"] == [], result  # not even tried
    assert (run / "alerts.jsonl").read_bytes() == (tmp_path / "alerts.jsonl").read_bytes()
    assert (tmp_path / "report.html").stat().st_size > 10_000


@pytest.mark.slow
def test_a_missing_extra_is_one_line_naming_it(tmp_path: Path) -> None:
    bids = tmp_path / "bids.csv"
    bids.write_text("Tender,Bid_value,Collusive_competitor\n1,100,0\n1,110,0\n1,120,0\n1,125,0\n")
    cases = {
        "serve": (["serve", "--db", str(tmp_path / "log.db"), "--tokens", str(tmp_path / "t.yaml")], "live"),
        "loadtest": (["loadtest", "scenarios/smoke.yaml", "--host", "http://127.0.0.1:9"], "load"),
        "screens": (["screens", "--data", str(bids), "--evaluate"], "screens"),
        "cluster": (["cluster", "up", "--dir", str(tmp_path / "cluster")], "cluster"),
        "sweep": (
            [
                "sweep",
                "scenarios/smoke.yaml",
                "--grid",
                "scenarios/grids/county_warning_lead.yaml",
                "--seeds",
                "1",
                "--dask",
                "local",
                "--out",
                str(tmp_path / "sweep"),
            ],
            "dask",
        ),
    }
    results = _run_blocked(tmp_path, [argv for argv, _ in cases.values()])
    for (command, (_, extra)), result in zip(cases.items(), results, strict=True):
        assert result["code"] == 2, result
        assert result["stderr"] == (
            f"supsim {command} needs the [{extra}] extra: pip install 'supsim[{extra}]'\n"
        ), result
    assert not (tmp_path / "log.db").exists() and not (tmp_path / "sweep").exists()  # failed before work
    assert not (tmp_path / "cluster").exists()


labelings = st.integers(1, 40).flatmap(
    lambda n: st.tuples(*(st.lists(st.sampled_from("abcde"), min_size=n, max_size=n) for _ in range(2)))
)


@settings(deadline=None)  # the first example imports scikit-learn
@given(labelings)
def test_adjusted_rand_index_is_scikit_learns(pair: tuple[list[str], list[str]]) -> None:
    """The market evaluation's own ARI (core) gives the very float scikit-learn gives ([screens])."""
    from sklearn.metrics import adjusted_rand_score

    true, pred = pair
    assert adjusted_rand_index(true, pred) == float(adjusted_rand_score(true, pred))
