"""Ring recovery across tenders: who is repeatedly suspicious *together*.

Why pairs, ratios and components rather than modularity: a ring is a small set of firms
that keep appearing together in suspicious tenders, while honest firms of a county market
co-bid with everyone. Two firms are linked when

* a deemed-collusion trace alert names both in the same tender (a shared machine, author,
  bond account... is direct evidence), or
* they co-bid in at least ``ring_min_shared`` flagged tenders (any tender-level collusion
  alert) *and* at least ``ring_min_ratio`` of all tenders in which they co-bid were
  flagged — the ratio is what keeps a busy honest firm out of the ring it happens to
  meet often.

* (prices only) their bids formed a regular stretch together (``collusion.price_pattern``'s
  run) often enough that chance cannot explain it: the run's p-value of every tender they
  co-bid in (1 where they were not in a run together) is combined by Fisher's method, and
  the pair is linked when the combined p-value is below ``ring_pattern_alpha`` divided by
  the number of pairs that co-bid ``ring_min_shared`` times or more (Bonferroni: the chance
  of *any* false pattern link in the market is at most ``ring_pattern_alpha``). On rounded
  bids one tender's progression of four bids is rarely significant (the rule needs p below
  0.001), but a ring that prices by formula does it in every tender it rigs.

Rings are the connected components (size ≥ 2) of that graph; the computation is a pure
function (:func:`recover_rings`) so that the streaming rule, the tests and the reports
agree. Components are deterministic (no random seeds, unlike Louvain) and need no
dependency beyond the standard library.

The ring alert lists the ring's tenders: those where an alert named two or more members, and
those where three or more members (all, in a ring of two) were in one price run
(``pattern_tenders``) — the tenders a
ring found by repeated patterns rigged, though none of them alone was significant.

Rotation evidence: for each ring, the wins of its members in the tenders where they were
flagged together; an even share of wins (normalised entropy near 1) among several winners
is the signature of bid rotation.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from itertools import combinations
from typing import Annotated, Any

from msgspec import Meta

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.rules.collusion.screens import PricePatternRule
from engine.rules.collusion.tenders import TenderState
from engine.rules.collusion.traces import TenderRule
from engine.rules.registry import register

__all__ = ["RingRule", "chi2_sf_even", "evenness", "fisher_links", "recover_rings"]

RingMinShared = Annotated[
    int,
    Meta(
        ge=1,
        description=(
            "Ring recovery: two firms are linked when flagged together in at least 3 tenders (2 "
            "merges rings through honest outsiders who met two rings twice; measured in "
            "docs/bidding.md) ..."
        ),
    ),
]
RingMinRatio = Annotated[
    float,
    Meta(
        ge=0,
        le=1,
        description=("... and in at least half of the tenders in which they co-bid (or by a shared trace)."),
    ),
]

RingPatternAlpha = Annotated[
    float,
    Meta(
        gt=0,
        le=1,
        description=(
            "... or by price patterns repeated across tenders: Fisher's combination of the pair's "
            "per-tender pattern p-values below 0.01 / (pairs that co-bid at least ring_min_shared "
            "times) — the chance of any false pattern link in the market is at most 1 %."
        ),
    ),
]

TENDER_RULES = (
    "collusion.art40",
    "collusion.fujian",
    "collusion.daqing",
    "collusion.price_pattern",
    "collusion.screens",
)
TRACE_RULES = ("collusion.art40", "collusion.fujian", "collusion.daqing")

Pair = tuple[str, str]


def _pairs(members: Iterable[str]) -> Iterable[Pair]:
    return combinations(sorted(set(members)), 2)


def recover_rings(
    co_bid: Mapping[Pair, int],
    co_flag: Mapping[Pair, int],
    trace_links: Iterable[Pair],
    *,
    min_shared: int,
    min_ratio: float,
) -> list[list[str]]:
    """Connected components of the link graph, each sorted, ordered by first member."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for a, b in trace_links:
        union(a, b)
    for pair, n in co_flag.items():
        if n >= min_shared and n >= min_ratio * max(co_bid.get(pair, n), 1):
            union(*pair)
    groups: dict[str, list[str]] = {}
    for x in parent:
        groups.setdefault(find(x), []).append(x)
    return sorted((sorted(g) for g in groups.values() if len(g) >= 2), key=lambda g: g[0])


def chi2_sf_even(x: float, dof: int) -> float:
    """Survival function of the chi-square distribution with an even ``dof`` (closed form).

    ``P(X > x) = exp(-x/2) Σ_{i<dof/2} (x/2)^i / i!`` — Fisher's statistic always has an even
    number of degrees of freedom, so the engine needs no scipy."""
    if dof <= 0 or dof % 2:
        raise ValueError(f"dof must be a positive even number, got {dof}")
    if x <= 0:
        return 1.0
    half = x / 2.0
    term = total = 1.0
    for i in range(1, dof // 2):
        term *= half / i
        total += term
    return min(1.0, math.exp(math.log(total) - half))


def fisher_links(
    co_bid: Mapping[Pair, int], fisher: Mapping[Pair, float], *, min_shared: int, alpha: float
) -> list[Pair]:
    """Pairs whose combined pattern p-value is below ``alpha`` over the pairs tested.

    ``fisher[pair]`` is −2 Σ ln p over the tenders where the pair was in a run together; the
    other co-bid tenders count with p = 1, so the statistic has 2 × co-bids degrees of freedom.
    Tested: pairs that co-bid at least ``min_shared`` times."""
    tested = [pair for pair, n in co_bid.items() if n >= min_shared]
    if not tested:
        return []
    bar = alpha / len(tested)
    return sorted(
        pair
        for pair in tested
        if fisher.get(pair, 0.0) > 0 and chi2_sf_even(fisher[pair], 2 * co_bid[pair]) < bar
    )


def evenness(wins: Mapping[str, int]) -> float:
    """Normalised entropy of the win counts (1 = perfectly even, 0 = one winner)."""
    counts = [c for c in wins.values() if c > 0]
    total = sum(counts)
    if len(counts) < 2:
        return 0.0
    h = -sum(c / total * math.log(c / total) for c in counts)
    return h / math.log(len(counts))


@register
class RingRule(TenderRule):
    """``collusion.ring``: one red alert per recovered ring at the end of the stream."""

    name = "collusion.ring"
    level = "red"
    section = "collusion"
    kinds = ("bids.opened", "tender.awarded")
    observes_alerts = True

    def __init__(
        self,
        *,
        ring_min_shared: RingMinShared = 3,
        ring_min_ratio: RingMinRatio = 0.5,
        ring_pattern_alpha: RingPatternAlpha = 0.01,
    ) -> None:
        self.ring_min_shared = ring_min_shared
        self.ring_min_ratio = ring_min_ratio
        self.ring_pattern_alpha = ring_pattern_alpha

    def reset(self) -> None:
        self.co_bid: Counter[Pair] = Counter()
        self.co_flag: Counter[Pair] = Counter()
        self.trace_links: set[Pair] = set()
        self._flagged: dict[str, set[str]] = {}  # tender → bidders named by its alerts
        self._winners: dict[str, str] = {}
        #: pair → −2 Σ ln p over the tenders where the pair was in a price run together.
        self.fisher: dict[Pair, float] = {}
        self._runs: dict[str, set[str]] = {}  # tender → bidders of its price run
        self._pattern: PricePatternRule | bool | None = False  # False: not looked up yet

    def _pattern_rule(self) -> PricePatternRule | None:
        if self._pattern is False:
            rules = getattr(self.ctx, "rules", ())
            self._pattern = next((r for r in rules if isinstance(r, PricePatternRule)), None)
        return self._pattern if isinstance(self._pattern, PricePatternRule) else None

    def check_tender(self, event: Any, tender: TenderState) -> None:
        if isinstance(event, ev.BidsOpened):
            for pair in _pairs(tender.bids):
                self.co_bid[pair] += 1
            pattern = self._pattern_rule()
            run = pattern.last_run if pattern is not None else None
            if run is not None and run[0] == tender.tender_id and run[1] < 1.0:
                self._runs[tender.tender_id] = set(run[2])
                for pair in _pairs(run[2]):
                    self.fisher[pair] = self.fisher.get(pair, 0.0) - 2.0 * math.log(run[1])
        elif tender.tender_id in self._flagged or tender.tender_id in self._runs:
            self._winners[tender.tender_id] = event.winner_id

    def alert_one(self, alert: Alert) -> None:
        if alert.rule not in TENDER_RULES:
            return
        tender = alert.evidence.get("tender_id")
        bidders = alert.evidence.get("bidders")
        if not isinstance(tender, str) or not isinstance(bidders, list):
            return
        named = self._flagged.setdefault(tender, set())
        new = set(bidders) - named
        for pair in _pairs(named | new):
            if pair[0] in new or pair[1] in new:
                self.co_flag[pair] += 1
        named |= new
        if alert.rule in TRACE_RULES:
            self.trace_links.update(_pairs(bidders))

    def rings(self) -> list[list[str]]:
        pattern_links = fisher_links(
            self.co_bid, self.fisher, min_shared=self.ring_min_shared, alpha=self.ring_pattern_alpha
        )
        return recover_rings(
            self.co_bid,
            self.co_flag,
            sorted(self.trace_links | set(pattern_links)),
            min_shared=self.ring_min_shared,
            min_ratio=self.ring_min_ratio,
        )

    def finish_one(self, when: datetime) -> None:
        for ring in self.rings():
            members = set(ring)
            flagged = {t for t, named in self._flagged.items() if len(named & members) >= 2}
            # Two members side by side in a run happen by chance when they bid as outsiders.
            need = min(3, len(members))
            runs = {t for t, run in self._runs.items() if len(run & members) >= need} - flagged
            tenders = sorted(flagged | runs)
            wins = Counter(self._winners[t] for t in tenders if self._winners.get(t) in members)
            self.emit_subject(
                f"ring:{ring[0]}",
                when,
                {
                    "members": ring,
                    "bidders": ring,
                    "tenders": tenders,
                    # Tenders no alert named where three or more members priced in one run.
                    "pattern_tenders": sorted(runs),
                    "wins": [f"{m}={wins.get(m, 0)}" for m in ring],
                    "rotation_evenness": round(evenness(wins), 6),
                },
            )
