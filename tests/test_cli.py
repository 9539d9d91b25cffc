"""End to end through the command line: run, determinism, detect on an exported file, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from supsim.cli.main import main

SMOKE = Path(__file__).resolve().parents[1] / "scenarios" / "smoke.yaml"
DATA_FILES = ("events.jsonl", "truth.jsonl", "alerts.jsonl", "metrics.json")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "smoke"
    assert main(["run", str(SMOKE), "--out", str(out), "--quiet"]) == 0
    return out


def test_run_writes_every_output(smoke_run: Path) -> None:
    for name in (*DATA_FILES, "scores.json", "summary.md", "timings.json"):
        assert (smoke_run / name).stat().st_size > 0, name


def test_same_seed_gives_byte_identical_outputs(smoke_run: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert main(["run", str(SMOKE), "--out", str(again), "--quiet"]) == 0
    for name in DATA_FILES:
        assert (again / name).read_bytes() == (smoke_run / name).read_bytes(), name


def test_other_seed_gives_another_world(smoke_run: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    assert main(["run", str(SMOKE), "--seed", "12345", "--out", str(other), "--quiet"]) == 0
    assert (other / "events.jsonl").read_bytes() != (smoke_run / "events.jsonl").read_bytes()


def test_clean_stream_is_scored_perfectly(smoke_run: Path) -> None:
    """On the simulator's clean stream every deadline and logic rule is exact, and no look-alike is hit."""
    evaluation = json.loads((smoke_run / "metrics.json").read_bytes())["evaluation"]
    scored = {row["name"]: row for row in evaluation["rules"] if row["episodes"] or row["alerts"]}
    assert {"deadline.overdue", "logic.excess_fee", "logic.backdated"} <= set(scored)
    for name, row in scored.items():
        assert (row["fp"], row["fn"]) == (0, 0), (name, row)
    assert evaluation["lookalikes_flagged"] == 0
    assert all(look["episodes"] > 0 for look in evaluation["lookalikes"])


def test_detect_on_the_exported_events_reproduces_the_run(smoke_run: Path, tmp_path: Path) -> None:
    events = tmp_path / "export.jsonl"
    events.write_bytes((smoke_run / "events.jsonl").read_bytes())  # nothing else from the run folder
    out = tmp_path / "alerts.jsonl"
    rulebook = SMOKE.parent / "rulebooks" / "default.yaml"
    assert main(["detect", str(events), "--rulebook", str(rulebook), "--out", str(out)]) == 0
    assert out.read_bytes() == (smoke_run / "alerts.jsonl").read_bytes()


def test_detect_out_a_folder_writes_its_alerts_file(smoke_run: Path, tmp_path: Path) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    assert main(["detect", str(smoke_run / "events.jsonl"), "--out", str(folder)]) == 0
    assert (folder / "alerts.jsonl").read_bytes() == (smoke_run / "alerts.jsonl").read_bytes()


def test_run_prints_the_table_and_where_outputs_are(
    smoke_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(SMOKE), "--out", str(tmp_path / "p"), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "deadline.overdue" in printed
    assert str(tmp_path / "p" / "alerts.jsonl") in printed


def test_bad_scenario_fails_with_file_and_field_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    text = SMOKE.read_text(encoding="utf-8")
    bad.write_text(text + "\nsurprise_field: 1\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(bad), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "surprise_field" in err
    assert not out.exists()
    assert main(["validate", str(bad)]) == 2


def test_bad_event_file_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text('{"kind":"case.closed","event_id":"x","ts":"2025-03-03T09:00:00+08:00"}\n')
    out = tmp_path / "alerts.jsonl"
    assert main(["detect", str(events), "--out", str(out)]) == 2
    assert "events.jsonl:1" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("what", ["events", "scenario", "market", "rulebook"])
def test_schema_commands_print_json_schema(what: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", what]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "$defs" in schema or "properties" in schema


def test_run_prints_the_calibration_table_when_the_scenario_names_targets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "rulebooks").mkdir()
    (tmp_path / "rulebooks" / "default.yaml").write_bytes(
        (SMOKE.parent / "rulebooks" / "default.yaml").read_bytes()
    )
    (tmp_path / "targets.yaml").write_text(
        "place: test hall\nsource: hand-written\nfigures:\n"
        "  - {id: items, metric: items, value: 12, basis: size}\n"
        "  - {id: windows, metric: windows, value: 50, basis: size}\n",
        encoding="utf-8",
    )
    scenario = tmp_path / "smoke_with_targets.yaml"
    scenario.write_text(SMOKE.read_text(encoding="utf-8") + "\ntargets: targets.yaml\n", encoding="utf-8")
    assert main(["run", str(scenario), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    printed = capsys.readouterr().out
    table = printed[printed.index("calibration of") :]
    rows = {line.split()[0]: line.split()[-1] for line in table.splitlines()[3:5]}
    assert rows == {"items": "yes", "windows": "NO"}  # smoke has 12 items and 5 windows


def _corrupt(smoke_run: Path, tmp_path: Path) -> tuple[Path, Path, list[bytes]]:
    """The smoke run's events with lines 40 and 41 broken, and the same file without them."""
    lines = (smoke_run / "events.jsonl").read_bytes().splitlines(keepends=True)
    broken = [*lines[:39], b'{"kind": "case.submitted"}\n', b"not json\n", *lines[41:]]
    bad, dropped = tmp_path / "bad.jsonl", tmp_path / "dropped.jsonl"
    bad.write_bytes(b"".join(broken))
    dropped.write_bytes(b"".join([*lines[:39], *lines[41:]]))
    return bad, dropped, broken[39:41]


def test_detect_names_every_bad_line_and_writes_nothing(
    smoke_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad, _, _ = _corrupt(smoke_run, tmp_path)
    out = tmp_path / "alerts.jsonl"
    assert main(["detect", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "2 line(s) are not contract events" in err
    assert f"{bad}:40: Object missing required field" in err and f"{bad}:41: malformed JSON" in err
    assert "--skip-invalid" in err and not out.exists()


def test_detect_skip_invalid_judges_the_rest_and_keeps_the_bad_lines(
    smoke_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad, dropped, broken = _corrupt(smoke_run, tmp_path)
    out, rest, kept = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "rejected.jsonl"
    assert main(["detect", str(bad), "--out", str(out), "--skip-invalid", str(kept)]) == 1
    assert "2 line(s)" in capsys.readouterr().err
    assert main(["detect", str(dropped), "--out", str(rest)]) == 0
    assert out.read_bytes() == rest.read_bytes()  # the bad lines cost only themselves
    rows = [json.loads(line) for line in kept.read_text(encoding="utf-8").splitlines()]
    assert [r["line"] for r in rows] == [40, 41]
    assert [r["text"].encode() + b"\n" for r in rows] == broken


def test_detect_reads_a_windows_export_with_bom_and_crlf(smoke_run: Path, tmp_path: Path) -> None:
    """Excel and many Windows tools write a byte-order mark and CRLF line ends; the events are the same."""
    lines = (smoke_run / "events.jsonl").read_bytes().splitlines()
    export = tmp_path / "export.jsonl"
    export.write_bytes(b"\xef\xbb\xbf" + b"".join(line + b"\r\n" for line in lines))
    out = tmp_path / "alerts.jsonl"
    assert main(["detect", str(export), "--out", str(out)]) == 0
    plain = tmp_path / "plain.jsonl"
    assert main(["detect", str(smoke_run / "events.jsonl"), "--out", str(plain)]) == 0
    assert out.read_bytes() == plain.read_bytes()


def test_an_export_sorted_by_case_is_flagged_and_replays_in_time_order(
    smoke_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sorted by case, most events come behind the watermark; --in-time-order gives the run's alerts."""
    lines = (smoke_run / "events.jsonl").read_bytes().splitlines(keepends=True)
    by_case = sorted(lines, key=lambda raw: json.loads(raw).get("case_id") or "")  # stable: file order within
    export = tmp_path / "by_case.jsonl"
    export.write_bytes(b"".join(by_case))
    assert main(["detect", str(export), "--out", str(tmp_path / "a.jsonl")]) == 0
    printed = capsys.readouterr().out
    assert "Is the file in arrival order?" in printed and "--in-time-order" in printed
    assert main(["detect", str(export), "--out", str(tmp_path / "b.jsonl"), "--in-time-order"]) == 0
    assert "arrival order" not in capsys.readouterr().out
    assert (tmp_path / "b.jsonl").read_bytes() == (smoke_run / "alerts.jsonl").read_bytes()
    # The run's own file, in arrival order, draws no warning.
    assert main(["detect", str(smoke_run / "events.jsonl"), "--out", str(tmp_path / "c.jsonl")]) == 0
    assert "arrival order" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "s.yaml", "--seed", "-1"], "argument --seed: must be >= 0, got -1"),
        (["sweep", "s.yaml", "--grid", "g.yaml", "--seeds", "0"], "argument --seeds: must be >= 1, got 0"),
        (
            ["plan", "s.yaml", "--target", "t", "--vary", "v", "--replications", "0"],
            "--replications: must be >= 1",
        ),
        (["screens", "--data", "b.csv", "--folds", "1"], "argument --folds: must be >= 2, got 1"),
        (["calibrate", "s.yaml", "--targets", "t.yaml", "--replications", "0"], "must be >= 1, got 0"),
        (["cluster", "chaos", "s.yaml", "--events", "0"], "argument --events: must be >= 1, got 0"),
        (["run", "s.yaml", "--seed", "x"], "argument --seed: invalid int value: 'x'"),
    ],
)
def test_counts_out_of_range_are_refused_by_the_parser(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A negative seed or zero seeds ended in a traceback from deep inside a run."""
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_detect_reads_a_json_array_file_and_names_a_bad_element(
    smoke_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The body /v1/events takes, saved to a file (pretty-printed): every line was 'not an event'."""
    events = [
        json.loads(line) for line in (smoke_run / "events.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    array = tmp_path / "events.json"
    array.write_text(json.dumps(events, ensure_ascii=False, indent=2), encoding="utf-8")
    out = tmp_path / "alerts.jsonl"
    assert main(["detect", str(array), "--out", str(out)]) == 0
    assert out.read_bytes() == (smoke_run / "alerts.jsonl").read_bytes()
    events[5]["kind"] = "case.bogus"
    array.write_text(json.dumps(events), encoding="utf-8")
    assert main(["detect", str(array), "--out", str(tmp_path / "b.jsonl")]) == 2
    assert f"{array}: Invalid value 'case.bogus' - at `$[5].kind`" in capsys.readouterr().err


def test_validate_reports_every_bad_file_and_the_files_a_scenario_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: it stopped at the first bad file, and said "ok" for a rulebook or targets it could not read."""
    text = SMOKE.read_text(encoding="utf-8")
    book = str(SMOKE.parent / "rulebooks" / "default.yaml")
    no_rulebook = tmp_path / "no_rulebook.yaml"  # `rulebook:` left out, written outside scenarios/
    no_rulebook.write_text("\n".join(r for r in text.splitlines() if not r.startswith("rulebook:")))
    no_targets = tmp_path / "no_targets.yaml"
    no_targets.write_text(
        f"{text}\nrulebook: {book}\ntargets: missing.yaml#tag\n".replace("\nrulebook: rulebooks", "\n# ")
    )
    assert main(["validate", str(no_rulebook), str(SMOKE), str(no_targets)]) == 2
    out, err = capsys.readouterr()
    assert out == f"{SMOKE}: ok (smoke)\n"
    first, second = err.splitlines()
    assert first.startswith(f"supsim: error: {no_rulebook}: `$.rulebook` - ") and "left out means" in first
    assert second.startswith(f"supsim: error: {no_targets}: `$.targets` - ") and "missing.yaml" in second


def test_run_checks_the_targets_before_simulating(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: the run simulated and wrote its folder, then failed on the targets it names."""
    scenario = tmp_path / "s.yaml"
    book = str(SMOKE.parent / "rulebooks" / "default.yaml")
    text = SMOKE.read_text(encoding="utf-8").replace("\nrulebook: rulebooks", "\n# ")
    scenario.write_text(f"{text}\nrulebook: {book}\ntargets: missing.yaml\n")
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 2
    assert "`$.targets` - " in capsys.readouterr().err
    assert not out.exists()


def test_out_onto_a_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: a FileExistsError traceback."""
    taken = tmp_path / "taken"
    taken.write_text("mine", encoding="utf-8")
    assert main(["run", str(SMOKE), "--out", str(taken), "--quiet"]) == 2
    assert (
        capsys.readouterr().err == f"supsim: error: {taken}: File exists (a file is there: give a folder)\n"
    )
    assert taken.read_text(encoding="utf-8") == "mine"


def test_detect_warns_when_the_reference_time_is_before_the_events(
    smoke_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: every event set aside as future, 0 alerts, exit 0, and no word of why."""
    argv = ["detect", str(smoke_run / "events.jsonl"), "--out", str(tmp_path / "a.jsonl")]
    assert main([*argv, "--reference-time", "2025-03-01T00:00+08:00"]) == 0
    out = capsys.readouterr().out
    assert "0 alerts written" in out
    assert (
        "warning: 3,693 of 3,693 events are stamped after --reference-time 2025-03-01T00:00:00+08:00" in out
    )
    assert main([*argv, "--reference-time", "2025-04-01T00:00+08:00"]) == 0
    assert "warning:" not in capsys.readouterr().out


ONE_DAY_ITEM = """\
name: one_day
start: 2025-03-03
days: 5
rulebook: {rulebook}
halls:
  - id: H1
    name: Hall
    departments: [{{id: D1, name: Dept, windows: 1}}]
    items:
      - id: I1
        name: Item
        department: D1
        promised_days: 1
        steps: [{{name: review, post: review, limit_days: 0.5}}]
arrivals: {{cases_per_day: 40}}
"""


def test_a_one_day_item_runs_and_its_truth_agrees_with_the_engine(tmp_path: Path) -> None:
    """Before: refused ("promised_days must exceed truth.warning_lead_days (1)"), and lowering the truth's
    lead made truth and rulebook disagree. A limit within the lead has no warning window on either side."""
    scenario = tmp_path / "one_day.yaml"
    scenario.write_text(
        ONE_DAY_ITEM.format(rulebook=SMOKE.parent / "rulebooks" / "default.yaml"), encoding="utf-8"
    )
    out = tmp_path / "run"
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 0
    rules = {r["name"]: r for r in json.loads((out / "metrics.json").read_bytes())["evaluation"]["rules"]}
    assert rules["deadline.warning"]["episodes"] == rules["deadline.warning"]["alerts"] == 0
    overdue = rules["deadline.overdue"]
    assert overdue["episodes"] > 0 and overdue["alerts"] == overdue["episodes"]  # the limit itself is watched
