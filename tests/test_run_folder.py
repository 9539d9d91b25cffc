"""Run folders can be trusted: interrupted runs, later detect runs and edits cannot pass unnoticed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import supsim.experiments.run as run_module
from supsim.cli.main import main
from supsim.experiments.run import run_scenario

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "scenarios" / "smoke.yaml"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _copy(run: Path, to: Path) -> Path:
    to.mkdir()
    for name, data in _files(run).items():
        (to / name).write_bytes(data)
    return to


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("smoke") / "run"
    run_scenario(SMOKE, out_dir=out, progress=False)
    return out


def test_an_interrupted_run_leaves_the_previous_run_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    run_scenario(SMOKE, out_dir=out, progress=False)
    (out / "report.html").write_text("kept", encoding="utf-8")  # a file the run does not write
    before = _files(out)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "write_alerts", interrupted)  # Ctrl-C after events and truth
    with pytest.raises(KeyboardInterrupt):
        run_scenario(SMOKE, seed=7, out_dir=out, progress=False)
    assert _files(out) == before
    assert [p.name for p in out.iterdir() if p.is_dir()] == []  # no staging folder left behind


def test_a_rerun_replaces_the_files_and_keeps_the_others(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run_scenario(SMOKE, out_dir=out, progress=False)
    (out / "report.html").write_text("kept", encoding="utf-8")
    run_scenario(SMOKE, seed=7, out_dir=out, progress=False)
    assert json.loads((out / "metrics.json").read_bytes())["seed"] == 7
    assert (out / "report.html").read_text(encoding="utf-8") == "kept"
    assert main(["report", str(out), "--out", str(tmp_path / "r.html")]) == 0


def test_report_refuses_a_folder_whose_alerts_changed(
    smoke_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _copy(smoke_run, tmp_path / "edited")
    lines = (run / "alerts.jsonl").read_bytes().splitlines(keepends=True)
    (run / "alerts.jsonl").write_bytes(b"".join(lines[:-1]))  # one alert fewer
    assert main(["report", str(run), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "alerts.jsonl is not the file metrics.json describes" in err
    assert "events.jsonl" not in err.split("alerts.jsonl")[0]  # only the changed file is named
    assert not (tmp_path / "r.html").exists()


def test_detect_does_not_replace_a_runs_alerts_with_different_ones(
    smoke_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _copy(smoke_run, tmp_path / "copy")
    strict = tmp_path / "strict.yaml"
    strict.write_text("rules: {deadline: {warning_lead_days: 3}}\n", encoding="utf-8")
    alerts_before = (run / "alerts.jsonl").read_bytes()
    # The default output is alerts.jsonl beside the events: the run's own alerts.
    assert main(["detect", str(run / "events.jsonl"), "--rulebook", str(strict)]) == 2
    assert "Nothing was written: choose another file with --out" in capsys.readouterr().err
    assert (run / "alerts.jsonl").read_bytes() == alerts_before
    assert sorted(p.name for p in run.iterdir()) == sorted(_files(smoke_run))  # no temporary file left
    elsewhere = tmp_path / "strict_alerts.jsonl"
    argv = ["detect", str(run / "events.jsonl"), "--rulebook", str(strict), "--out", str(elsewhere)]
    assert main(argv) == 0
    assert elsewhere.read_bytes() != alerts_before


@pytest.mark.parametrize(
    ("metrics", "said"),
    [
        (b"{bad", "metrics.json: not JSON (line 1, column 2: "),
        (b"[1]", "metrics.json: holds a JSON list, not the object"),
        (None, "metrics.json: not in the shape `supsim run` writes (TypeError: "),
    ],
)
def test_report_names_an_edited_metrics_file(
    smoke_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], metrics: bytes | None, said: str
) -> None:
    """Before: a JSONDecodeError or TypeError traceback (its own digest cannot be inside it)."""
    run = _copy(smoke_run, tmp_path / "run")
    if metrics is None:
        edited = json.loads((run / "metrics.json").read_bytes())
        edited["evaluation"] = "x"
        metrics = json.dumps(edited).encode()
    (run / "metrics.json").write_bytes(metrics)
    assert main(["report", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"supsim: error: {run / 'metrics.json'}") and said in err
    assert not (run / "report.html").exists()
