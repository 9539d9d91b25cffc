"""The bidding-market world: scenario checks, determinism, calibration, rings, traces, truth."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from engine.contract import events as ev
from sim.common.scenario import ScenarioError
from sim.market.scenario import is_market_file, load_market_scenario
from sim.market.world import simulate_market

ROOT = Path(__file__).resolve().parents[1]
SMALL = """
name: small_market
seed: 5
start: 2024-01-02
days: 365
market:
  firms: 40
  tenders: 160
  experts: 20
  agents: 3
  lookalikes: {business_parks: 2, firms_per_park: 3, consortiums: 2, close_bids: 5}
  rings:
    - {name: careless, strategy: cover, members: 3, tenders: 8,
       shared_traces: [author, mac, cpu_serial, disk_serial, bid_agent, marks], carelessness: 1.0}
    - {name: careful, strategy: rotation, members: 3, tenders: 8, shared_traces: [mac, author],
       carelessness: 1.0, camouflage: {separate_machines: true}}
    - {name: steps, strategy: pattern, members: 4, tenders: 5}
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("m") / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_shipped_scenario_is_a_market_with_three_or_more_strategies() -> None:
    path = ROOT / "scenarios" / "bidding_market.yaml"
    assert is_market_file(path) and not is_market_file(ROOT / "scenarios" / "smoke.yaml")
    sc = load_market_scenario(path)
    assert sc.days >= 365 and len({r.strategy for r in sc.market.rings}) >= 3


def test_bad_market_file_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("strategy: cover", "strategy: bribery"), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"\$\.market\.rings\[0\]\.strategy"):
        load_market_scenario(bad)
    bad.write_text(SMALL.replace("firms: 40", "firms: 12"), encoding="utf-8")
    with pytest.raises(ScenarioError, match="too few firms"):
        load_market_scenario(bad)


def test_same_seed_same_stream_and_another_seed_differs(small: Path) -> None:
    sc = load_market_scenario(small)
    a, b, c = simulate_market(sc), simulate_market(sc), simulate_market(sc, seed=6)
    enc = [ev.encode_event(e) for e in a.events]
    assert enc == [ev.encode_event(e) for e in b.events]
    assert a.truth == b.truth
    assert enc != [ev.encode_event(e) for e in c.events]


def test_competitive_awards_below_control_and_under_it(small: Path) -> None:
    res = simulate_market(load_market_scenario(small))
    st = res.stats
    assert 0.10 <= st["competitive_award_below_control_mean"] <= 0.22
    control = {e.tender_id: e.control_price for e in res.events if isinstance(e, ev.TenderPublished)}
    cats = {e.tender_id: e.category for e in res.events if isinstance(e, ev.TenderPublished)}
    over = [
        e
        for e in res.events
        if isinstance(e, ev.BidSubmitted)
        and cats[e.tender_id] in ("construction", "procurement")
        and e.price > control[e.tender_id]
    ]
    assert over == []


def test_rings_bid_together_and_leak_what_they_are_told(small: Path) -> None:
    res = simulate_market(load_market_scenario(small))
    bids: dict[str, dict[str, ev.BidTraces]] = defaultdict(dict)
    for e in res.events:
        if isinstance(e, ev.BidSubmitted):
            bids[e.tender_id][e.bidder_id] = e.traces
    rigged = [ep for ep in res.truth if ep.kind == "collusive_tender"]
    assert {ep.params["ring"] for ep in rigged} == {"careless", "careful", "steps"}
    for ep in rigged:
        tid = ep.subject.split(":")[1]
        members = str(ep.params["members"]).split(",")
        traces = [bids[tid][m] for m in members]
        authors = {t.author for t in traces}
        macs = {t.mac for t in traces}
        if ep.params["ring"] == "careless":  # carelessness 1: every member uses the leader's
            assert len(authors) == 1 and len(macs) == 1
            assert len({t.bid_agent for t in traces}) == 1 and traces[0].bid_agent is not None
            leader = str(ep.params["leader"])
            assert all(any(m.party_id == leader for m in bids[tid][f].marks) for f in members if f != leader)
            assert "bid_agent" in str(ep.params["leaks"]) and "marks" in str(ep.params["leaks"])
        elif ep.params["ring"] == "careful":  # separate machines: author shared, machines not
            assert len(authors) == 1 and len(macs) == len(members)
        else:
            assert len(authors) == len(members)
    members = {ep.subject for ep in res.truth if ep.kind == "ring_member"}
    assert len(members) == 10


def test_lookalikes_are_recorded(small: Path) -> None:
    res = simulate_market(load_market_scenario(small))
    kinds = {ep.kind for ep in res.truth if ep.lookalike}
    assert {"shared_ip_park", "close_honest_bids"} <= kinds
    assert all(
        ep.cause == "lookalike" and "collusive_tender" in ep.confuses for ep in res.truth if ep.lookalike
    )


def test_pattern_ring_prices_on_a_constant_step(small: Path) -> None:
    res = simulate_market(load_market_scenario(small))
    prices: dict[str, dict[str, float]] = defaultdict(dict)
    for e in res.events:
        if isinstance(e, ev.BidSubmitted):
            prices[e.tender_id][e.bidder_id] = e.price
    for ep in res.truth:
        if ep.kind == "collusive_tender" and ep.params["ring"] == "steps":
            p = sorted(prices[ep.subject.split(":")[1]][m] for m in str(ep.params["members"]).split(","))
            steps = np.diff(p)
            assert np.ptp(steps) <= 0.01 * steps.mean() + 0.02


def test_bid_agencies_serve_many_tenders_but_one_bidder_per_tender(small: Path) -> None:
    res = simulate_market(load_market_scenario(small))
    rigged = {ep.subject.split(":")[1] for ep in res.truth if ep.kind == "collusive_tender"}
    per_tender: dict[str, list[str]] = defaultdict(list)
    foreign: dict[str, set[str]] = defaultdict(set)
    bidders: dict[str, set[str]] = defaultdict(set)
    for e in res.events:
        if isinstance(e, ev.BidSubmitted):
            bidders[e.tender_id].add(e.bidder_id)
            if e.traces.bid_agent is not None:
                per_tender[e.tender_id].append(e.traces.bid_agent)
            foreign[e.tender_id] |= {m.party_id for m in e.traces.marks}
    honest = [t for t in per_tender if t not in rigged]
    assert all(len(set(per_tender[t])) == len(per_tender[t]) for t in honest)
    tenders_of = defaultdict(set)
    for t in honest:
        for a in per_tender[t]:
            tenders_of[a].add(t)
    assert max(len(ts) for ts in tenders_of.values()) >= 10  # the popular agency
    assert not any(foreign[t] & bidders[t] for t in bidders if t not in rigged)
    assert any(foreign[t] for t in bidders if t not in rigged)  # honest foreign marks exist
    kinds = {ep.kind for ep in res.truth if ep.lookalike}
    assert {"popular_bid_agency", "foreign_document_mark"} <= kinds


def test_benchmark_award_goes_to_the_bid_nearest_k_times_the_trimmed_mean() -> None:
    from sim.market.award import award, benchmark_price
    from sim.market.scenario import MarketSpec

    spec = MarketSpec(abnormal_low=0.12)
    prices = {"A": 800.0, "B": 860.0, "C": 900.0, "D": 940.0, "E": 990.0}
    # Highest and lowest dropped: mean(860, 900, 940) = 900; K = 0.96 gives 864.
    assert benchmark_price(prices, 0.96) == pytest.approx(864.0)
    assert award(prices, "benchmark", spec, factor=0.96, tech={}) == ("B", set())
    assert award(prices, "lowest", spec, factor=0.96, tech={}) == ("A", set())
    # A bid more than 12 % under the mean (898) is rejected as under cost; the next lowest wins.
    low = {**prices, "A": 700.0}
    assert award(low, "lowest", spec, factor=0.96, tech={}) == ("B", {"A"})
    assert award(prices, "ascending", spec, factor=0.96, tech={}) == ("E", set())
    # Composite: price 60 % (full marks to the lowest valid), technical score 40 %.
    tech = {"A": 60.0, "B": 95.0, "C": 80.0, "D": 80.0, "E": 80.0}
    assert award(prices, "composite", spec, factor=0.96, tech=tech)[0] == "B"
