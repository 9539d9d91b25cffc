"""The shipped market scenario end to end: the measurements the issue asks for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from supsim.experiments.run import run_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bm")
    run_scenario(ROOT / "scenarios" / "bidding_market.yaml", out_dir=out, progress=False)
    return out


def test_writes_the_run_files_and_the_collusion_section(run_dir: Path) -> None:
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    c = metrics["collusion"]
    assert set(c) >= {
        "tenders",
        "by_strategy",
        "by_camouflage",
        "trace_rules",
        "lookalikes",
        "rings",
        "realism",
    }
    assert {"cover", "rotation", "surrounding", "pattern", "agent", "expert"} == set(c["by_strategy"])
    assert "## Collusion" in (run_dir / "summary.md").read_text(encoding="utf-8")


def test_trace_rules_are_exact_where_traces_were_left(run_dir: Path) -> None:
    c = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))["collusion"]
    for rule, row in c["trace_rules"].items():
        assert row["tp"] > 0, rule
        assert row["precision"] == 1.0 and row["recall"] == 1.0, rule
    for kind, row in c["lookalikes"].items():
        assert row["trace_flagged"] == 0, kind


def test_default_targets(run_dir: Path) -> None:
    c = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))["collusion"]
    assert c["rings"]["ari"] >= 0.8
    assert c["tenders"]["fpr_clean"] <= 0.05  # 0.034 at the shipped seed; see docs/bidding.md
    assert c["tenders"]["recall"] >= 0.9
    assert c["tenders"]["roc_auc_screen_score_firm_rings"] >= 0.75


def test_awards_match_the_published_discount(run_dir: Path) -> None:
    # scenarios/targets/county_trading.yaml: awards ~15 % below the control price, rarely beyond 24 %.
    st = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))["sim_stats"]
    assert 0.135 <= st["competitive_award_below_control_mean"] <= 0.165
    assert st["competitive_award_below_control_p95"] <= 0.24


def test_same_seed_byte_identical(run_dir: Path, tmp_path: Path) -> None:
    run_scenario(ROOT / "scenarios" / "bidding_market.yaml", out_dir=tmp_path, progress=False)
    for name in ("events.jsonl", "truth.jsonl", "alerts.jsonl", "metrics.json"):
        assert (tmp_path / name).read_bytes() == (run_dir / name).read_bytes(), name


def test_rounded_bids_raise_no_false_pattern_and_debar_no_honest_firm(run_dir: Path) -> None:
    c = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))["collusion"]
    assert {"tied_bids", "regular_rounded_bids"} <= set(c["lookalikes"])  # rounding is on
    esc = c["escalation"]
    assert esc["clean_tenders"] > 200 and esc["price_pattern_clean"] == 0
    assert esc["cards_bidders"] > 0  # the rings are carded ...
    assert esc["cards_honest"] == 0 and esc["debarred_party_honest"] == 0  # ... nobody else
    assert c["rings"]["firms"]["precision"] == 1.0
    assert set(c["rings"]["by_strategy"]) == {"cover", "rotation", "surrounding", "pattern"}
    assert c["by_strategy"]["pattern"]["recall"] >= 0.9  # found through the recovered ring


def test_supsim_report_renders_a_market_run(run_dir: Path, tmp_path: Path) -> None:
    """`supsim report` on a market run: its tenders, rings, parties and trace rules, from metrics.json."""
    from reports.render.report.html import write_report

    c = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))["collusion"]
    write_report([run_dir], tmp_path / "report.html")
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    t = c["tenders"]
    assert f"| tenders | {t['tenders']:,} ({t['collusive']:,} collusive) |" in md
    assert f"| collusive tenders | {t['collusive']} | {t['tp'] + t['fp']} | {t['precision']:.3f} |" in md
    for rule, r in c["trace_rules"].items():
        assert f"| {rule} | {r['tp']} | {r['fp']} | {r['fn']} |" in md
    assert "bidding market" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_supsim_report_names_a_metrics_file_it_cannot_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "odd"
    run.mkdir()
    (run / "metrics.json").write_text('{"scenario": "x"}', encoding="utf-8")
    from supsim.cli.main import main

    assert main(["report", str(run)]) == 2  # a usage error, as for other bad inputs
    assert "odd/metrics.json: neither 'evaluation'" in capsys.readouterr().err


def test_screens_read_a_market_run_folder_as_labelled_bids(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from reports.evaluation.cartels.run_bids import bids_from_run
    from supsim.cli.main import main

    bids = bids_from_run(run_dir)
    c = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))["collusion"]["tenders"]
    assert len(bids) == c["tenders"] and sum(tb.label for tb in bids.values()) == c["collusive"]
    for tb in bids.values():
        assert tb.pte > 0 and tb.winning_bid in tb.bids and len(tb.firms) == len(tb.bids)
    assert main(["screens", "--data", str(run_dir)]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].startswith("Tender,CV,") and len(rows) == 1 + c["tenders"]


def test_supsim_report_on_a_network_run_says_where_its_figures_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from supsim.cli.main import main

    run = tmp_path / "net"
    run.mkdir()
    (run / "metrics.json").write_text('{"scenario": "county_network", "network": {}}', encoding="utf-8")
    assert main(["report", str(run)]) == 2
    assert "net: a network run (metrics.json holds 'network')" in capsys.readouterr().err
