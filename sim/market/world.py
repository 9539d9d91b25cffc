"""A bidding-market run: parties, rings, the tender plan, the stream and its ground truth.

``simulate_market`` is to a market scenario what :func:`sim.hall.world.simulate` is to a hall
scenario, and returns the same :class:`sim.hall.world.SimResult`, so the pipeline and reports
handle both alike. One seeded generator is split into independent streams for the
parties, the rings and the market, so adding a ring does not reshuffle the honest firms.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from engine.contract.events import Event
from sim.common.result import SimResult
from sim.market.firms import MarketParties, build_parties
from sim.market.rings import Ring
from sim.market.scenario import MarketScenario
from sim.market.tenders import TenderRecord, run_market
from sim.market.truth import market_truth

__all__ = ["build_rings", "simulate_market"]


def build_rings(scenario: MarketScenario, parties: MarketParties, rng: np.random.Generator) -> list[Ring]:
    """Recruit each ring from firms in no park and no consortium; experts and agents too."""
    free = [parties.firms[i].firm_id for i in parties.free]
    order = [free[int(j)] for j in rng.permutation(len(free))]
    experts = [parties.experts[int(j)] for j in rng.permutation(len(parties.experts))]
    agents = list(parties.agents)
    rings: list[Ring] = []
    for spec in scenario.market.rings:
        if spec.strategy in ("agent", "expert"):
            ring = Ring(spec, [order.pop(0)])
            if spec.strategy == "expert":
                ring.experts = [experts.pop(0) for _ in range(spec.members)]
            else:
                ring.agent = agents[len(rings) % len(agents)]
        else:
            ring = Ring(spec, [order.pop(0) for _ in range(spec.members)])
        if "bid_agent" in spec.shared_traces:
            ring.handler = f"P{int(rng.integers(10**6, 10**7))}"
        for m in ring.members:  # members can do every category they rig
            firm = next(f for f in parties.firms if f.firm_id == m)
            firm.categories = tuple(sorted({*firm.categories, *spec.categories}))
        rings.append(ring)
    return rings


def _plan(rings: list[Ring], n_tenders: int, rng: np.random.Generator) -> dict[int, Ring]:
    plan: dict[int, Ring] = {}
    free = [int(i) for i in rng.permutation(n_tenders)]
    for ring in rings:
        take, free = free[: ring.spec.tenders], free[ring.spec.tenders :]
        for i in take:
            plan[i] = ring
    return plan


def _working_days(scenario: MarketScenario) -> list[datetime]:
    cal = scenario.build_calendar()
    start, _ = scenario.horizon()
    out = []
    for k in range(scenario.days):
        day = start + timedelta(days=k)
        if cal.is_working_day(day.date()):
            out.append(day)
    return out


def _stats(records: list[TenderRecord], events: list[Event]) -> dict[str, int | float]:
    ratios = np.asarray(
        [
            r.award / r.control_price
            for r in records
            if r.ring is None and r.category not in ("land", "property")
        ]
    )
    below = 1 - ratios if ratios.size else np.zeros(1)
    return {
        "tenders": len(records),
        "events": len(events),
        "bids": sum(len(r.bidders) for r in records),
        "rigged_tenders": sum(r.ring is not None for r in records),
        "competitive_award_below_control_mean": round(float(below.mean()), 6),
        "competitive_award_below_control_p95": round(float(np.percentile(below, 95)), 6),
        "competitive_award_beyond_24pct_share": round(float((below > 0.24).mean()), 6),
    }


def simulate_market(scenario: MarketScenario, *, seed: int | None = None) -> SimResult:
    rng = np.random.default_rng(scenario.seed if seed is None else seed)
    r_parties, r_rings, r_plan, r_market = rng.spawn(4)
    (r_marks,) = rng.spawn(1)  # spawned after the others so that they are unchanged
    (r_round,) = rng.spawn(1)  # likewise: price granularity changes the written prices only
    parties = build_parties(scenario.market, r_parties)
    rings = build_rings(scenario, parties, r_rings)
    plan = _plan(rings, scenario.market.tenders, r_plan)
    days = _working_days(scenario)
    events, records = run_market(scenario.market, parties, rings, plan, days, r_market, r_marks, r_round)
    events.sort(key=lambda e: (e.ts, e.event_id))
    start, end = scenario.horizon()
    truth = market_truth(records, rings, parties)
    return SimResult(
        events=events,
        truth=truth,
        start=start,
        end=max(end, events[-1].ts + timedelta(seconds=1)) if events else end,
        calendar=scenario.build_calendar(),
        stats=_stats(records, events),
        staff_names={f.firm_id: f.name for f in parties.firms},
    )
