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
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, ClassVar

from engine.contract.alerts import Alert, Evidence
from engine.rules.base import Rule
from engine.rules.collusion.tenders import TenderState
from engine.rules.registry import register

__all__ = ["Art40Rule", "DaqingRule", "FujianRule", "SameIpRule", "TenderRule", "TraceRule"]


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


def _short(value: str) -> str:
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
                    discriminator=f"{clause}:{_short(value)}",
                )


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
                    discriminator=f"{self.MIXED_UP}:{_short(bidder + '>' + rival)}",
                )


@register
class FujianRule(TraceRule):
    name = "collusion.fujian"
    CLAUSES = (
        ("fujian mac+cpu+disk", ("mac", "cpu_serial", "disk_serial")),
        ("fujian dongle", ("dongle_serial",)),
        ("fujian document hardware record", ("file_creation_id",)),
    )


@register
class DaqingRule(TraceRule):
    name = "collusion.daqing"
    CLAUSES = (
        ("daqing mac", ("mac",)),
        ("daqing cpu", ("cpu_serial",)),
        ("daqing disk", ("disk_serial",)),
        ("daqing file-creation id", ("file_creation_id",)),
        ("daqing dongle", ("dongle_serial",)),
    )


@register
class SameIpRule(TraceRule):
    name = "collusion.same_ip"
    level = "warning"
    CLAUSES = (("same upload ip", ("ip",)),)
