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
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Annotated, Any

from msgspec import Meta

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.rules.collusion.lattice import lattice_unit
from engine.rules.collusion.tenders import TenderState
from engine.rules.collusion.traces import TenderRule
from engine.rules.registry import register

__all__ = [
    "DEEMED_RULES",
    "EVIDENCE_KINDS",
    "AgentPairingRule",
    "CardRule",
    "DebarredPartyRule",
    "ExpertDeviationRule",
    "ExpertPairingRule",
]

ExpertDeviation = Annotated[
    float,
    Meta(
        gt=0,
        description=(
            "评分明显偏离: an expert score 30 % or more away from the panel median for that bidder."
        ),
    ),
]
FavourMargin = Annotated[
    float,
    Meta(
        ge=0,
        description=('An expert "favours" a bidder when scoring 10 % above the panel median for it ...'),
    ),
]
#: Shared by the expert and agent pairing rules (one section field).
PairingMin = Annotated[
    int,
    Meta(
        ge=2,
        description=("... and a pairing (expert-bidder, agent-winner) is repeated from the 3rd time."),
    ),
]
AgentCloseGap = Annotated[
    float,
    Meta(
        ge=0,
        description=(
            "A win by at most 0.5 % over the runner-up (or by one unit of the lattice the bids are "
            "written on; a tie is not a win by a hair) counts towards agent-winner pairing."
        ),
    ),
]
DebarDays = Annotated[
    float,
    Meta(
        ge=0,
        description=(
            "招标投标法 Art. 53: debarment of one to two years for collusive bidders; one year here."
        ),
    ),
]
ExpertCardAfter = Annotated[
    int,
    Meta(
        ge=1,
        description=(
            "实施条例 Art. 72: an expert is carded (and barred) on the 2nd deviation or pairing alert."
        ),
    ),
]

CardMinKinds = Annotated[
    int,
    Meta(
        ge=1,
        le=3,
        description=(
            "A bidder named by a price pattern (or a pairing) is carded only once this many "
            "independent evidence kinds (documents, prices, parties) have named it: 2, so a price "
            "pattern alone never debars (the false-debarment budget, docs/bidding.md) ..."
        ),
    ),
]
DocumentsMinKinds = Annotated[
    int,
    Meta(
        ge=1,
        le=3,
        description=(
            "... while a documentary trace clause (Art. 40, Fujian, Daqing) needs 1: the regulation "
            "deems collusion on it (视为串通投标); 2 would ask corroboration of those too ..."
        ),
    ),
]
CorroborationDays = Annotated[
    float,
    Meta(
        gt=0,
        description=("... counting the evidence that named the bidder within the last 365 days."),
    ),
]

#: The evidence kind of each alert that can ground a bidder's card.
EVIDENCE_KINDS: dict[str, str] = {
    "collusion.art40": "documents",
    "collusion.fujian": "documents",
    "collusion.daqing": "documents",
    "collusion.price_pattern": "prices",
    "collusion.expert_pairing": "parties",
    "collusion.agent_pairing": "parties",
}
#: Alerts that deem collusion by themselves (a card for every bidder they name, by default).
DEEMED_RULES = tuple(r for r, k in EVIDENCE_KINDS.items() if k == "documents")
EXPERT_RULES = ("collusion.expert_deviation", "collusion.expert_pairing")


def _medians(tender: TenderState) -> dict[str, float]:
    by_bidder: dict[str, list[float]] = {}
    for scores in tender.scores.values():
        for bidder, s in scores.items():
            by_bidder.setdefault(bidder, []).append(s)
    return {b: statistics.median(v) for b, v in by_bidder.items() if len(v) >= 3}


@register
class ExpertDeviationRule(TenderRule):
    name = "collusion.expert_deviation"
    level = "yellow"
    section = "collusion"
    kinds = ("tender.awarded",)

    def __init__(self, *, expert_deviation: ExpertDeviation = 0.30) -> None:
        self.expert_deviation = expert_deviation

    def check_tender(self, event: Any, tender: TenderState) -> None:
        medians = _medians(tender)
        for expert in sorted(tender.scores):
            for bidder, score in sorted(tender.scores[expert].items()):
                med = medians.get(bidder)
                if med is None or med <= 0:
                    continue
                dev = (score - med) / med
                if abs(dev) >= self.expert_deviation:
                    self.emit_subject(
                        f"expert:{expert}",
                        event.ts,
                        {
                            "tender_id": tender.tender_id,
                            "expert_id": expert,
                            "bidder_id": bidder,
                            "score": score,
                            "panel_median": med,
                            "deviation": round(dev, 6),
                        },
                        discriminator=f"{tender.tender_id}:{bidder}",
                    )


@register
class ExpertPairingRule(TenderRule):
    name = "collusion.expert_pairing"
    level = "yellow"
    section = "collusion"
    kinds = ("tender.awarded",)

    def __init__(self, *, favour_margin: FavourMargin = 0.10, pairing_min: PairingMin = 3) -> None:
        self.favour_margin = favour_margin
        self.pairing_min = pairing_min

    def reset(self) -> None:
        self._pairs: dict[tuple[str, str], list[str]] = {}

    def check_tender(self, event: Any, tender: TenderState) -> None:
        medians = _medians(tender)
        for expert in sorted(tender.scores):
            for bidder, score in sorted(tender.scores[expert].items()):
                med = medians.get(bidder)
                if med is None or score < med * (1 + self.favour_margin):
                    continue
                seen = self._pairs.setdefault((expert, bidder), [])
                seen.append(tender.tender_id)
                if len(seen) >= self.pairing_min:
                    self.emit_subject(
                        f"expert:{expert}",
                        event.ts,
                        {
                            "expert_id": expert,
                            "bidder_id": bidder,
                            "tenders": list(seen),
                            "bidders": [bidder],
                        },
                        discriminator=f"{bidder}:{tender.tender_id}",
                    )


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


@register
class CardRule(TenderRule):
    """Red cards (and debarment) for bidders on corroborated evidence, and for experts."""

    name = "collusion.card"
    level = "red"
    section = "collusion"
    observes_alerts = True

    def __init__(
        self,
        *,
        debar_days: DebarDays = 365.0,
        expert_card_after: ExpertCardAfter = 2,
        card_min_kinds: CardMinKinds = 2,
        documents_min_kinds: DocumentsMinKinds = 1,
        corroboration_days: CorroborationDays = 365.0,
    ) -> None:
        self.debar_days = debar_days
        self.expert_card_after = expert_card_after
        self.card_min_kinds = card_min_kinds
        self.documents_min_kinds = documents_min_kinds
        self.corroboration_days = corroboration_days

    def reset(self) -> None:
        #: party subject → end of its debarment.
        self.debarred_until: dict[str, datetime] = {}
        self._expert_alerts: dict[str, int] = {}
        #: bidder subject → evidence kind → when an alert of that kind last named it.
        self._evidence: dict[str, dict[str, datetime]] = {}

    def _card(self, subject: str, alert: Alert, kinds: list[str] | None = None) -> None:
        until = alert.ts + timedelta(days=self.debar_days)
        evidence: dict[str, Any] = {
            "cause_rule": alert.rule,
            "cause_alert": alert.alert_id,
            "debarred_until": until.isoformat(),
        }
        if kinds is not None:
            evidence["evidence_kinds"] = kinds
        card = self.emit_subject(subject, alert.ts, evidence, discriminator=alert.alert_id)
        if card is not None and (subject not in self.debarred_until or until > self.debarred_until[subject]):
            self.debarred_until[subject] = until

    def _kinds(self, subject: str, kind: str, when: datetime) -> list[str]:
        seen = self._evidence.setdefault(subject, {})
        seen[kind] = when
        window = timedelta(days=self.corroboration_days)
        return sorted(k for k, t in seen.items() if when - t <= window)

    def alert_one(self, alert: Alert) -> None:
        kind = EVIDENCE_KINDS.get(alert.rule)
        if kind is not None:
            bidders = alert.evidence.get("bidders")
            if not isinstance(bidders, list):
                return
            for b in bidders:
                subject = f"bidder:{b}"
                kinds = self._kinds(subject, kind, alert.ts)
                need = self.documents_min_kinds if "documents" in kinds else self.card_min_kinds
                if len(kinds) >= need:
                    self._card(subject, alert, kinds)
        elif alert.rule in EXPERT_RULES:
            n = self._expert_alerts[alert.subject] = self._expert_alerts.get(alert.subject, 0) + 1
            if n == self.expert_card_after:
                self._card(alert.subject, alert)


@register
class DebarredPartyRule(TenderRule):
    """A debarred bidder bids again, or a debarred expert evaluates again (needs ``collusion.card``)."""

    name = "collusion.debarred_party"
    level = "red"
    kinds = ("bid.submitted", "expert.scored")

    def reset(self) -> None:
        self._cards: CardRule | None = None

    def _board(self) -> CardRule | None:
        if self._cards is None:
            rules = getattr(self.ctx, "rules", ())
            self._cards = next((r for r in rules if isinstance(r, CardRule)), None)
        return self._cards

    def check_tender(self, event: Any, tender: TenderState) -> None:
        board = self._board()
        if board is None:
            return
        if isinstance(event, ev.BidSubmitted):
            subject, role = f"bidder:{event.bidder_id}", "bidding"
        else:
            subject, role = f"expert:{event.expert_id}", "evaluating"
        until = board.debarred_until.get(subject)
        if until is None or event.ts >= until:
            return
        self.emit_subject(
            subject,
            event.ts,
            {"tender_id": tender.tender_id, "role": role, "debarred_until": until.isoformat()},
            discriminator=tender.tender_id,
        )
