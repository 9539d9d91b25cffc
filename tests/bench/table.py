"""The one table ``make bench`` ends with: each benchmark's figure, its same-run baseline, the ratio.

Timings on a shared machine move from run to run, so the performance suite never reports a
figure alone: every benchmark measures a baseline moments before or after itself and records
both, with their ratio, in ``extra_info`` of the pytest-benchmark JSON. The docs quote those
three numbers; this module reads ``runs/bench.json`` and prints them side by side.

It lives beside the benchmarks, not in the ``supsim`` command, because which ``extra_info``
key is a benchmark's figure, baseline and ratio is a fact about the benchmark (``HEADLINES``
below is kept in step with ``tests/bench/test_bench_*.py`` by ``tests/test_bench_table.py``),
and the installed package carries no benchmarks. Run it from the repository root:
``python -m tests.bench.table runs/bench.json``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["HEADLINES", "Headline", "absent_benchmarks", "bench_rows", "main", "read_bench", "render"]


@dataclass(frozen=True)
class Headline:
    """Where one benchmark keeps its three numbers in ``extra_info``: (key, label) pairs.

    ``baseline`` is ``None`` for a benchmark that has no same-run baseline; a ratio key of
    ``None`` means the benchmark records no ratio, and the table divides figure by baseline.
    """

    figure: tuple[str, str]
    baseline: tuple[str, str] | None
    ratio: tuple[str | None, str]


def _rates(figure: str, baseline: str, ratio: str, what: str, base: str, unit: str = "events/s") -> Headline:
    return Headline((figure, f"{what} {unit}"), (baseline, f"{base} {unit}"), (ratio, f"{what} ÷ {base}"))


_ENGINE = _rates(
    "engine_events_per_s", "dict_loop_events_per_s", "ratio_engine_to_dict_loop", "engine", "dict loop"
)
_CALENDAR = Headline(
    figure=("per_call_ns", "ns/call"),
    baseline=("baseline_per_call_ns", "baseline ns/call"),
    ratio=("ratio_baseline_over_indexed", "baseline ÷ this"),
)

# keyed by test function name (without the ``[parameter]`` part)
HEADLINES: dict[str, Headline] = {
    # test_bench_engine.py, test_bench_camera.py
    "test_bench_engine_vs_dict_loop": _ENGINE,
    "test_bench_engine_on_camera_streams": _ENGINE,
    "test_bench_per_frame_generation": Headline(
        figure=("detections_per_s", "frames/s"),
        baseline=("uniforms_per_s", "numpy uniforms/s"),
        ratio=("ratio_to_numpy_uniforms", "frames ÷ uniforms"),
    ),
    # test_bench_bidding.py: these two record time ratios (above 1: slower than the baseline)
    "test_bench_collusion_engine_vs_screens_loop": Headline(
        figure=("engine_events_per_s", "engine events/s"),
        baseline=("screens_loop_events_per_s", "screens loop events/s"),
        ratio=("ratio_engine_to_screens_loop", "engine time ÷ loop time"),
    ),
    "test_bench_market_simulation_vs_bare_draws": Headline(
        figure=("sim_bids_per_s", "simulated bids/s"),
        baseline=("bare_draws_bids_per_s", "bare lognormal bids/s"),
        ratio=("ratio_sim_to_bare_draws", "simulation time ÷ draws time"),
    ),
    # test_bench_calendar.py
    "test_bench_to_index": _CALENDAR,
    "test_bench_deadline": _CALENDAR,
    "test_bench_to_index_many": _CALENDAR,
    "test_bench_to_index_with_fallback": _CALENDAR,
    # test_bench_decode.py
    "test_bench_decode_vs_untyped": _rates(
        "contract_events_per_s", "untyped_events_per_s", "ratio_contract_to_untyped", "contract", "untyped"
    ),
    # test_bench_duplicate_keys.py: time ratios (below 1: cheaper than the decode it guards)
    "test_bench_duplicate_key_check_vs_decode": Headline(
        figure=("check_events_per_s", "duplicate-key check events/s"),
        baseline=("decode_events_per_s", "contract decode events/s"),
        ratio=("check_to_decode", "check time ÷ decode time"),
    ),
    # test_bench_memory.py: memory per hall against the size of the hall's day of events
    "test_memory_per_hall": Headline(
        figure=("rss_kib_per_hall", "KiB RSS per hall"),
        baseline=("day_json_kib_per_hall", "KiB of its day's events as JSON"),
        ratio=("rss_to_day_json", "RSS ÷ events"),
    ),
    # test_bench_service.py: the capacity search has nothing to compare with in the same run
    "test_service_ingest_and_latency": _rates(
        "ingest_events_per_s",
        "parse_only_events_per_s",
        "ingest_to_parse_only",
        "durable ingest",
        "parse-only",
    ),
    # test_bench_service_routes.py: hall streams, one event a POST; latency up to the route's capacity
    "test_durable_to_parse_only_on_real_streams": _rates(
        "real_stream_durable_events_per_s",
        "real_stream_parse_only_events_per_s",
        "real_stream_durable_to_parse_only",
        "durable, hall streams",
        "parse-only",
    ),
    "test_server_p99_up_to_cpu": Headline(
        figure=("worst_server_p99_ms", "server's own p99 ms, worst step"),
        baseline=("worst_parse_only_client_p99_ms", "parse-only round-trip p99 ms, worst step"),
        ratio=("server_p99_to_parse_only_client_p99", "server p99 ÷ parse-only p99"),
    ),
    # test_bench_board.py: a commit's board upkeep against the full rebuild it replaced
    "test_board_upkeep_per_commit": Headline(
        figure=("per_commit_us", "µs a commit"),
        baseline=("full_rebuild_per_commit_us", "full rebuild µs a commit"),
        ratio=("rebuild_over_incremental", "rebuild ÷ this"),
    ),
    "test_halls_per_node": Headline(("halls_per_node", "city halls at peak per node"), None, (None, "")),
    # test_bench_node.py: a node of two processes against one, the same batches
    "test_node_ingest_one_and_two_processes": _rates(
        "two_processes_events_per_s", "one_process_events_per_s", "two_to_one", "two processes", "one process"
    ),
    # test_bench_cluster.py
    "test_cluster_ingest_against_the_single_process_service": _rates(
        "cluster_ingest_events_per_s", "single_process_events_per_s", "cluster_to_single", "cluster", "single"
    ),
    # test_bench_sim.py
    "test_hall_model_vs_bare_simpy": _rates(
        "hall_kernel_events_per_s",
        "bare_mmc_kernel_events_per_s",
        "ratio_hall_to_bare",
        "hall",
        "bare M/M/c",
        unit="kernel events/s",
    ),
    "test_city_hall_month": _rates(
        "kernel_events_per_s",
        "bare_mmc_kernel_events_per_s",
        "ratio_to_bare_mmc",
        "city hall",
        "bare M/M/c",
        unit="kernel events/s",
    ),
    "test_city_hall_year_of_demand": Headline(
        figure=("seconds", "arrivals s"),
        baseline=("numpy_sort_baseline_s", "numpy sort s"),
        ratio=("ratio_to_baseline", "arrivals ÷ sort"),
    ),
    # test_bench_plan.py
    "test_city_hall_year": Headline(
        figure=("fastpath_s", "fast path s"),
        baseline=("simpy_cpu_s", "SimPy CPU s"),
        ratio=("ratio_simpy_to_fast", "SimPy ÷ fast path"),
    ),
    "test_mmc_full_size": Headline(
        figure=("pooled", "pooled mean wait"),
        baseline=("erlang_c", "Erlang C mean wait"),
        ratio=(None, "pooled ÷ Erlang C"),
    ),
    # test_bench_sweep.py
    "test_sweep_100_values_vs_one": Headline(
        figure=("sweep_100_values_s", "100-value sweep s"),
        baseline=("baseline_one_value_s", "one value streamed s"),
        ratio=("ratio", "sweep ÷ one value"),
    ),
}

COLUMNS = ("benchmark", "figure", "baseline (same run)", "ratio")


class BenchFileError(ValueError):
    """A bench file that is missing, not JSON, or not a pytest-benchmark result."""


def read_bench(path: Path) -> list[Mapping[str, Any]]:
    """The ``benchmarks`` list of a pytest-benchmark JSON file; errors name the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BenchFileError(f"{path}: no such file (did the benchmark run write it?)") from exc
    except json.JSONDecodeError as exc:
        raise BenchFileError(f"{path}: not JSON ({exc})") from exc
    benchmarks = data.get("benchmarks") if isinstance(data, dict) else None
    if not isinstance(benchmarks, list) or not all(isinstance(b, dict) for b in benchmarks):
        raise BenchFileError(f"{path}: no 'benchmarks' list of objects (not a pytest-benchmark JSON file)")
    return benchmarks


def _number(v: float) -> str:
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def _value(extra: Mapping[str, Any], key: str) -> float | None:
    v = extra.get(key)
    return None if isinstance(v, bool) or not isinstance(v, int | float) else float(v)


def _cell(extra: Mapping[str, Any], key: str, label: str) -> tuple[str, float | None]:
    v = _value(extra, key)
    return (f"{label}: not recorded ({key})" if v is None else f"{_number(v)} {label}"), v


def _row(name: str, extra: Mapping[str, Any]) -> tuple[str, str, str, str]:
    spec = HEADLINES.get(name.split("[", 1)[0])
    if spec is None:
        return name, "no headline declared in tests/bench/table.py", "no baseline", "no ratio"
    figure, fig_v = _cell(extra, *spec.figure)
    if spec.baseline is None:
        return name, figure, "no baseline (none measured)", "no ratio"
    baseline, base_v = _cell(extra, *spec.baseline)
    key, label = spec.ratio
    if key is not None:
        r = _value(extra, key)
        missing = f"not recorded ({key})"
    else:  # the benchmark records none: figure ÷ baseline of the same run
        r = fig_v / base_v if fig_v is not None and base_v else None
        missing = "needs figure and baseline"
    return name, figure, baseline, f"{label} = {missing if r is None else _number(r)}"


def bench_rows(benchmarks: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str, str]]:
    """One row per benchmark, in the file's order: name, figure, baseline, ratio (text cells)."""
    rows = []
    for b in benchmarks:
        extra = b.get("extra_info")
        rows.append(_row(str(b.get("name", "?")), extra if isinstance(extra, dict) else {}))
    return rows


def absent_benchmarks(benchmarks: Sequence[Mapping[str, Any]]) -> list[str]:
    """Benchmarks with a headline but no result in the file: a failed one writes none."""
    ran = {str(b.get("name", "")).split("[", 1)[0] for b in benchmarks}
    return [name for name in HEADLINES if name not in ran]


def render(rows: Sequence[Sequence[str]], title: str) -> str:
    """A plain-text table (columns padded to their widest cell) under ``title``."""
    table = [COLUMNS, *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS))]
    lines = [title, "  ".join("-" * w for w in widths)]
    for k, r in enumerate(table):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m tests.bench.table BENCH_JSON", file=sys.stderr)
        return 2
    path = Path(args[0])
    try:
        benchmarks = read_bench(path)
    except BenchFileError as exc:
        print(f"bench table: {exc}", file=sys.stderr)
        return 1
    if not benchmarks:
        print(f"bench table: {path} holds no benchmarks", file=sys.stderr)
        return 1
    n = len(benchmarks)
    title = f"{n} benchmark{'s' if n > 1 else ''} from {path} (ratios within one run)"
    print(render(bench_rows(benchmarks), title))
    absent = absent_benchmarks(benchmarks)
    if absent:
        print(f"no result (failed, skipped or not selected): {', '.join(absent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
