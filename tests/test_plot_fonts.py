"""Chinese labels in figures: drawn with a CJK font when one is installed, never as boxes without one."""

from __future__ import annotations

import logging
import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import matplotlib.figure
import matplotlib.text
import pytest

from reports.evaluation.sweeps.grid import Goal
from reports.evaluation.sweeps.score import SeedResult, SeedScore
from reports.evaluation.sweeps.table import Estimate, build_table
from reports.render.plots import figures
from reports.render.plots import fonts as plot_fonts
from reports.render.plots.fonts import CJK_FAMILIES, PlotText, find_cjk_font, has_cjk, plain_form
from reports.render.plots.sweep import plot_sweep
from reports.render.report.html import write_report
from supsim.cli.main import main
from supsim.experiments.staffing_plan import PlanRow, PlanTable, Target, plot_plan

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "scenarios" / "smoke.yaml"
ROWS = [
    {"name": "办结 deadline", "precision": 0.9, "recall": 0.8, "f1": 0.85, "tp": 8, "fp": 1, "fn": 2},
    {"name": "逻辑预警", "precision": 1.0, "recall": 0.5, "f1": 0.667, "tp": 1, "fp": 0, "fn": 1},
]
TITLE = "Accuracy: 惠阳区 — seed 1"


def _texts(fig: matplotlib.figure.Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every text of every figure saved while the test runs (report figures and PNG files)."""
    seen: list[str] = []
    save = matplotlib.figure.Figure.savefig

    def recording(self: matplotlib.figure.Figure, *args: object, **kwargs: object) -> None:
        seen.extend(_texts(self))
        save(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", recording)
    yield seen


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine where matplotlib knows no CJK font, even after a look at the system's fonts."""
    monkeypatch.setattr(plot_fonts, "_installed_families", lambda: {"DejaVu Sans", "DejaVu Serif"})
    monkeypatch.setattr(plot_fonts, "_add_fonts_missing_from_cache", lambda: 0)


def _glyph_warnings(draw: Callable[[], object]) -> list[str]:
    """Matplotlib's 'Glyph ... missing from font(s)' warnings: each one is a box in the image."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw()
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def _every_figure(text: PlotText | None) -> list[bytes]:
    return [
        figures.scores_figure(ROWS, title=TITLE, text=text),
        figures.confusion_figure(ROWS, title=TITLE, text=text),
        figures.latency_histograms({"时限": [1.0, 2.0], "logic": [0.5]}, title=TITLE, text=text),
        figures.threshold_figure("预警提前天数", [0.5, 1.0], {"recall": [0.6, 0.9]}, title=TITLE, text=text),
        figures.throughput_figure([0.0, 1.0], [10.0, 12.0], [5.0, None], title=TITLE, text=text),
    ]


def test_cjk_detection_and_the_non_cjk_form() -> None:
    assert has_cjk("惠阳") and has_cjk("（") and not has_cjk("deadline.overdue — seed 1 (x)")
    assert plain_form("completion rate (办结率)") == "completion rate"
    assert plain_form("early-completion rate（提前办结率）") == "early-completion rate"
    assert plain_form("惠阳-2024") == "2024"
    assert plain_form("run (惠阳 2024)") == "run"
    assert plain_form("逻辑预警") == ""
    assert plain_form("windows.不动产登记") == "windows" and plain_form("时限.天数") == ""
    assert plain_form("Accuracy: 惠阳区 — seed 1") == "Accuracy: seed 1"
    assert plain_form("deadline.overdue (x)") == "deadline.overdue (x)"


def test_first_installed_family_of_the_list_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        plot_fonts, "_installed_families", lambda: {"DejaVu Sans", "SimHei", "WenQuanYi Zen Hei"}
    )
    assert find_cjk_font() == "WenQuanYi Zen Hei"  # earlier in CJK_FAMILIES than SimHei
    assert CJK_FAMILIES.index("WenQuanYi Zen Hei") < CJK_FAMILIES.index("SimHei")


def test_a_font_installed_after_matplotlibs_cache_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    installed = {"DejaVu Sans"}

    def add_missing() -> int:
        installed.add("Noto Sans CJK SC")
        return 1

    monkeypatch.setattr(plot_fonts, "_installed_families", lambda: set(installed))
    monkeypatch.setattr(plot_fonts, "_add_fonts_missing_from_cache", add_missing)
    assert find_cjk_font() == "Noto Sans CJK SC"


@pytest.mark.usefixtures("no_cjk_font")
def test_without_a_cjk_font_no_figure_draws_cjk_and_the_replacements_are_named(drawn: list[str]) -> None:
    text = PlotText.lookup()
    assert text.cjk_font is None
    assert _glyph_warnings(lambda: _every_figure(text)) == []
    assert drawn and not [t for t in drawn if has_cjk(t)]
    assert "deadline" in drawn and "(name in CJK)" in drawn and "Accuracy: seed 1" in drawn
    assert text.replaced["逻辑预警"] == "(name in CJK)"
    note = text.note()
    assert note is not None and "No CJK font" in note and f"{len(text.replaced)} figure label(s)" in note
    assert _every_figure(PlotText.lookup()) == _every_figure(PlotText.lookup())  # deterministic


@pytest.mark.skipif(find_cjk_font() is None, reason="no CJK font installed on this machine")
def test_with_a_cjk_font_chinese_labels_are_drawn_in_it(drawn: list[str]) -> None:
    text = PlotText.lookup()
    assert text.cjk_font in CJK_FAMILIES
    assert _glyph_warnings(lambda: _every_figure(text)) == []  # every glyph found: no boxes
    assert "逻辑预警" in drawn and TITLE in drawn and text.replaced == {}
    assert text.note() is None
    assert _every_figure(PlotText.lookup()) == _every_figure(PlotText.lookup())  # deterministic


def test_latin_only_figures_are_unchanged_by_the_cjk_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{**r, "name": f"rule {i}"} for i, r in enumerate(ROWS)]
    with_font = figures.scores_figure(rows, title="Accuracy", text=PlotText("WenQuanYi Micro Hei"))
    assert with_font == figures.scores_figure(rows, title="Accuracy", text=PlotText(None))


@pytest.mark.usefixtures("no_cjk_font")
def test_report_of_a_run_folder_named_in_chinese_without_a_cjk_font(
    tmp_path: Path, drawn: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    run = tmp_path / "惠阳-2024"
    assert main(["run", str(SMOKE), "--out", str(run), "--quiet"]) == 0
    with caplog.at_level(logging.WARNING, logger="reports.render.plots.fonts"):
        glyphs = _glyph_warnings(lambda: write_report([run], tmp_path / "report.html"))
    assert glyphs == []
    assert len(drawn) > 10 and not [t for t in drawn if has_cjk(t)]
    assert "Confusion counts: smoke — seed 20250303 (2024)" in drawn
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.count("No CJK font is installed here") == 1
    assert "<h3>smoke — seed 20250303 (惠阳-2024)</h3>" in html  # the text keeps the name
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert "No CJK font" in caplog.records[0].message
    copy = tmp_path / "again" / "report.html"
    shutil.copytree(run, copy.parent / run.name)
    write_report([copy.parent / run.name], copy)
    assert copy.read_bytes() == (tmp_path / "report.html").read_bytes()  # same inputs, same bytes


def test_html_names_common_cjk_fonts() -> None:
    from importlib import resources

    css = (
        resources.files("reports.render.report").joinpath("templates/report.css").read_text(encoding="utf-8")
    )
    stack = css.split("font-family:", 1)[1].split(";", 1)[0]
    for family in ("Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei"):
        assert f'"{family}"' in stack
    assert stack.rstrip().endswith("sans-serif")


def _seed(tp: int, fn: int) -> SeedScore:
    return SeedScore(
        alerts=tp, tp=tp, fp=0, fn=fn, precision=1.0, recall=tp / (tp + fn), f1=2 * tp / (2 * tp + fn),
        latency_p50_h=1.0, alerts_per_day=0.1,
    )  # fmt: skip


@pytest.mark.usefixtures("no_cjk_font")
def test_sweep_and_plan_pngs_without_a_cjk_font(
    tmp_path: Path, drawn: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    results = [SeedResult(seed=s, scores=(_seed(10, 1), _seed(9, 2))) for s in (1, 2)]
    table = build_table([{"时限": {"天数": 1.0}}, {"时限": {"天数": 2.0}}], results, Goal(min_precision=0.5))
    est = Estimate(mean=1.0, lo=0.5, hi=1.5, n=2)
    plan = PlanTable(
        vary="windows.不动产登记", target="wait_mean<=5min", replications=2, smallest=2,
        rows=tuple(PlanRow(level=n, metrics={"wait_mean": est, "wait_p90": est}, meets=True) for n in (1, 2)),
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="reports.render.plots.fonts"):
        glyphs = _glyph_warnings(lambda: plot_sweep(table, tmp_path / "sweep.png"))
        glyphs += _glyph_warnings(lambda: plot_plan(plan, [Target("wait_mean", 5.0)], tmp_path / "plan.png"))
    assert glyphs == []
    assert drawn and not [t for t in drawn if has_cjk(t)]
    assert "windows" in drawn
    assert [str(tmp_path / n) in r.message for r in caplog.records for n in ("sweep.png", "plan.png")].count(
        True
    ) == 2
