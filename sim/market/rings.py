"""Rings: membership, which tenders they rig, how they price, and which traces they leak.

Strategies (as regulators' reports describe them):

* ``cover`` (陪标) — one designated winner (always the same), members bid above it;
* ``rotation`` — members take turns being the designated winner;
* ``surrounding`` (围标) — a leader controls the other members (shells); the leader wins;
* ``pattern`` — complementary bids priced by formula from the winner's bid, a constant
  step (arithmetic) or ratio (geometric);
* ``agent`` — the agent leaks the rival bids (or control price) to a favoured firm, which
  undercuts the lowest rival by a hair;
* ``expert`` — bribed experts on the panel score the favoured firm up and its rivals down.

Camouflage: ``price_noise`` spreads cover bids like competitive ones, ``irregular`` jitters
a pattern, ``separate_machines`` stops members sharing machine traces. Leaked traces are
the leader's values, each field on each member bid with probability ``carelessness``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.market.scenario import RingSpec

__all__ = ["MACHINE_FIELDS", "Ring", "cover_prices", "leaked_fields"]

#: Traces that come from the machine a bid file was made and uploaded on.
MACHINE_FIELDS = frozenset({"ip", "mac", "cpu_serial", "disk_serial", "file_creation_id"})


@dataclass(slots=True)
class Ring:
    spec: RingSpec
    members: list[str]  # firm ids; members[0] is the leader / favoured firm
    experts: list[str] = field(default_factory=list)  # bribed experts (expert strategy)
    agent: str | None = None  # colluding agent (agent strategy)
    #: The person the ring entrusts its bids to when it shares ``bid_agent`` (标书代写): the
    #: leader's bid always goes through them, a member's when it is careless.
    handler: str | None = None
    turn: int = 0

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def strategy(self) -> str:
        return self.spec.strategy

    @property
    def is_firm_ring(self) -> bool:
        """Rings whose members bid together in rigged tenders (the ones ring recovery can see)."""
        return self.strategy in ("cover", "rotation", "surrounding", "pattern")

    def next_winner(self) -> str:
        if self.strategy == "rotation":
            w = self.members[self.turn % len(self.members)]
            self.turn += 1
            return w
        return self.members[0]


def cover_prices(
    ring: Ring, winner_price: float, n_covers: int, ceiling: float, rng: np.random.Generator
) -> list[float]:
    """Prices of ``n_covers`` losing bids above ``winner_price``, never above ``ceiling``."""
    cam = ring.spec.camouflage
    if ring.strategy == "pattern":
        step = float(rng.uniform(0.01, 0.02))
        ks = np.arange(1, n_covers + 1, dtype=np.float64)
        if ring.spec.pattern == "arithmetic":
            prices = winner_price * (1 + step * ks)
        else:
            prices = winner_price * (1 + step) ** ks
        if cam.irregular:
            prices = prices * (1 + rng.normal(0.0, 0.4 * step, size=n_covers))
    else:
        gaps = rng.uniform(0.015, 0.05, size=n_covers)
        prices = winner_price * (1 + gaps) * np.exp(rng.normal(0.0, cam.price_noise, size=n_covers))
        prices = np.maximum(prices, winner_price * 1.001)
    return [float(min(p, ceiling * float(rng.uniform(0.990, 0.999)))) for p in prices]


def leaked_fields(ring: Ring, rng: np.random.Generator) -> list[str]:
    """Trace fields one member bid copies from the leader (sorted)."""
    cam = ring.spec.camouflage
    out: list[str] = []
    for f in sorted(set(ring.spec.shared_traces)):
        if cam.separate_machines and f in MACHINE_FIELDS:
            continue
        if rng.random() < ring.spec.carelessness:
            out.append(f)
    return out
