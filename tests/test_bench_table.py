"""The table ``make bench`` ends with, built from hand-written bench files (no benchmark runs here).

Also keeps ``tests/bench/table.py`` in step with the benchmarks: every benchmark function has a
headline, and every ``extra_info`` key a headline names is one its benchmark file records.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from tests.bench.table import HEADLINES, BenchFileError, bench_rows, main, read_bench, render

BENCH_DIR = Path(__file__).resolve().parent / "bench"


def _bench_file(tmp_path: Path, benchmarks: list[dict[str, object]]) -> Path:
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"machine_info": {}, "benchmarks": benchmarks}))
    return path


ENGINE = {
    "name": "test_bench_engine_vs_dict_loop[in_order]",
    "stats": {"mean": 2.5},
    "extra_info": {
        "arrival": "in_order",
        "engine_events_per_s": 81000,
        "dict_loop_events_per_s": 1620000,
        "ratio_engine_to_dict_loop": 0.05,
    },
}


def test_a_row_holds_figure_baseline_and_ratio_of_the_same_run(tmp_path: Path) -> None:
    rows = bench_rows(read_bench(_bench_file(tmp_path, [ENGINE])))
    assert rows == [
        (
            "test_bench_engine_vs_dict_loop[in_order]",
            "81,000 engine events/s",
            "1,620,000 dict loop events/s",
            "engine ÷ dict loop = 0.05",
        )
    ]


def test_missing_baselines_are_said_plainly(tmp_path: Path) -> None:
    benchmarks = [
        # the benchmark records its figure but not its baseline (nor the ratio)
        {"name": "test_bench_decode_vs_untyped[array]", "extra_info": {"contract_events_per_s": 500000}},
        # a benchmark with no same-run baseline at all
        {"name": "test_halls_per_node", "extra_info": {"halls_per_node": 24, "steps": []}},
        # a benchmark the table does not know, and one without extra_info
        {"name": "test_bench_new_thing", "extra_info": {"things_per_s": 3}},
        {"name": "test_bench_to_index"},
    ]
    rows = {r[0]: r[1:] for r in bench_rows(read_bench(_bench_file(tmp_path, benchmarks)))}
    assert rows["test_bench_decode_vs_untyped[array]"] == (
        "500,000 contract events/s",
        "untyped events/s: not recorded (untyped_events_per_s)",
        "contract ÷ untyped = not recorded (ratio_contract_to_untyped)",
    )
    assert rows["test_halls_per_node"] == (
        "24 city halls at peak per node",
        "no baseline (none measured)",
        "no ratio",
    )
    assert rows["test_bench_new_thing"] == (
        "no headline declared in tests/bench/table.py",
        "no baseline",
        "no ratio",
    )
    assert rows["test_bench_to_index"][1] == "baseline ns/call: not recorded (baseline_per_call_ns)"


def test_a_ratio_the_benchmark_does_not_record_is_figure_over_baseline(tmp_path: Path) -> None:
    mmc = {"name": "test_mmc_full_size", "extra_info": {"pooled": 3.03, "erlang_c": 3.0, "rel_error": 0.01}}
    (row,) = bench_rows(read_bench(_bench_file(tmp_path, [mmc])))
    assert row[1:] == ("3.03 pooled mean wait", "3 Erlang C mean wait", "pooled ÷ Erlang C = 1.01")


def test_main_prints_one_aligned_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = {"name": "test_halls_per_node", "extra_info": {"halls_per_node": 24}}
    path = _bench_file(tmp_path, [ENGINE, other])
    assert main([str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"2 benchmarks from {path} (ratios within one run)"
    assert lines[2].split() == ["benchmark", "figure", "baseline", "(same", "run)", "ratio"]
    body, note = lines[4:-1], lines[-1]
    assert [line.split()[0] for line in body] == [ENGINE["name"], "test_halls_per_node"]
    assert note.startswith("no result (failed, skipped or not selected): ")
    column = lines[2].index("baseline (same run)")
    assert body[0][column:].startswith("1,620,000 dict loop events/s")
    assert body[1][column:].startswith("no baseline")
    absent = note.split(": ", 1)[1].split(", ")
    assert "test_cluster_ingest_against_the_single_process_service" in absent
    assert sorted([*absent, ENGINE["name"].split("[")[0], "test_halls_per_node"]) == sorted(HEADLINES)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not JSON"),
        ('{"benchmarks": {}}', "no 'benchmarks' list"),
    ],
)
def test_bad_bench_files_are_named(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "bench.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(BenchFileError, match=message) as info:
        read_bench(path)
    assert str(path) in str(info.value)


def test_main_fails_on_an_empty_or_absent_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "absent.json")]) == 1
    assert main([str(_bench_file(tmp_path, []))]) == 1
    err = capsys.readouterr().err
    assert "absent.json: no such file" in err and "holds no benchmarks" in err


def test_render_pads_every_column() -> None:
    text = render([("a", "bb", "ccc", "d")], "title")
    widths = {len(line) for line in text.splitlines()[1:4:2]}
    assert len(widths) == 1


def _names(node: ast.AST) -> set[str]:
    """String constants and keyword names under ``node`` (``extra_info.update({...})`` or ``(key=...)``)."""
    nodes = list(ast.walk(node))
    strings = {n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return strings | {n.arg for n in nodes if isinstance(n, ast.keyword) and n.arg}


def _bench_functions() -> dict[str, tuple[Path, set[str]]]:
    """Every ``test_*`` function in tests/bench with the names it can record: its own and its
    file's helpers' (not those of the other benchmarks in the file)."""
    found: dict[str, tuple[Path, set[str]]] = {}
    for path in sorted(BENCH_DIR.glob("test_bench_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        tests = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
        shared = set().union(*(_names(n) for n in tree.body if n not in tests))
        for node in tests:
            found[node.name] = (path, _names(node) | shared)
    return found


def test_every_benchmark_has_a_headline_and_no_headline_is_stale() -> None:
    functions = _bench_functions()
    assert len(functions) >= 10
    assert sorted(set(functions) - set(HEADLINES)) == []
    assert sorted(set(HEADLINES) - set(functions)) == []


def test_every_key_a_headline_names_is_recorded_by_its_benchmark_file() -> None:
    functions = _bench_functions()
    missing = []
    for name, spec in HEADLINES.items():
        path, strings = functions[name]
        keys = [spec.figure[0], spec.ratio[0], spec.baseline[0] if spec.baseline else None]
        missing += [f"{path.name}::{name}: {k}" for k in keys if k is not None and k not in strings]
    assert missing == []
