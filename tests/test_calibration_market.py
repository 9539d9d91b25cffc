"""Calibrating a bidding market: award discounts from the stream, the market's period scale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from engine.contract import events as ev
from reports.evaluation.calibration.metrics import event_figures, market_scale
from reports.evaluation.calibration.targets import load_targets
from sim.market.scenario import load_market_scenario
from supsim.cli.main import main
from supsim.experiments.calibrate_market import calibrate_market

ROOT = Path(__file__).resolve().parents[1]
MARKET = ROOT / "scenarios" / "bidding_market.yaml"
TARGETS = ROOT / "scenarios" / "targets" / "county_trading.yaml"
T0 = datetime(2024, 3, 1, 9, tzinfo=UTC)


def _tender(i: int, category: str, control: float, award: float) -> list[ev.Event]:
    tid = f"T{i}"
    return [
        ev.TenderPublished(
            event_id=f"p{i}", ts=T0, tender_id=tid, category=category, control_price=control, tenderer_id="O"
        ),  # type: ignore[arg-type]
        ev.TenderAwarded(
            event_id=f"a{i}", ts=T0 + timedelta(days=20), tender_id=tid, winner_id="F1", price=award
        ),
    ]


def test_award_discounts_count_only_tenders_below_a_ceiling() -> None:
    events = [
        *_tender(1, "construction", 100.0, 80.0),
        *_tender(2, "procurement", 100.0, 90.0),
        *_tender(3, "land", 100.0, 150.0),  # an ascending sale above its reserve: not a discount
        *_tender(4, "property", 100.0, 120.0),
    ]
    figures = event_figures(events)
    assert figures["tenders_awarded"] == 2
    assert figures["award_discount_mean"] == pytest.approx(0.15)
    assert figures["award_discount_max"] == pytest.approx(0.20)


def test_market_calibration_reproduces_the_shipped_claim_on_a_shorter_year() -> None:
    market = msgspec.structs.replace(load_market_scenario(MARKET), days=120)
    scale = market_scale(market)
    assert 70 <= scale.working_days <= 90 and scale.size == {}
    result = calibrate_market(market, load_targets(TARGETS), 2)
    rows = {r.id: r for r in result.rows}
    assert rows["award_discount_mean"].n == 2
    mean = rows["award_discount_mean"].mean
    assert mean is not None and 0.12 < mean < 0.18
    p95 = rows["award_discount_p95"].mean
    assert p95 is not None and p95 < 0.26


def test_fit_on_a_market_is_refused_with_a_reason(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["calibrate", str(MARKET), "--targets", str(TARGETS), "--fit"])
    assert code == 2
    assert "--fit searches hall scenarios only" in capsys.readouterr().err
