"""Ring recovery on a small planted graph, rotation evenness, and the streaming rule."""

from __future__ import annotations

from collections import Counter

import pytest

from engine.rules.collusion.rings import evenness, recover_rings
from tests.collusion_streams import own, run, tender


def test_planted_graph() -> None:
    co_bid = Counter({("A", "B"): 4, ("B", "C"): 3, ("C", "H"): 10, ("H", "I"): 8, ("X", "Y"): 2})
    # A-B-C flagged together often; C met the honest H often, flagged with it only 3/10 times;
    # H-I co-flagged twice out of eight co-bids; X-Y share a machine once.
    co_flag = Counter({("A", "B"): 4, ("B", "C"): 3, ("C", "H"): 3, ("H", "I"): 2})
    rings = recover_rings(co_bid, co_flag, [("X", "Y")], min_shared=3, min_ratio=0.5)
    assert rings == [["A", "B", "C"], ["X", "Y"]]
    # a looser ratio lets the busy honest firm in: that is what the ratio guards against
    loose = recover_rings(co_bid, co_flag, [], min_shared=3, min_ratio=0.3)
    assert loose == [["A", "B", "C", "H"]]


def test_evenness() -> None:
    assert evenness({"A": 3, "B": 3, "C": 3}) == pytest.approx(1.0)
    assert evenness({"A": 9}) == 0.0
    assert 0 < evenness({"A": 6, "B": 1, "C": 1}) < 0.8


def test_rotation_ring_recovered_from_screens_alone() -> None:
    ring = ["R1", "R2", "R3", "R4"]
    events = []
    for k in range(6):
        winner = ring[k % 4]
        covers = [m for m in ring if m != winner]
        bids = [(winner, 880_000.0, own(winner))]
        bids += [(m, 925_000.0 + 3_000.0 * j, own(m)) for j, m in enumerate(covers)]
        bids.append((f"H{k}", 990_000.0, own(f"H{k}")))  # a different honest outsider each time
        events += tender(f"Z{k}", bids, day=k)
    alerts = run(events, "collusion.screens", "collusion.ring")
    assert sum(a.rule == "collusion.screens" for a in alerts) == 6
    rings = [a for a in alerts if a.rule == "collusion.ring"]
    assert [a.evidence["members"] for a in rings] == [ring]
    assert rings[0].evidence["rotation_evenness"] == pytest.approx(
        evenness({"R1": 2, "R2": 2, "R3": 1, "R4": 1})
    )
