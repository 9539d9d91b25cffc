"""Ground truth of a bidding market: rigged tenders, ring members, corrupt parties, look-alikes.

Every rigged tender is one ``collusive_tender`` episode naming its ring, strategy and the
trace fields each member copied from the leader (``leaks``: ``firm:field+field;...``), so
the evaluator can tell which trace rule *should* fire where. Every ring member is a
``ring_member`` episode; bribed experts and colluding agents are ``corrupt_expert`` /
``corrupt_agent``. Look-alike negatives (``lookalike=True``) name the honest situations a
rule must not confuse with collusion: firms of one business park behind one IP, a
consortium bid, two honest bids that happen to be very close, a bidder served by the county's
popular bid agency (which serves other firms in other tenders), a bid file carrying a
consortium partner's seal or a manufacturer's authorisation, and — with price granularity —
honest bids that rounding alone made identical (``tied_bids``) or equally spaced over four or
more bids (``regular_rounded_bids``).
"""

from __future__ import annotations

from sim.common.truth import Episode, Params
from sim.market.firms import MarketParties
from sim.market.rings import Ring
from sim.market.tenders import TenderRecord

__all__ = ["MARKET_LOOKALIKE_KINDS", "MARKET_VIOLATION_KINDS", "market_truth"]

MARKET_VIOLATION_KINDS = ("collusive_tender", "ring_member", "corrupt_expert", "corrupt_agent")
MARKET_LOOKALIKE_KINDS = (
    "shared_ip_park",
    "consortium_bid",
    "close_honest_bids",
    "popular_bid_agency",
    "foreign_document_mark",
    "tied_bids",
    "regular_rounded_bids",
)


def _leaks(rec: TenderRecord) -> str:
    return ";".join(f"{f}:{'+'.join(v)}" for f, v in sorted(rec.leaks.items()))


def market_truth(records: list[TenderRecord], rings: list[Ring], parties: MarketParties) -> list[Episode]:
    out: list[Episode] = []
    first: dict[str, TenderRecord] = {}
    for rec in records:
        ring = rec.ring
        subject = f"tender:{rec.tender_id}"
        if ring is not None:
            first.setdefault(ring.name, rec)
            out.append(
                Episode(
                    episode_id=f"collusion:{rec.tender_id}",
                    kind="collusive_tender",
                    subject=subject,
                    onset=rec.opened,
                    params={
                        "ring": ring.name,
                        "strategy": ring.strategy,
                        "leader": ring.members[0],
                        "members": ",".join(m for m in ring.members if m in rec.bidders),
                        "leaks": _leaks(rec),
                        "price_noise": ring.spec.camouflage.price_noise,
                        "separate_machines": ring.spec.camouflage.separate_machines,
                        "irregular": ring.spec.camouflage.irregular,
                        "winner": rec.winner,
                        "n_bids": len(rec.bidders),
                    },
                )
            )
            continue
        looks: list[tuple[str, str]] = []
        if rec.park_pairs:
            looks.append(("shared_ip_park", "collusion.same_ip"))
        if rec.consortium is not None:
            looks.append(("consortium_bid", "collusion.art40"))
        if rec.close_lookalike:
            looks.append(("close_honest_bids", "collusion.agent_pairing"))
        if rec.popular_agency_bids:
            looks.append(("popular_bid_agency", "collusion.art40"))
        if rec.foreign_marks:
            looks.append(("foreign_document_mark", "collusion.art40"))
        if rec.tie_lookalike:
            looks.append(("tied_bids", "collusion.price_pattern"))
        if rec.regular_lookalike:
            looks.append(("regular_rounded_bids", "collusion.price_pattern"))
        for kind, confuses in looks:
            out.append(
                Episode(
                    episode_id=f"{kind}:{rec.tender_id}",
                    kind=kind,
                    subject=subject,
                    onset=rec.opened,
                    lookalike=True,
                    confuses=("collusive_tender", confuses),
                    cause="lookalike",
                    params={"n_bids": len(rec.bidders)},
                )
            )
    for ring in rings:
        rec0 = first.get(ring.name)
        if rec0 is None:
            continue
        base: Params = {"ring": ring.name, "strategy": ring.strategy}
        for k, m in enumerate(ring.members):
            role = "leader" if k == 0 else "member"
            out.append(
                Episode(
                    episode_id=f"ring:{ring.name}:{m}",
                    kind="ring_member",
                    subject=f"bidder:{m}",
                    onset=rec0.opened,
                    params={**base, "role": role},
                )
            )
        for e in ring.experts:
            out.append(
                Episode(
                    episode_id=f"ring:{ring.name}:{e}",
                    kind="corrupt_expert",
                    subject=f"expert:{e}",
                    onset=rec0.opened,
                    params=base,
                )
            )
        if ring.agent is not None:
            out.append(
                Episode(
                    episode_id=f"ring:{ring.name}:{ring.agent}",
                    kind="corrupt_agent",
                    subject=f"agent:{ring.agent}",
                    onset=rec0.opened,
                    params=base,
                )
            )
    return sorted(out, key=lambda ep: (ep.onset, ep.episode_id))
