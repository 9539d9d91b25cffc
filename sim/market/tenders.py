"""The bidding market: tenders arriving over a year, competitive bids, rings, panels, awards.

Why a first-price sealed-bid model with private costs: that is how a construction tender
priced by lowest evaluated bid works, and it yields the dispersion real competitive
tenders show. Each firm's cost is the tender's cost level (``cost_ratio`` × control price
× a tender shock) times its own efficiency and a private draw; it bids cost × (1 +
markup), the markup shrinking with the number of competitors. Bids above the control
price are invalid, so nobody bids above it. Land and property auctions are ascending
(highest wins): bids are the reserve (control) price plus a premium.

Tenders are awarded by lowest price (``lowest``) or, for procurement, by a composite of
price (60 %) and the panel's mean technical score (40 %), which is what an expert ring
exploits. The output is the contract's event stream, in time order, and a
:class:`TenderRecord` per tender for the truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from engine.contract import events as ev
from sim.market.award import award, draw_method
from sim.market.firms import Firm, MarketParties
from sim.market.granularity import Quote, draw_quote, regular_run, snap, tied
from sim.market.rings import Ring, cover_prices, leaked_fields
from sim.market.scenario import MarketSpec
from sim.market.traces import bid_traces, honest_agents

__all__ = ["TenderRecord", "run_market"]

ASCENDING = ("land", "property")


@dataclass(slots=True)
class TenderRecord:
    tender_id: str
    category: str
    control_price: float
    agent_id: str
    method: str
    opened: datetime
    ring: Ring | None = None
    bidders: list[str] = field(default_factory=list)
    #: firm → trace fields it copied from the leader.
    leaks: dict[str, list[str]] = field(default_factory=dict)
    winner: str = ""
    award: float = 0.0
    close_lookalike: bool = False
    park_pairs: int = 0
    consortium: str | None = None
    #: Bids handled by the county's popular bid agency (a look-alike for Art. 40 (二)).
    popular_agency_bids: int = 0
    #: Honest foreign marks (consortium partner, manufacturer) in the bid files.
    foreign_marks: int = 0
    #: Bids rejected as abnormally low (under cost) at the evaluation.
    rejected: set[str] = field(default_factory=set)
    #: The lattice the bids were written on (:mod:`sim.market.granularity`).
    quote: Quote = field(default_factory=lambda: Quote("cent", 0.01))
    #: Honest tenders where rounding alone made two bids identical, or made four or more
    #: consecutive bids equally spaced (look-alikes of a price pattern).
    tie_lookalike: bool = False
    regular_lookalike: bool = False


def _ts(day: datetime, rng: np.random.Generator) -> datetime:
    return day + timedelta(hours=9, minutes=int(rng.integers(0, 480)))


def _competitive(
    spec: MarketSpec, firms: list[Firm], n: int, price: float, asc: bool, rng: np.random.Generator
) -> list[float | None]:
    shock = float(rng.normal(0.0, spec.tender_sigma))
    if asc:
        prem = np.exp(shock + 0.12 + rng.normal(0.0, spec.cost_sigma, size=len(firms)))
        return [float(price * p) for p in prem]  # ascending auction: any bid above the reserve
    base = spec.markup_base + spec.markup_scale / max(n - 1, 1)
    # Firms near their capacity still bid (to stay on the tenderer's list) but price in a
    # premium: the high tail real competitive tenders show.
    busy = rng.random(len(firms)) < spec.busy_share
    markup = base + busy * rng.uniform(0.04, 0.15, size=len(firms))
    eff = np.asarray([f.efficiency for f in firms])
    cost = price * spec.cost_ratio * np.exp(shock + eff + rng.normal(0.0, spec.cost_sigma, size=len(firms)))
    bids = cost * (1 + markup)
    # A firm that cannot price under the control price does not bid (a bid above it is
    # invalid); if that would leave fewer than three bids, the cheapest bid at the ceiling.
    ceiling = price * rng.uniform(0.990, 0.999, size=bids.size)
    keep = bids <= ceiling
    if keep.sum() < min(3, bids.size):
        keep[np.argsort(bids)[: min(3, bids.size)]] = True
    return [float(min(b, c)) if k else None for b, c, k in zip(bids, ceiling, keep, strict=True)]


def _write_down(
    prices: dict[str, float],
    spec: MarketSpec,
    control: float,
    asc: bool,
    ring: Ring | None,
    ring_members: set[str],
    rec: TenderRecord,
    rng: np.random.Generator,
) -> Quote:
    """Put every bid of one tender on the tender's lattice (in place); returns the lattice.

    Bidders round to the nearest point, a share of them to a coarser "nice" unit — cover
    bidders too (a cover price is written like any other), but not the members of a ring
    pricing by formula, nor the favoured firm of an agent ring, which, told the lowest rival
    bid, writes one unit under it. A rounded bid never goes
    above the control price of a descending tender."""
    assert spec.granularity is not None
    quote = draw_quote(spec.granularity, control, asc, rng)
    ceiling = None if asc else control
    fav = ring.members[0] if ring is not None and ring.strategy == "agent" else None
    for firm_id in sorted(prices):
        nice = float(rng.random()) < spec.granularity.nice_share
        formula = ring is not None and ring.strategy == "pattern" and firm_id in ring_members
        nice = nice and not formula and firm_id != fav
        prices[firm_id] = snap(prices[firm_id], quote, nice=nice, ceiling=ceiling)
    if fav is not None and fav in prices:
        rivals = [p for f, p in prices.items() if f != fav]
        if rivals and prices[fav] >= min(rivals):
            prices[fav] = round(min(rivals) - quote.unit, 2)
    if ring is None and not asc:
        values = list(prices.values())
        rec.tie_lookalike = tied(values)
        rec.regular_lookalike = regular_run(values, quote.unit)
    return quote


def run_market(
    spec: MarketSpec,
    parties: MarketParties,
    rings: list[Ring],
    plan: dict[int, Ring],
    days: list[datetime],
    rng: np.random.Generator,
    marks_rng: np.random.Generator | None = None,
    round_rng: np.random.Generator | None = None,
) -> tuple[list[ev.Event], list[TenderRecord]]:
    """Simulate ``spec.tenders`` tenders on working ``days``; ``plan`` maps index → rigging ring.

    ``marks_rng`` draws the honest foreign marks (a stream of its own, so that adding them
    does not reshuffle the prices); by default it is ``rng``. ``round_rng`` draws the price
    granularity (``spec.granularity``; nothing is drawn when it is ``None``)."""
    mrng = rng if marks_rng is None else marks_rng
    rrng = rng if round_rng is None else round_rng
    firms = parties.firms
    by_id = parties.by_id()
    cats = sorted(spec.category_mix)
    weights = np.asarray([spec.category_mix[c] for c in cats], dtype=np.float64)
    starts = sorted(int(x) for x in rng.integers(0, max(len(days) - 12, 1), size=spec.tenders))
    close_idx = {
        int(i)
        for i in rng.choice(spec.tenders, size=min(spec.lookalikes.close_bids, spec.tenders), replace=False)
    }
    events: list[ev.Event] = []
    records: list[TenderRecord] = []
    for i, d0 in enumerate(starts):
        ring = plan.get(i)
        tid = f"ZB{i + 1:05d}"
        category = str(rng.choice(cats, p=weights / weights.sum()))
        if ring is not None and category not in ring.spec.categories:
            category = ring.spec.categories[int(rng.integers(0, len(ring.spec.categories)))]
        asc = category in ASCENDING
        price = float(spec.control_price_median * np.exp(rng.normal(0.0, spec.control_price_sigma)))
        price = round(price, -3)
        agent = parties.agents[int(rng.integers(0, len(parties.agents)))]
        if ring is not None and ring.agent is not None:
            agent = ring.agent
        strategy = ring.strategy if ring is not None else None
        method = draw_method(spec, category, strategy, mrng)
        factor = float(spec.benchmark_factors[int(mrng.integers(0, len(spec.benchmark_factors)))])
        published = _ts(days[d0], rng)
        opened = days[min(d0 + int(rng.integers(8, 12)), len(days) - 1)] + timedelta(hours=9, minutes=30)
        rec = TenderRecord(tid, category, price, agent, method, opened, ring=ring)
        events.append(
            ev.TenderPublished(
                event_id=f"{tid}:pub",
                ts=published,
                tender_id=tid,
                category=category,  # type: ignore[arg-type]
                control_price=price,
                tenderer_id=parties.tenderers[int(rng.integers(0, len(parties.tenderers)))],
                agent_id=agent,
                region=firms[0].region,
                bid_deadline=opened,
            )
        )
        eligible = [f for f in firms if category in f.categories and f.consortium is None]
        n = int(rng.integers(spec.bidders_min, spec.bidders_max + 1))
        picks = [
            eligible[int(j)] for j in rng.choice(len(eligible), size=min(n, len(eligible)), replace=False)
        ]
        ring_members = set(ring.members) if ring is not None and ring.is_firm_ring else set()
        honest = [f for f in picks if f.firm_id not in ring_members]
        if ring_members:
            honest = [f for f in honest if rng.random() < ring.spec.outsiders]  # type: ignore[union-attr]
        offers = _competitive(spec, honest, len(honest) + len(ring_members), price, asc, rng)
        prices: dict[str, float] = {
            f.firm_id: p for f, p in zip(honest, offers, strict=True) if p is not None
        }
        if ring is not None and ring.is_firm_ring:
            winner = ring.next_winner()
            w_price = price * float(rng.uniform(0.86, 0.92))
            covers = [m for m in ring.members if m != winner]
            prices[winner] = w_price
            for m, p in zip(covers, cover_prices(ring, w_price, len(covers), price, rng), strict=True):
                prices[m] = p
        elif ring is not None and ring.strategy in ("agent", "expert"):
            fav = ring.members[0]
            others = [p for f, p in prices.items() if f != fav]
            if ring.strategy == "agent" and others:
                prices[fav] = min(others) * (1 - float(rng.uniform(0.0005, 0.004)))
            else:
                prices[fav] = price * float(rng.uniform(0.90, 0.95))
        if i in close_idx and ring is None and len(prices) >= 2 and not asc:
            lo = sorted(prices, key=lambda f: (prices[f], f))
            prices[lo[1]] = prices[lo[0]] * (1 + float(rng.uniform(0.0003, 0.002)))
            rec.close_lookalike = True
        if ring is None and parties.consortiums and rng.random() < 0.1 and not asc:
            a, _ = parties.consortiums[int(rng.integers(0, len(parties.consortiums)))]
            cid = by_id[a].consortium or ""
            offer = _competitive(spec, [by_id[a]], len(prices) + 1, price, asc, rng)[0]
            if offer is not None:
                prices[cid] = offer
                rec.consortium = cid
        if spec.granularity is not None:
            rec.quote = _write_down(prices, spec, price, asc, ring, ring_members, rec, rrng)
        leader = by_id[ring.members[0]] if ring is not None and ring.is_firm_ring else None
        handler = ring.handler if leader is not None and ring is not None else None
        lead_of = {c: a for a, _ in parties.consortiums for c in [by_id[a].consortium]}
        partner = {by_id[a].consortium: b for a, b in parties.consortiums}
        firm_of = {f: by_id[f] if f in by_id else by_id[lead_of[f]] for f in prices}
        agents = honest_agents(firm_of[f] for f in sorted(prices))
        popular = parties.bid_agencies[0] if parties.bid_agencies else None
        bid_events = []
        for firm_id in sorted(prices):
            firm = firm_of[firm_id]
            marks: list[ev.DocumentMark] = []
            if firm_id in partner:  # a consortium bid carries its partner's seal
                marks.append(
                    ev.DocumentMark(kind="seal", party_id=partner[firm_id] or "", document="联合体协议")
                )
            if category == "procurement" and mrng.random() < spec.lookalikes.supplier_marks:
                outside = [f.firm_id for f in firms if f.firm_id not in prices]
                maker = outside[int(mrng.integers(0, len(outside)))]
                marks.append(ev.DocumentMark(kind="name", party_id=maker, document="厂家授权书"))
            rec.foreign_marks += len(marks)
            leaks = (
                leaked_fields(ring, rng)
                if ring is not None and firm_id in ring_members and firm_id != ring.members[0]
                else []
            )
            if leaks:
                rec.leaks[firm_id] = leaks
            bid_agent = agents[firm.firm_id]
            if bid_agent is not None and bid_agent == popular and "bid_agent" not in leaks:
                rec.popular_agency_bids += 1
            ts = opened - timedelta(hours=float(rng.uniform(2, 24 * 6)))
            bid_events.append(
                ev.BidSubmitted(
                    event_id=f"{tid}:bid:{firm_id}",
                    ts=ts,
                    tender_id=tid,
                    bidder_id=firm_id,
                    price=round(prices[firm_id], 2),
                    traces=bid_traces(
                        firm,
                        tid,
                        rng,
                        leader=leader,
                        leaks=leaks,
                        handler=handler,
                        agent=bid_agent,
                        marks=marks,
                    ),
                )
            )
        events.extend(bid_events)
        rec.bidders = sorted(prices)
        parks = [by_id[f].park for f in rec.bidders if f in by_id and by_id[f].park is not None]
        rec.park_pairs = len(parks) - len(set(parks))
        events.append(ev.BidsOpened(event_id=f"{tid}:open", ts=opened, tender_id=tid, n_bids=len(prices)))
        # Expert panel and scores.
        panel = [
            parties.experts[int(j)]
            for j in rng.choice(len(parties.experts), size=spec.panel_size, replace=False)
        ]
        if ring is not None and ring.strategy == "expert":
            panel = [*ring.experts, *[e for e in panel if e not in ring.experts]][: spec.panel_size]
        tech: dict[str, float] = {}
        for k, expert in enumerate(panel):
            for firm_id in rec.bidders:
                q = by_id[firm_id].quality if firm_id in by_id else 82.0
                s = float(np.clip(rng.normal(q, 3.0), 0, 100))
                if ring is not None and ring.strategy == "expert" and expert in ring.experts:
                    s = (
                        float(rng.uniform(96, 100))
                        if firm_id == ring.members[0]
                        else float(rng.uniform(45, 54))
                    )
                tech[firm_id] = tech.get(firm_id, 0.0) + s / len(panel)
                events.append(
                    ev.ExpertScored(
                        event_id=f"{tid}:score:{expert}:{firm_id}",
                        ts=opened + timedelta(hours=1, minutes=k),
                        tender_id=tid,
                        expert_id=expert,
                        bidder_id=firm_id,
                        score=round(s, 1),
                    )
                )
        winner, rec.rejected = award(prices, method, spec, factor=factor, tech=tech)
        rec.winner, rec.award = winner, round(prices[winner], 2)
        events.append(
            ev.TenderAwarded(
                event_id=f"{tid}:award",
                ts=opened + timedelta(days=1),
                tender_id=tid,
                winner_id=winner,
                price=rec.award,
            )
        )
        records.append(rec)
    return events, records
