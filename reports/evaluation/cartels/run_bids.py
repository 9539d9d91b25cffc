"""The bids of a simulated market run as the table ``supsim screens`` reads from a CSV.

A bidding-market run folder (``supsim run scenarios/bidding_market.yaml``) holds every bid,
award and control price in ``events.jsonl`` and which tenders were rigged in ``truth.jsonl``.
Read as a labelled bids file, it lets the screens and the classifiers of
:mod:`reports.evaluation.cartels` run on a simulated market exactly as on the published ones
(``--data RUN_DIR``), and a model trained on a real market score a simulated one or the
reverse. The label is the simulator's truth (``collusive_tender`` episodes), the estimate the
control price, the winner the award.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from engine.contract import events as ev
from reports.evaluation.cartels.data import (
    BID_COL,
    FIRM_COL,
    LABEL_COL,
    PTE_COL,
    TENDER_COL,
    WINNER_COL,
    TenderBids,
)
from sim.common.truth import read_truth

__all__ = ["bids_csv", "bids_from_run", "is_market_run"]


def is_market_run(path: Path) -> bool:
    """A folder with the events and truth of a run (the market's are checked when read)."""
    return path.is_dir() and (path / "events.jsonl").is_file() and (path / "truth.jsonl").is_file()


def bids_from_run(run: Path) -> dict[str, TenderBids]:
    """Tender → its bids (one per bidder, in submission order), label, control price and winner."""
    rigged = {
        ep.subject.partition(":")[2]
        for ep in read_truth(run / "truth.jsonl")
        if ep.kind == "collusive_tender" and not ep.lookalike
    }
    out: dict[str, TenderBids] = {}
    winners: dict[str, str] = {}
    bidders: dict[str, list[str]] = {}
    for e in ev.read_jsonl(run / "events.jsonl"):
        if isinstance(e, ev.TenderPublished):
            out[e.tender_id] = TenderBids(label=int(e.tender_id in rigged), pte=e.control_price)
        elif isinstance(e, ev.BidSubmitted) and e.tender_id in out:
            tb = out[e.tender_id]
            tb.bids.append(e.price)
            tb.firms.append(e.bidder_id)
            tb.rows += 1
            bidders.setdefault(e.tender_id, []).append(e.bidder_id)
        elif isinstance(e, ev.TenderAwarded):
            winners[e.tender_id] = e.winner_id
    if not out:
        raise ValueError(f"{run}: no tender.published events; a bidding-market run folder is needed")
    for tender, winner in winners.items():
        tb = out[tender]
        firms = bidders.get(tender, [])
        if winner in firms:
            tb.winning_bid = tb.bids[firms.index(winner)]
    return {t: tb for t, tb in out.items() if tb.bids}


def bids_csv(bids: dict[str, TenderBids], *, labels: bool) -> str:
    """The bids as a CSV in the standard columns ``supsim screens`` reads, one row per bid.

    ``labels=False`` leaves ``Collusive_competitor`` out: a regulator's new, unlabelled market
    (what ``--train`` scores). The winner's row has ``Winner`` 1.
    """
    out = io.StringIO()
    head = [TENDER_COL, FIRM_COL, BID_COL, PTE_COL, WINNER_COL, *([LABEL_COL] if labels else [])]
    w = csv.writer(out, lineterminator="\n")
    w.writerow(head)
    for tender, tb in bids.items():
        won = False
        for firm, bid in zip(tb.firms, tb.bids, strict=True):
            winner = not won and bid == tb.winning_bid
            won = won or winner
            pte = "" if math.isnan(tb.pte) else repr(tb.pte)
            w.writerow([tender, firm, repr(bid), pte, int(winner), *([tb.label] if labels else [])])
    return out.getvalue()
