"""Rules about the parties around a tender: experts, agents, cards and debarment.

* ``collusion.expert_deviation`` — an expert's score for a bidder deviates from the panel
  median for that bidder by at least ``expert_deviation`` (default 30 %: the threshold
  many provincial evaluation rules use to call a score "obviously deviating",
  明显偏离, which the evaluation committee must then explain).
* ``collusion.expert_pairing`` — the same expert favours the same bidder (score at least
  ``favour_margin`` above the panel median) in ``pairing_min`` or more tenders.
* ``collusion.agent_pairing`` — the same agent's tenders are won by the same bidder by a
  hair's breadth (winner within ``agent_close_gap`` of the runner-up, or one unit of the
  lattice the bids are written on; a tie is no undercut) ``pairing_min`` or
  more times: what a leaked control price or leaked rival bids look like from outside.
  Both pairing rules alert on every tender from the ``pairing_min``-th on, each alert
  listing all the tenders of the pair so far.
* ``collusion.card`` — cards: a bidder gets a red card and is debarred for ``debar_days``
  (招标投标法 第五十三条: 取消其一年至二年内参加依法必须进行招标的项目的投标资格; default one
  year) once the evidence naming it is strong enough. Evidence comes in independent kinds:
  **documents** (the trace rules: the same author, machine, bond account... in the bid
  files, which Art. 40 deems collusion on its own), **prices** (a price pattern: a
  statistical inference from the amounts) and **parties** (an expert or agent pairing that
  names the favoured bidder). A documentary clause cards on its own (``documents_min_kinds``
  1); every other ground needs ``card_min_kinds`` (2) kinds naming the bidder within
  ``corroboration_days`` — so a price pattern alone never debars. Why: a false debarment is
  the worst thing a regulator can do with this tool, and price evidence is exactly what
  rounding, ties and small tenders fool (``docs/bidding.md`` states the budget). An expert
  gets a red card and the same debarment after ``expert_card_after`` deviation or pairing
  alerts (实施条例 第七十二条).
* ``collusion.debarred_party`` — a debarred bidder bids, or a debarred expert scores,
  within the debarment period.

One module per rule; the imports below are the rules' registration order, which is their run order."""

from __future__ import annotations

# isort: off
from engine.rules.collusion.parties.expert_deviation import ExpertDeviationRule
from engine.rules.collusion.parties.expert_pairing import ExpertPairingRule
from engine.rules.collusion.parties.agent_pairing import AgentPairingRule
from engine.rules.collusion.parties.card import CardRule
from engine.rules.collusion.parties.debarred_party import DebarredPartyRule

# isort: on
from engine.rules.collusion.parties.bases import DEEMED_RULES, EVIDENCE_KINDS

__all__ = [
    "DEEMED_RULES",
    "EVIDENCE_KINDS",
    "AgentPairingRule",
    "CardRule",
    "DebarredPartyRule",
    "ExpertDeviationRule",
    "ExpertPairingRule",
]
