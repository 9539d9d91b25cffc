"""The electronic traces recorded with each bid: a firm's own, or its ring leader's when careless.

Why the leader's values: a ring's bid files are typically prepared by one hand — the leader
or someone it hires — so what leaks into a member's bid is the leader's machine, author,
bond account, the person who handled the bid (``bid_agent``), or a document of the leader's
left in the member's file (``marks``, 实施条例 Art. 40 (五)). The leader's own bid carries
the values it hands out (its file-creation id, its first project manager, the ring's bid
handler), so that a careless member pairs with it.

Honest firms entrust their bids to a bid agency or handle them in-house; an agency serves one
bidder per tender (serving two is itself Art. 40 (二)), so :func:`honest_agents` lets a client
whose agency already serves a rival handle the bid itself. Honest foreign marks exist too: a
consortium bid carries its partner's seal, a procurement bid a manufacturer's authorisation —
neither names a rival bidder of the same tender.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from engine.contract import events as ev
from sim.market.firms import Firm

__all__ = ["MARK_DOCUMENTS", "bid_traces", "honest_agents", "leader_mark"]

#: Documents of a bid file in which another firm's identity can turn up.
MARK_DOCUMENTS = ("报价单", "资格证明", "技术方案", "授权委托书", "业绩证明")


def honest_agents(firms: Iterable[Firm]) -> dict[str, str | None]:
    """Firm id → the agency handling its bid in one tender (first come, first served, by id)."""
    taken: set[str] = set()
    out: dict[str, str | None] = {}
    for firm in sorted(firms, key=lambda f: f.firm_id):
        agency = firm.bid_agency
        if agency is not None and agency in taken:
            agency = None  # the agency declines a second bidder of the same tender
        if agency is not None:
            taken.add(agency)
        out[firm.firm_id] = agency
    return out


def leader_mark(leader: Firm, rng: np.random.Generator) -> ev.DocumentMark:
    """A page, seal or file of the leader left in a member's bid."""
    kind = ("name", "seal", "file")[int(rng.integers(0, 3))]
    doc = MARK_DOCUMENTS[int(rng.integers(0, len(MARK_DOCUMENTS)))]
    return ev.DocumentMark(kind=kind, party_id=leader.firm_id, document=doc)  # type: ignore[arg-type]


def bid_traces(
    firm: Firm,
    tid: str,
    rng: np.random.Generator,
    *,
    leader: Firm | None,
    leaks: Sequence[str],
    handler: str | None,
    agent: str | None,
    marks: Sequence[ev.DocumentMark] = (),
) -> ev.BidTraces:
    """The traces of ``firm``'s bid in tender ``tid``; ``leaks`` are fields copied from ``leader``.

    ``handler`` is the ring's bid handler (the leader's bid always carries it), ``agent`` the
    agency an honest choice gives the firm, ``marks`` the honest foreign marks of its file."""
    own: dict[str, object] = {
        "ip": firm.ip,
        "mac": firm.mac,
        "cpu_serial": firm.cpu_serial,
        "disk_serial": firm.disk_serial,
        "file_creation_id": f"{tid}-{firm.firm_id}-{int(rng.integers(10**8, 10**9))}",
        "ca_serial": firm.ca_serial,
        "dongle_serial": firm.dongle_serial,
        "author": firm.author,
        "bond_account": firm.bond_account,
        "project_manager": firm.project_managers[int(rng.integers(0, len(firm.project_managers)))],
        "bid_agent": agent,
        "marks": tuple(marks),
    }
    if leader is not None:
        shared: dict[str, object] = {
            **{k: getattr(leader, k) for k in ("ip", "mac", "cpu_serial", "disk_serial", "ca_serial")},
            "dongle_serial": leader.dongle_serial,
            "author": leader.author,
            "bond_account": leader.bond_account,
            "project_manager": leader.project_managers[0],
            "file_creation_id": f"{tid}-{leader.firm_id}-doc",
            "bid_agent": handler,
        }
        if firm.firm_id == leader.firm_id:  # the leader's own bid carries the values it leaks
            leaks = ["file_creation_id", "project_manager", *(["bid_agent"] if handler else [])]
        for f in leaks:
            if f == "marks":
                own["marks"] = (*own["marks"], leader_mark(leader, rng))  # type: ignore[misc]
            else:
                own[f] = shared[f]
    return ev.BidTraces(**own)  # type: ignore[arg-type]
