"""Ring recovery on real-style bids: proximity evidence, the bar, and no ring rather than a wrong one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reports.evaluation.cartels.data import TenderBids, load_bids_csv
from reports.evaluation.cartels.rings import (
    irwin_hall_cdf,
    k_core,
    proximity_links,
    recover_cartels,
    ring_scores,
)

RING = ["R1", "R2", "R3", "R4"]


def _market(seed: int, *, ring: bool) -> dict[str, TenderBids]:
    """40 tenders of 10 bidders from 30 honest firms; the ring (when present) bids in half of
    them, its members within 0.3 % of one another, somewhere in the honest range."""
    rng = np.random.default_rng(seed)
    out = {}
    honest = [f"H{i:02d}" for i in range(30)]
    for t in range(40):
        firms = [honest[int(j)] for j in rng.choice(30, size=10, replace=False)]
        bids = np.exp(rng.normal(math.log(1e6), 0.08, size=10)).tolist()
        members: set[str] = set()
        if ring and t % 2 == 0:
            centre = float(np.exp(rng.normal(math.log(1e6), 0.05)))
            firms += RING
            bids += (centre * (1 + rng.uniform(0, 0.003, size=4))).tolist()
            members = set(RING)
        out[str(t)] = TenderBids(bids=bids, label=int(bool(members)), firms=firms, members=members)
    return out


def test_irwin_hall_cdf_exact_and_normal() -> None:
    assert irwin_hall_cdf(0.3, 1) == pytest.approx(0.3)
    assert irwin_hall_cdf(0.5, 2) == pytest.approx(0.125)
    assert irwin_hall_cdf(1.5, 3) == pytest.approx(0.5)
    assert irwin_hall_cdf(20.0, 40) == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    sims = rng.random((200_000, 6)).sum(axis=1)
    assert irwin_hall_cdf(1.5, 6) == pytest.approx(float((sims <= 1.5).mean()), abs=5e-4)


def test_k_core_drops_firms_held_by_one_link() -> None:
    links = [("A", "B"), ("B", "C"), ("A", "C"), ("C", "D")]
    assert k_core(links, 2) == [("A", "B"), ("A", "C"), ("B", "C")]
    assert k_core(links, 3) == []


def test_a_ring_that_bids_together_is_recovered_whole_and_alone() -> None:
    data = _market(1, ring=True)
    flagged = {t for t, tb in data.items() if tb.label == 1}
    rings = recover_cartels(data, flagged)
    assert rings == [RING]
    s = ring_scores(rings, data)
    assert (s["precision"], s["recall"], s["ari"]) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_no_coordination_means_no_ring(seed: int) -> None:
    data = _market(seed, ring=False)
    every = set(data)  # even if every tender were flagged
    links, tested = proximity_links(data, every)
    assert tested > 100 and links == []
    assert recover_cartels(data, every) == []
    assert ring_scores([], data)["precision"] is None


def test_firms_and_members_are_read_from_the_file(tmp_path) -> None:
    path = tmp_path / "bids.csv"
    path.write_text(
        "Tender,Bid_value,Competitors,Cartel_name\n1,100,a,1\n1,101,b,1\n1,130,c,0\n2,90,a,1\n2,95,c,0\n",
        encoding="utf-8",
    )
    data = load_bids_csv(path)
    assert data["1"].firms == ["a", "b", "c"] and data["1"].members == {"a", "b"}
    assert data["2"].members == {"a"}
