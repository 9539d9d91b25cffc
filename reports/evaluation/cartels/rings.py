"""Ring recovery on real bids, measured against the files' cartel membership.

Why a different evidence from the engine's: real files carry no electronic traces, only who
bid what. A cartel that steers an average-bid auction (Turin) or covers a designated winner
places its members' bids *near one another*; honest bidders land wherever their costs put
them. So the evidence for a pair of firms is how close their bids sit, within each tender,
among all pairs of that tender: ``u`` = the rank of the pair's distance among the tender's
pairwise distances, scaled to (0, 1). Under "no coordination" ``u`` is uniform, so over the
``n`` flagged tenders the pair co-bid in, ``S = Σ u`` follows the Irwin–Hall law and a small
``S`` is evidence of coordination (exact for ``n ≤ 30``, normal beyond).

Recovery that prefers no ring to a wrong ring — the stated bar:

* only tenders a screen model flags count (out-of-fold probability ≥ 0.5: a regulator would
  not look for rings among tenders it believes competitive), and a pair is tested when it
  co-bid in at least ``min_shared`` of them;
* a pair is linked when its p-value is below ``alpha`` divided by the number of pairs tested
  (Bonferroni: the chance that *any* link in the market is false, were nobody coordinating,
  is at most ``alpha``);
* a firm stays in a ring only when linked to at least ``core`` of its members (the ``core``-
  core of the link graph): one chance link does not bring a firm in, nor merge two rings;
* rings are the connected components of what remains.

Measured (:func:`ring_scores`): firm-level precision and recall of "in a recovered ring"
against the file's membership (``Cartel_name`` in the Italian file, which marks membership of
*some* cartel, not which one; ``Collusive_competitor_original`` in the Brazilian one), and the
adjusted Rand index with the members as one cluster and every other firm alone.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from reports.evaluation.cartels.data import TenderBids
from reports.evaluation.collusion import adjusted_rand_index

__all__ = ["irwin_hall_cdf", "k_core", "proximity_links", "recover_cartels", "ring_scores"]

Pair = tuple[str, str]


def irwin_hall_cdf(s: float, n: int) -> float:
    """P(U1 + … + Un ≤ s) for independent uniforms (exact for n ≤ 30, normal beyond)."""
    if s <= 0:
        return 0.0
    if s >= n:
        return 1.0
    if n > 30:
        z = (s - n / 2) / math.sqrt(n / 12)
        return 0.5 * math.erfc(-z / math.sqrt(2))
    total = sum((-1) ** k * math.comb(n, k) * (s - k) ** n for k in range(math.floor(s) + 1))
    return min(1.0, max(0.0, total / math.factorial(n)))


def _tender_u(firms: list[str], bids: list[float]) -> Iterable[tuple[Pair, float]]:
    """Each pair of distinct firms of one tender with its distance rank scaled to (0, 1)."""
    b = np.asarray(bids, dtype=np.float64)
    n = b.size
    if n < 3:
        return []
    i, j = np.triu_indices(n, 1)
    d = np.abs(b[i] - b[j])
    order = np.argsort(d, kind="stable")
    ranks = np.empty(d.size)
    ranks[order] = np.arange(1, d.size + 1)
    # average ranks of tied distances
    _, inv, counts = np.unique(d, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=ranks)
    u = (sums[inv] / counts[inv] - 0.5) / d.size
    out = []
    for a, c, uu in zip(i.tolist(), j.tolist(), u.tolist(), strict=True):
        fa, fc = firms[a], firms[c]
        if fa != fc:
            out.append(((fa, fc) if fa < fc else (fc, fa), uu))
    return out


def proximity_links(
    data: Mapping[str, TenderBids], flagged: set[str], *, min_shared: int = 3, alpha: float = 0.01
) -> tuple[list[tuple[Pair, float]], int]:
    """``([(pair, p-value) linked], pairs tested)`` over the flagged tenders."""
    s: dict[Pair, float] = defaultdict(float)
    n: dict[Pair, int] = defaultdict(int)
    for t in sorted(flagged):
        tb = data.get(t)
        if tb is None or len(tb.firms) != len(tb.bids):
            continue
        seen: set[Pair] = set()
        for pair, u in _tender_u(tb.firms, tb.bids):
            if pair in seen:  # a firm with two rows: count the pair once per tender
                continue
            seen.add(pair)
            s[pair] += u
            n[pair] += 1
    tested = [p for p, k in n.items() if k >= min_shared]
    if not tested:
        return [], 0
    bar = alpha / len(tested)
    links = []
    for p in sorted(tested):
        pv = irwin_hall_cdf(s[p], n[p])
        if pv < bar:
            links.append((p, pv))
    return links, len(tested)


def k_core(links: Iterable[Pair], k: int) -> list[Pair]:
    """The links among firms that keep at least ``k`` links once weaker firms are removed."""
    adj: dict[str, set[str]] = defaultdict(set)
    for a, b in links:
        adj[a].add(b)
        adj[b].add(a)
    changed = True
    while changed:
        changed = False
        for x in sorted(adj):
            if x in adj and len(adj[x]) < k:
                for y in adj.pop(x):
                    adj[y].discard(x)
                changed = True
    return sorted((a, b) for a in adj for b in adj[a] if a < b)


def _components(links: Iterable[Pair]) -> list[list[str]]:
    adj: dict[str, set[str]] = defaultdict(set)
    for a, b in links:
        adj[a].add(b)
        adj[b].add(a)
    seen: set[str] = set()
    out = []
    for x in sorted(adj):
        if x in seen:
            continue
        stack, comp = [x], []
        seen.add(x)
        while stack:
            y = stack.pop()
            comp.append(y)
            for z in adj[y] - seen:
                seen.add(z)
                stack.append(z)
        out.append(sorted(comp))
    return sorted(out, key=lambda c: (-len(c), c[0]))


def recover_cartels(
    data: Mapping[str, TenderBids],
    flagged: set[str],
    *,
    min_shared: int = 3,
    alpha: float = 0.01,
    core: int = 2,
) -> list[list[str]]:
    """Rings: components of the ``core``-core of the proximity links (see the module doc)."""
    links, _ = proximity_links(data, flagged, min_shared=min_shared, alpha=alpha)
    return [c for c in _components(k_core([p for p, _ in links], core)) if len(c) >= 2]


def ring_scores(rings: list[list[str]], data: Mapping[str, TenderBids]) -> dict[str, Any]:
    """Firm-level precision, recall and ARI of the recovered rings against the file's members."""
    firms = sorted({f for tb in data.values() for f in tb.firms})
    members = {f for tb in data.values() for f in tb.members}
    found = {f for r in rings for f in r}
    tp = len(found & members)
    ring_of = {f: f"ring{i}" for i, r in enumerate(rings) for f in r}
    ari = adjusted_rand_index(
        ["cartel" if f in members else f"solo:{f}" for f in firms],
        [ring_of.get(f, f"solo:{f}") for f in firms],
    )
    return {
        "firms": len(firms),
        "members": len(members),
        "rings": len(rings),
        "ring_sizes": [len(r) for r in rings],
        "recovered": len(found),
        "true_positive": tp,
        "precision": tp / len(found) if found else None,
        "recall": tp / len(members) if members else None,
        "ari": ari,
    }
