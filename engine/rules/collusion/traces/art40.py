"""``collusion.art40``: the deemed-collusion clauses of 招标投标法实施条例 第四十条, trace by trace.

The family's module docstring (``__init__``) says why the rule looks the way it does.
"""

from __future__ import annotations

from typing import Any

from engine.rules.collusion.tenders import TenderState
from engine.rules.collusion.traces.bases import TraceRule, short_value
from engine.rules.registry import register

__all__ = ["Art40Rule"]


@register
class Art40Rule(TraceRule):
    name = "collusion.art40"
    CLAUSES = (
        ("art40.1 same preparer", ("author",)),
        ("art40.2 same bid agent", ("bid_agent",)),
        ("art40.2 same handler", ("ca_serial",)),
        ("art40.3 same project member", ("project_manager",)),
        ("art40.4 identical documents", ("file_creation_id",)),
        ("art40.6 same bond account", ("bond_account",)),
    )
    MIXED_UP = "art40.5 mixed-up documents"

    @classmethod
    def expected_groups(cls) -> tuple[tuple[str, ...], ...]:
        return (*super().expected_groups(), ("marks",))

    def check_tender(self, event: Any, tender: TenderState) -> None:
        super().check_tender(event, tender)
        if len(tender.bids) < 2:
            return
        for bidder in sorted(tender.bids):
            bid = tender.bids[bidder]
            found = sorted(
                {(m.party_id, m.kind, m.document) for m in bid.traces.marks if m.party_id != bidder}
            )
            rivals = sorted({p for p, _, _ in found if p in tender.bids})
            for rival in rivals:
                marks = [f"{k}@{d}" if d else k for p, k, d in found if p == rival]
                self.emit_subject(
                    tender.subject,
                    event.ts,
                    {
                        "tender_id": tender.tender_id,
                        "clause": self.MIXED_UP,
                        "fields": ["marks"],
                        "value": rival,
                        "marks": marks,
                        "bidders": sorted({bidder, rival}),
                        "bid_events": sorted(tender.bids[b].event_id for b in (bidder, rival)),
                    },
                    discriminator=f"{self.MIXED_UP}:{short_value(bidder + '>' + rival)}",
                )
