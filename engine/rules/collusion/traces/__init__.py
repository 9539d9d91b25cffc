"""Collusion trace rules: identical electronic traces across bidders of one tender.

Why rules "as the regulations state them": a supervision bureau must be able to cite the
clause behind a flag, and regulations differ in how much identity they require. Each rule
below is one regulation; each alert names the clause, the trace field(s), the shared value
and the bidders, so an investigator can check it against the bid files.

* ``collusion.art40`` — 招标投标法实施条例 第四十条 (deemed collusion, 视为串通投标):
  (一) documents prepared by the same unit or person → same document ``author``;
  (二) several bidders entrusting their bids to the same unit or person → the same
  ``bid_agent`` (投标代理 or 标书代写 the bidder declared), and the same CA certificate
  serial (a CA key is issued to one holder; one holder signing for several firms is the
  trace this clause leaves on an electronic platform). A bid agency serving firms in
  *different* tenders is normal business; only two bidders of one tender are evidence.
  Not to be confused with the tender's own agent (招标代理, ``collusion.agent_pairing``);
  (三) the same project-management member → same ``project_manager``;
  (四) abnormally identical documents → the same ``file_creation_id`` (the price-pattern
  half of this clause is ``collusion.price_pattern``);
  (五) mixed-up documents (相互混装) → a bid whose documents carry the name, seal or file of
  *another bidder of the same tender* (``BidTraces.marks``; a consortium partner's or a
  manufacturer's mark names no rival bidder and is ignored);
  (六) bonds transferred from the same account → same ``bond_account``.
* ``collusion.fujian`` — Fujian 2018: MAC, CPU serial and disk serial *all* identical ⇒ same
  preparer; an identical pricing-software dongle serial or document-making hardware record
  (``file_creation_id``) ⇒ same preparer.
* ``collusion.daqing`` — Daqing 2021: *any one* identical machine code (MAC, CPU or disk
  serial), file-creation id or dongle serial ⇒ same preparer.
* ``collusion.same_ip`` — the same upload IP. Firms in one business park share a public IP,
  so it is only a weak signal: level ``warning`` (not a card), never a ground for
  debarment, and not counted as a tender-level flag.

All four look at the bids when they are opened (``bids.opened``), as a regulator can.

One module per rule; the imports below are the rules' registration order, which is their run order."""

from __future__ import annotations

# isort: off
from engine.rules.collusion.traces.art40 import Art40Rule
from engine.rules.collusion.traces.fujian import FujianRule
from engine.rules.collusion.traces.daqing import DaqingRule
from engine.rules.collusion.traces.same_ip import SameIpRule

# isort: on
from engine.rules.collusion.traces.bases import TenderRule, TraceRule

__all__ = ["Art40Rule", "DaqingRule", "FujianRule", "SameIpRule", "TenderRule", "TraceRule"]
