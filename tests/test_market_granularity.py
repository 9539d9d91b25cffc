"""Price granularity in the market world: lattices, nice numbers, ties, and nothing else moved."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from engine.contract import events as ev
from sim.market.granularity import Quote, draw_quote, regular_run, snap
from sim.market.scenario import Granularity, load_market_scenario
from sim.market.world import simulate_market

BASE = """
name: rounded_market
seed: 3
start: 2024-01-02
days: 365
market:
  firms: 40
  tenders: 120
  experts: 20
  agents: 3
  lookalikes: {business_parks: 2, firms_per_park: 3, consortiums: 2, close_bids: 5}
  rings:
    - {name: steps, strategy: pattern, members: 4, tenders: 6}
    - {name: hair, strategy: agent, members: 1, tenders: 4}
"""
ROUNDED = BASE + "  granularity: {rate_share: 0.3, nice_share: 0.3}\n"


def _load(tmp_path: Path, text: str):
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return load_market_scenario(path)


def _bids(events: list[ev.Event]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for e in events:
        if isinstance(e, ev.BidSubmitted):
            out[e.tender_id][e.bidder_id] = e.price
    return out


def test_snap_puts_prices_on_the_lattice_under_the_ceiling() -> None:
    q = Quote("amount", 1000.0, nice=10_000.0)
    assert snap(2_853_499.0, q) == 2_853_000.0
    assert snap(2_853_499.0, q, nice=True) == 2_850_000.0
    assert snap(2_999_800.0, q, ceiling=2_999_500.0) == 2_999_000.0
    rate = Quote("rate", 3_000_000.0 * 0.005, origin=3_000_000.0)
    assert snap(2_851_000.0, rate) == 2_850_000.0  # 5 % off, ten steps of 0.5 %
    up = Quote("increment", 10_000.0, origin=1_000_000.0)
    assert snap(990_000.0, up) == 1_000_000.0  # never under the reserve


def test_draw_quote_scales_the_unit_with_the_job() -> None:
    spec = Granularity(unit_fractions=[1e-3], rate_share=0.0)
    rng = np.random.default_rng(0)
    assert draw_quote(spec, 3_000_000.0, False, rng).unit == 1000.0
    assert draw_quote(spec, 30_000_000.0, False, rng).unit == 10_000.0
    assert draw_quote(None, 3_000_000.0, False, rng) == Quote("cent", 0.01)


def test_regular_run_counts_equal_steps_within_a_unit() -> None:
    assert regular_run([100.0, 110.0, 120.0, 131.0, 200.0], unit=1.0)
    assert not regular_run([100.0, 110.0, 120.0, 135.0, 200.0], unit=1.0)
    assert not regular_run([100.0, 100.0, 100.0, 100.0], unit=1.0)


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("g")
    return simulate_market(_load(tmp, BASE)), simulate_market(_load(tmp, ROUNDED))


def test_granularity_changes_the_written_prices_and_nothing_else(worlds) -> None:
    plain, rounded = worlds
    a, b = _bids(plain.events), _bids(rounded.events)
    assert {t: sorted(v) for t, v in a.items()} == {t: sorted(v) for t, v in b.items()}  # same bidders
    sale = {e.tender_id: e.control_price for e in rounded.events if isinstance(e, ev.TenderPublished)}
    sale = {t: p for t, p in sale.items() if t in a and _category(rounded.events, t) in ("land", "property")}
    rel = [abs(b[t][f] / a[t][f] - 1) for t in a if t not in sale for f in a[t]]
    assert max(rel) < 0.06 and float(np.median(rel)) < 0.003  # a nice number is at most 5 % off
    assert sum(x > 0 for x in rel) > 0.9 * len(rel)
    # an ascending sale takes bids in increments from the reserve, never under it
    assert all(p >= sale[t] for t in sale for p in b[t].values())


def _category(events: list[ev.Event], tender_id: str) -> str:
    return next(e.category for e in events if isinstance(e, ev.TenderPublished) and e.tender_id == tender_id)


def test_rounded_market_has_ties_and_records_its_lookalikes(worlds) -> None:
    _, rounded = worlds
    bids = _bids(rounded.events)
    with_tie = sum(len(set(v.values())) < len(v) for v in bids.values())
    assert with_tie >= 5
    kinds = {ep.kind for ep in rounded.truth if ep.lookalike}
    assert "tied_bids" in kinds
    collusive = {ep.subject[len("tender:") :] for ep in rounded.truth if ep.kind == "collusive_tender"}
    flagged = {
        ep.subject[len("tender:") :]
        for ep in rounded.truth
        if ep.kind in ("tied_bids", "regular_rounded_bids")
    }
    assert not flagged & collusive  # look-alikes are honest tenders only


def test_the_favoured_firm_still_undercuts_by_one_unit(worlds) -> None:
    _, rounded = worlds
    bids = _bids(rounded.events)
    agent = [ep for ep in rounded.truth if ep.kind == "collusive_tender" and ep.params["strategy"] == "agent"]
    assert agent
    for ep in agent:
        t = ep.subject[len("tender:") :]
        fav = str(ep.params["leader"])
        others = [p for f, p in bids[t].items() if f != fav]
        assert bids[t][fav] < min(others)


def test_seed_study_pools_the_false_debarment_figures(tmp_path: Path) -> None:
    from supsim.experiments.collusion_sweep import seed_study, summarise_study

    rows = seed_study(_load(tmp_path, ROUNDED), [1, 2])
    assert [r["seed"] for r in rows] == [1, 2]
    s = summarise_study(rows)
    assert s["clean_tenders"] == sum(r["clean"] for r in rows) > 150
    assert s["price_pattern_clean"] == 0 and s["cards_honest"] == 0 and s["debarred_party_honest"] == 0
    assert s["ari_min"] <= s["ari_mean"] <= 1.0
    assert set(s["recall_by_strategy"]) == {"pattern", "agent"}
