"""``collusion.agent_pairing``: one agent's tenders won by one bidder by a hair's breadth, again.

The family's module docstring (``__init__``) says why the rule looks the way it does.
"""

from __future__ import annotations

from typing import Any

from engine.rules.collusion.lattice import lattice_unit
from engine.rules.collusion.parties.bases import (
    AgentCloseGap,
    PairingMin,
)
from engine.rules.collusion.tenders import TenderState
from engine.rules.collusion.traces import TenderRule
from engine.rules.registry import register

__all__ = ["AgentPairingRule"]


@register
class AgentPairingRule(TenderRule):
    name = "collusion.agent_pairing"
    level = "yellow"
    section = "collusion"
    kinds = ("tender.awarded",)

    def __init__(self, *, agent_close_gap: AgentCloseGap = 0.005, pairing_min: PairingMin = 3) -> None:
        self.agent_close_gap = agent_close_gap
        self.pairing_min = pairing_min

    def reset(self) -> None:
        self._pairs: dict[tuple[str, str], list[str]] = {}

    def check_tender(self, event: Any, tender: TenderState) -> None:
        if tender.agent_id is None or len(tender.bids) < 2:
            return
        prices = sorted(tender.prices())
        winner = event.winner_id
        if tender.bids.get(winner) is None or tender.bids[winner].price != prices[0]:
            return
        # On a lattice the smallest undercut is one unit: a win by one unit is a hair's breadth
        # whatever the unit (a tie is not an undercut).
        gap = prices[1] - prices[0]
        unit = lattice_unit(prices)
        if gap <= 0 or gap > max(self.agent_close_gap * prices[0], unit + 0.005):
            return
        seen = self._pairs.setdefault((tender.agent_id, winner), [])
        seen.append(tender.tender_id)
        if len(seen) >= self.pairing_min:
            self.emit_subject(
                f"agent:{tender.agent_id}",
                event.ts,
                {
                    "agent_id": tender.agent_id,
                    "bidder_id": winner,
                    "tenders": list(seen),
                    "bidders": [winner],
                },
                discriminator=f"{winner}:{tender.tender_id}",
            )
