"""What the traces rules share: their base classes, helpers and threshold types."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, ClassVar

from engine.contract.alerts import Alert, Evidence
from engine.rules.base import Rule
from engine.rules.collusion.tenders import TenderState

__all__ = ["TenderRule", "TraceRule", "short_value"]


class TenderRule(Rule):
    """A rule about tenders: alerts carry ``tender:<id>`` (or a party) as subject."""

    def check_one(self, event: Any, case: Any) -> None:
        """The runtime passes the tender's :class:`TenderState` as the second argument."""
        self.check_tender(event, case)

    def check_tender(self, event: Any, tender: TenderState) -> None:
        """Look at one applied tendering event with the tender's state already updated."""

    def emit_subject(
        self, subject: str, when: datetime, evidence: Evidence, discriminator: str = ""
    ) -> Alert | None:
        return self.ctx.emit(
            self,
            subject,
            when,
            hall_id=None,
            department_id=None,
            staff_id=None,
            evidence=evidence,
            discriminator=discriminator,
        )


def short_value(value: str) -> str:
    return hashlib.sha1(value.encode("utf-8")).hexdigest()[:10]


class TraceRule(TenderRule):
    """Bidders of one tender sharing every field of a clause's field group."""

    kinds = ("bids.opened",)
    level = "red"
    #: (clause label, fields that must all be identical and present).
    CLAUSES: ClassVar[tuple[tuple[str, tuple[str, ...]], ...]] = ()

    @classmethod
    def expected_groups(cls) -> tuple[tuple[str, ...], ...]:
        """Leaked-field groups any one of which should make the rule fire (for evaluation)."""
        return tuple(fields for _, fields in cls.CLAUSES)

    def check_tender(self, event: Any, tender: TenderState) -> None:
        bids = list(tender.bids.values())
        if len(bids) < 2:
            return
        for clause, fields in self.CLAUSES:
            groups: dict[tuple[str | None, ...], list[str]] = {}
            for bid in bids:
                values = tuple(getattr(bid.traces, f) for f in fields)
                if all(values):
                    groups.setdefault(values, []).append(bid.bidder_id)
            for values, bidders in sorted(groups.items()):
                if len(bidders) < 2:
                    continue
                value = "|".join(str(v) for v in values)
                self.emit_subject(
                    tender.subject,
                    event.ts,
                    {
                        "tender_id": tender.tender_id,
                        "clause": clause,
                        "fields": list(fields),
                        "value": value,
                        "bidders": sorted(bidders),
                        "bid_events": sorted(tender.bids[b].event_id for b in bidders),
                    },
                    discriminator=f"{clause}:{short_value(value)}",
                )
