"""The parties of a trading centre: firms with their electronic identities, experts, agents.

Why every firm carries a full set of trace identities: the trace rules compare the values a
platform records with each bid (upload IP, MAC, CPU and disk serials, CA certificate,
pricing-software dongle, document author, bond account, project manager). An honest firm
uses its own; a ring member sometimes uses its leader's (see :mod:`sim.market.rings`).
The look-alikes live here too: firms in one business park share a public IP, most firms use
one popular pricing-software vendor (same serial *prefix*, different serials), and
consortium partners are real firms that bid together as one bidder.

Identifiers are drawn from the seeded generator, and names from Faker ``zh_CN`` seeded from
it, so the same seed gives the same market.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from faker import Faker

from sim.market.scenario import MarketSpec

__all__ = ["Firm", "MarketParties", "build_parties"]


@dataclass(slots=True)
class Firm:
    firm_id: str
    name: str
    region: str
    categories: tuple[str, ...]
    capacity: float  # largest control price it takes on (yuan)
    efficiency: float  # log cost offset: negative is cheaper
    quality: float  # mean technical score experts give it
    ip: str
    mac: str
    cpu_serial: str
    disk_serial: str
    ca_serial: str
    dongle_serial: str
    author: str
    bond_account: str
    project_managers: tuple[str, ...]
    park: int | None = None
    consortium: str | None = None
    bid_agency: str | None = None  # the agency it entrusts its bids to (None: in-house)


@dataclass(slots=True)
class MarketParties:
    firms: list[Firm]
    experts: list[str]
    agents: list[str]
    tenderers: list[str]
    parks: list[list[str]] = field(default_factory=list)
    consortiums: list[tuple[str, str]] = field(default_factory=list)
    #: Bid agencies, the first the popular one.
    bid_agencies: list[str] = field(default_factory=list)
    #: Indices of firms in no park and no consortium (rings are recruited from these, so a
    #: look-alike never doubles as a ring).
    free: list[int] = field(default_factory=list)

    def by_id(self) -> dict[str, Firm]:
        return {f.firm_id: f for f in self.firms}


def _hex(rng: np.random.Generator, n: int) -> str:
    return "".join(f"{int(x):x}" for x in rng.integers(0, 16, size=n))


def _mac(rng: np.random.Generator) -> str:
    return ":".join(f"{int(x):02X}" for x in rng.integers(0, 256, size=6))


def _ip(rng: np.random.Generator) -> str:
    a, b, c = (int(x) for x in rng.integers(1, 255, size=3))
    return f"{36 + a % 180}.{b}.{c}.{int(rng.integers(1, 255))}"


def build_parties(spec: MarketSpec, rng: np.random.Generator) -> MarketParties:
    fake = Faker("zh_CN")
    fake.seed_instance(int(rng.integers(0, 2**31 - 1)))
    cats = tuple(sorted(spec.category_mix))
    popular_vendor = "GLD"
    firms: list[Firm] = []
    names: set[str] = set()
    for i in range(spec.firms):
        name = fake.company()
        while name in names:
            name = fake.company()
        names.add(name)
        k = int(rng.integers(1, len(cats) + 1))
        mine = tuple(sorted(str(c) for c in rng.choice(cats, size=k, replace=False)))
        vendor = popular_vendor if rng.random() < spec.lookalikes.popular_vendor_share else "SW"
        firms.append(
            Firm(
                firm_id=f"F{i + 1:04d}",
                name=name,
                region=str(spec.regions[int(rng.integers(0, len(spec.regions)))]),
                categories=mine,
                capacity=float(spec.control_price_median * np.exp(rng.normal(1.0, 1.0))),
                efficiency=float(rng.normal(0.0, 0.02)),
                quality=float(rng.normal(80.0, 3.0)),
                ip=_ip(rng),
                mac=_mac(rng),
                cpu_serial=f"BFEBFBFF{_hex(rng, 8).upper()}",
                disk_serial=f"WD-{_hex(rng, 12).upper()}",
                ca_serial=_hex(rng, 16),
                dongle_serial=f"{vendor}-{int(rng.integers(10**7, 10**8))}",
                author=f"{fake.name()}#{int(rng.integers(1000, 10000))}",
                bond_account=f"62{int(rng.integers(10**15, 10**16))}",
                project_managers=tuple(
                    f"建{int(rng.integers(10**9, 10**10))}" for _ in range(int(rng.integers(1, 4)))
                ),
            )
        )
    # Business parks: firms that share one public IP (look-alike for same-IP rules).
    parks: list[list[str]] = []
    pool = list(range(spec.firms))
    order = [int(x) for x in rng.permutation(pool)]
    cursor = 0
    for p in range(spec.lookalikes.business_parks):
        members = order[cursor : cursor + spec.lookalikes.firms_per_park]
        cursor += len(members)
        park_ip = _ip(rng)
        for j in members:
            firms[j].ip = park_ip
            firms[j].park = p
        parks.append([firms[j].firm_id for j in members])
    consortiums: list[tuple[str, str]] = []
    for c in range(spec.lookalikes.consortiums):
        a, b = order[cursor], order[cursor + 1]
        cursor += 2
        cid = f"C{c + 1:03d}"
        firms[a].consortium = firms[b].consortium = cid
        consortiums.append((firms[a].firm_id, firms[b].firm_id))
    agencies = _assign_agencies(firms, spec, rng)
    return MarketParties(
        firms=firms,
        experts=[f"E{i + 1:04d}" for i in range(spec.experts)],
        agents=[f"A{i + 1:03d}" for i in range(spec.agents)],
        tenderers=[f"T{i + 1:03d}" for i in range(max(10, spec.tenders // 10))],
        parks=parks,
        consortiums=consortiums,
        bid_agencies=agencies,
        free=sorted(order[cursor:]),
    )


def _assign_agencies(firms: list[Firm], spec: MarketSpec, rng: np.random.Generator) -> list[str]:
    """Bid agencies and their clients: the first agency takes half the clients, the rest share.

    Drawn after everything else so that the agencies do not reshuffle the firms."""
    k = spec.lookalikes.bid_agencies
    agencies = [f"BA{j + 1:02d}" for j in range(k)]
    weights = np.asarray([0.5] + [0.5 / (k - 1)] * (k - 1)) if k > 1 else np.ones(1)
    for firm in firms:
        if rng.random() < spec.lookalikes.bid_agency_share:
            firm.bid_agency = agencies[int(rng.choice(k, p=weights))]
    return agencies
