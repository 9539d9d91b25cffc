"""``supsim report``: every section, embedded figures, deterministic bytes, and a real browser render."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from reports.render.report.html import SECTIONS, render_html, render_markdown, write_report
from reports.render.report.model import build_report
from supsim.cli.main import main
from supsim.cli.report import register

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "scenarios" / "smoke.yaml"
ARTEFACTS = ROOT / "runs" / "test-artefacts"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "smoke"
    assert main(["run", str(SMOKE), "--out", str(out), "--quiet"]) == 0
    sweep = {"param": "deadline.warning.warning_lead_days", "rows": [
        {"value": 0.5, "precision": 1.0, "recall": 0.6, "f1": 0.75},
        {"value": 1.0, "precision": 0.9, "recall": 0.9, "f1": 0.9}]}  # fmt: skip
    (out / "sweep.json").write_text(json.dumps(sweep), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def report(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["report", str(run_dir), "--out", str(out)])
    assert args.func(args) == 0
    return out


def test_html_has_every_section_and_embedded_figures(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f">{section}</h2>" in text, section
    images = re.findall(r'src="data:image/png;base64,', text)
    assert len(images) >= 4  # accuracy, confusion, latency, threshold curves
    assert "http://" not in text and "https://" not in text  # self-contained
    assert "deadline.overdue" in text and "precision" in text


def test_markdown_and_json_agree_with_the_run(report: Path, run_dir: Path) -> None:
    md = (report.parent / "report.md").read_text(encoding="utf-8")
    data = json.loads((report.parent / "report.json").read_text(encoding="utf-8"))
    metrics = json.loads((run_dir / "metrics.json").read_bytes())
    assert all(f"## {s}" in md for s in SECTIONS)
    prov = data["provenance"]["runs"][0]
    assert prov["events_sha256"] == metrics["events_sha256"] and prov["seed"] == metrics["seed"]
    assert metrics["events_sha256"] in md
    (run,) = data["runs"]
    assert sum(len(v) for v in run["latencies_h"].values()) == metrics["evaluation"]["overall"]["tp"]
    assert run["sweep"]["param"] == "deadline.warning.warning_lead_days"


def test_same_runs_give_the_same_bytes(report: Path, run_dir: Path, tmp_path: Path) -> None:
    paths = write_report([run_dir], tmp_path / "again.html")
    assert paths[0].read_bytes() == report.read_bytes()
    assert paths[2].read_bytes() == (report.parent / "report.json").read_bytes()


def test_text_from_users_files_is_escaped_in_html_and_tables_in_markdown(run_dir: Path) -> None:
    """Scenario names and ids come from users' files: markup in them is shown, never interpreted."""
    report = build_report([run_dir])
    hostile = "<script>alert(1)</script> a|b"
    report["title"] = hostile
    report["runs"][0]["scenario"] = hostile
    page = render_html(report)
    assert "<script>" not in page
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt; a|b</title>" in page
    assert "<h3>&lt;script&gt;alert(1)&lt;/script&gt; a|b — seed" in page
    assert page.count("<h2 ") == len(SECTIONS) and page.endswith("</body></html>\n")
    md = render_markdown(report)
    assert md.startswith(f"# {hostile}\n") and md.endswith("|\n") and not md.endswith("\n\n")
    assert "| scenario | <script>alert(1)</script> a\\|b (" in md  # a `|` in a cell does not split it


def test_missing_run_folder_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["report", str(tmp_path)])
    with pytest.raises(FileNotFoundError, match="not a run folder"):
        args.func(args)


def _chromium() -> str | None:
    return next((p for n in ("chromium", "chromium-browser") if (p := shutil.which(n))), None)


@pytest.mark.slow  # headless Chromium
def test_report_renders_in_headless_chromium(report: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium); the browser render is not checked")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTEFACTS / "report.png"
    shot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=1100,4200",
             report.resolve().as_uri()],
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip
    assert shot.is_file() and shot.stat().st_size > 20_000, "chromium wrote no screenshot"
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] == 4200 and pixels.shape[1] == 1100
    assert pixels[..., :3].std() > 0.05  # not a blank page
    shutil.copy(report, ARTEFACTS / "report.html")


def test_the_kpi_table_shows_processing_time_and_reads_older_runs() -> None:
    from reports.render.report.tables import kpi_table

    kpis = {
        "cases_seen": 10, "cases_closed": 8, "completion_rate": 0.8, "early_completion_rate": 1.0,
        "early_completed": 5, "promised_closed": 5, "on_time_rate": 1.0, "instant_share": 0.5,
        "online_share": 0.1, "per_10k_cases": None,
        "alerts": dict.fromkeys(
            ("deadline_warnings", "step_warnings", "logic_warnings", "yellow_cards", "red_cards"), 0
        ),
    }  # fmt: skip
    _, older = kpi_table({"kpis": kpis})  # a run folder written before the figure existed
    assert ("mean processing time (平均办理时间)", "n/a", "") in older
    _, rows = kpi_table({"kpis": {**kpis, "mean_processing_days": 1.9, "processing_speedup": 0.05}})
    row = next(r for r in rows if r[0].startswith("mean processing time"))
    assert row[1] == "1.90 working days" and "95.00 % of their promised limit" in row[2]
