"""Bids on a lattice: the unit the bids say, patterns against their null, cards on corroboration."""

from __future__ import annotations

import math

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.replay import detect
from engine.rules.collusion.lattice import find_run, lattice_unit, pattern_p_value, window_spread
from engine.rules.collusion.rings import chi2_sf_even, fisher_links
from engine.rules.rulebook import Rulebook
from tests.collusion_streams import own, run, tender

RUN_FEN = [800_417.33, 900_123.17, 909_124.40, 918_125.63, 927_126.86, 990_871.09]


def test_lattice_unit_reads_amount_units_rate_grids_and_fen() -> None:
    assert lattice_unit([2_850_000.0, 2_911_000.0, 3_004_000.0]) == pytest.approx(1000.0)
    assert lattice_unit([2_850_000.0, 2_910_000.0, 3_004_000.0]) == pytest.approx(2000.0)
    # a discount-rate grid: 0.5 % steps of a control price that is no round number
    control = 3_123_457.0
    rates = [round(control * (1 - k * 0.005), 2) for k in (3, 7, 8, 15)]
    assert lattice_unit(rates) == pytest.approx(control * 0.005, abs=0.02)
    assert lattice_unit(RUN_FEN) < 1.0
    assert lattice_unit([5.0, 5.0]) == 0.01


@given(
    st.integers(min_value=1, max_value=5).map(lambda e: 10.0**e),
    st.lists(st.integers(min_value=100, max_value=100_000), min_size=3, max_size=12, unique=True),
)
@settings(max_examples=60, deadline=None)
def test_every_bid_lies_on_the_lattice_found(unit: float, ks: list[int]) -> None:
    prices = [k * unit for k in ks]
    u = lattice_unit(prices)
    assert u >= unit - 1e-9  # never finer than the unit the bids were written in
    low = min(prices)
    assert all(abs((p - low) / u - round((p - low) / u)) * u <= 0.02 + 1e-6 for p in prices)


def test_find_run_tolerates_one_unit_of_rounding() -> None:
    # a 1.5 % formula rounded to the thousand: steps of 14, 13 and 14 thousand
    bids = [900_000.0, 914_000.0, 927_000.0, 941_000.0, 1_020_000.0]
    assert find_run(bids, 0.01, 0.01, 4) is None  # a 1 % tolerance alone misses it
    run_ = find_run(bids, 0.01, 1000.0, 4)
    assert run_ is not None and run_[0] == "arithmetic" and run_[2:] == (0, 4)


def test_window_spread_is_zero_for_an_exact_progression_and_inf_with_ties() -> None:
    x = np.asarray([[100.0, 110.0, 120.0, 130.0, 200.0], [100.0, 100.0, 100.0, 100.0, 100.0]])
    spread = window_spread(x, 4, "arithmetic")
    assert spread[0] == 0.0 and math.isinf(spread[1])


def test_a_progression_to_the_fen_is_significant_and_the_same_rounded_is_not() -> None:
    rng = np.random.default_rng(0)
    p = pattern_p_value(RUN_FEN, 4, unit=lattice_unit(RUN_FEN), rng=rng)
    assert p < 0.001
    # to the ten thousand: 800, 900, 910, 920, 930, 990 thousand — steps of one unit, which
    # honest bids on that lattice show all the time (to the thousand, three exact steps of
    # nine units would still be significant)
    rounded = [round(x, -4) for x in RUN_FEN]
    p_rounded = pattern_p_value(rounded, 4, unit=lattice_unit(rounded), rng=np.random.default_rng(0))
    assert p_rounded > 0.001


def test_honest_bids_on_a_coarse_lattice_rarely_raise_a_pattern() -> None:
    """The null's promise on its own model: 400 honest tenders on a 0.5 % rate grid."""
    rng = np.random.default_rng(7)
    control = 2_000_000.0
    fired = runs = 0
    for _ in range(400):
        n = int(rng.integers(5, 13))
        bids = np.exp(rng.normal(math.log(0.85 * control), 0.06, size=n))
        unit = control * 0.005
        bids = np.sort(control - np.round((control - bids) / unit) * unit)
        u = lattice_unit(bids.tolist())
        found = find_run(bids.tolist(), 0.01, u, 4)
        if found is None:
            continue
        runs += 1
        fired += pattern_p_value(bids.tolist(), found[3], unit=u, rng=rng, sims=2000) < 0.001
    assert runs > 40  # rounding alone makes runs common ...
    assert fired <= 2  # ... and the null keeps them from firing (expected ≤ 0.4)


def test_rule_fires_on_the_fen_run_and_not_on_the_same_run_rounded() -> None:
    bids = [(f"F{k}", p, own(f"F{k}")) for k, p in enumerate(RUN_FEN)]
    assert len(run(tender("Z1", bids), "collusion.price_pattern")) == 1
    rounded = [(f, round(p, -4), t) for f, p, t in bids]
    assert run(tender("Z1", rounded), "collusion.price_pattern") == []


def test_chi2_sf_even_matches_scipy() -> None:
    from scipy.stats import chi2

    for x, dof in [(0.5, 2), (10.0, 4), (40.0, 20), (79.0, 24), (300.0, 60)]:
        assert chi2_sf_even(x, dof) == pytest.approx(float(chi2.sf(x, dof)), rel=1e-9)
    with pytest.raises(ValueError, match="even"):
        chi2_sf_even(1.0, 3)


def test_fisher_links_need_repeated_patterns_against_the_bar() -> None:
    co_bid = {("A", "B"): 10, ("A", "C"): 10, ("C", "D"): 2} | {(f"X{i}", "Y"): 3 for i in range(100)}
    fisher = {
        ("A", "B"): -2 * 10 * math.log(0.02),  # ten tenders in a run at p = 0.02
        ("A", "C"): -2 * math.log(1e-4),  # one strong tender among ten co-bids
        ("C", "D"): -2 * 2 * math.log(1e-6),  # too few co-bids to be tested
    }
    assert fisher_links(co_bid, fisher, min_shared=3, alpha=0.01) == [("A", "B")]


def _pattern_bids(tid_shift: float = 0.0) -> list:
    prices = [p + tid_shift for p in RUN_FEN]
    names = ["H1", "W", "C1", "C2", "C3", "H2"]
    return [(n, p, own(n)) for n, p in zip(names, prices, strict=True)]


def test_a_price_pattern_alone_never_cards() -> None:
    rules = ("collusion.price_pattern", "collusion.card", "collusion.debarred_party")
    events = tender("Z1", _pattern_bids()) + tender("Z2", _pattern_bids(13.0), day=20)
    alerts = run(events, *rules)
    assert [a.rule for a in alerts] == ["collusion.price_pattern"] * 2


def test_a_price_pattern_corroborated_by_an_agent_pairing_cards_the_named_bidder() -> None:
    close = (900_000.0, 901_000.0, 950_000.0, 990_000.0)
    events = []
    for k in range(3):  # W wins three of agent A7's tenders by a hair
        bids = [("W" if i == 0 else f"O{i}", p, own(f"O{i}")) for i, p in enumerate(close)]
        events += tender(f"Y{k}", bids, day=k, agent="A7")
    events += tender("Z1", _pattern_bids(), day=10)
    rules = ("collusion.price_pattern", "collusion.agent_pairing", "collusion.card")
    cards = [a for a in run(events, *rules) if a.rule == "collusion.card"]
    assert [(a.subject, a.evidence["cause_rule"]) for a in cards] == [("bidder:W", "collusion.price_pattern")]
    assert cards[0].evidence["evidence_kinds"] == ["parties", "prices"]


def test_documents_alone_card_unless_the_rulebook_asks_for_corroboration() -> None:
    rigged = [
        ("F1", 900_000.0, own("F1", author="same")),
        ("F2", 950_000.0, own("F2", author="same")),
        ("F3", 990_000.0, own("F3")),
    ]
    events = tender("Z1", rigged)
    assert sorted(
        a.subject for a in run(events, "collusion.art40", "collusion.card") if a.rule == "collusion.card"
    ) == [
        "bidder:F1",
        "bidder:F2",
    ]
    book = Rulebook.default().with_enabled("collusion.art40", "collusion.card")
    strict = msgspec.structs.replace(
        book,
        rules=msgspec.structs.replace(
            book.rules, collusion=msgspec.structs.replace(book.rules.collusion, documents_min_kinds=2)
        ),
    )
    end = max(e.ts for e in events)  # one source: the export's end is the reference clock
    assert [a.rule for a in detect(events, strict, reference=end).alerts] == ["collusion.art40"]


def test_agent_pairing_counts_a_one_unit_win_but_not_a_tie() -> None:
    one_unit = (900_000.0, 910_000.0, 950_000.0, 990_000.0)  # 1.1 %, but one 10,000 unit
    tie = (900_000.0, 900_000.0, 950_000.0, 990_000.0)
    for prices, expected in ((one_unit, 1), (tie, 0)):
        events = []
        for k in range(3):
            bids = [(f"F{i}", p, own(f"F{i}")) for i, p in enumerate(prices)]
            events += tender(f"Z{k}", bids, day=k, agent="A7", winner="F0")
        assert len(run(events, "collusion.agent_pairing")) == expected
