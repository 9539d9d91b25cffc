"""Rules about the parties around a tender: experts, agents, cards and debarment.

* ``collusion.expert_deviation`` — an expert's score for a bidder deviates from the panel
  median for that bidder by at least ``expert_deviation`` (default 30 %: the threshold
  many provincial evaluation rules use to call a score "obviously deviating",
  明显偏离, which the evaluation committee must then explain).
* ``collusion.expert_pairing`` — the same expert favours the same bidder (score at least
  ``favour_margin`` above the panel median) in ``pairing_min`` or more tenders.
* ``collusion.agent_pairing`` — the same agent's tenders are won by the same bidder by a
  hair's breadth (winner within ``agent_close_gap`` of the runner-up) ``pairing_min`` or
  more times: what a leaked control price or leaked rival bids look like from outside.
  Both pairing rules alert on every tender from the ``pairing_min``-th on, each alert
  listing all the tenders of the pair so far.
* ``collusion.card`` — cards: every bidder named by a *deemed-collusion* alert (trace
  rules, price pattern) gets a red card and is debarred for ``debar_days`` (招标投标法
  第五十三条: 取消其一年至二年内参加依法必须进行招标的项目的投标资格; default one
  year); an expert gets a red card and the same debarment after ``expert_card_after``
  deviation or pairing alerts (实施条例 第七十二条).
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
from engine.rules.collusion.tenders import TenderState
from engine.rules.collusion.traces import TenderRule
from engine.rules.registry import register

__all__ = ["AgentPairingRule", "CardRule", "DebarredPartyRule", "ExpertDeviationRule", "ExpertPairingRule"]

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
        description=("A win by less than 0.5 % over the runner-up counts towards agent-winner pairing."),
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

#: Alerts that deem collusion (a red card for every bidder they name).
DEEMED_RULES = ("collusion.art40", "collusion.fujian", "collusion.daqing", "collusion.price_pattern")
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
        if (prices[1] - prices[0]) / prices[0] > self.agent_close_gap:
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
    """Red cards (and debarment) for bidders named by deemed-collusion alerts, and experts."""

    name = "collusion.card"
    level = "red"
    section = "collusion"
    observes_alerts = True

    def __init__(self, *, debar_days: DebarDays = 365.0, expert_card_after: ExpertCardAfter = 2) -> None:
        self.debar_days = debar_days
        self.expert_card_after = expert_card_after

    def reset(self) -> None:
        #: party subject → end of its debarment.
        self.debarred_until: dict[str, datetime] = {}
        self._expert_alerts: dict[str, int] = {}

    def _card(self, subject: str, alert: Alert) -> None:
        until = alert.ts + timedelta(days=self.debar_days)
        card = self.emit_subject(
            subject,
            alert.ts,
            {"cause_rule": alert.rule, "cause_alert": alert.alert_id, "debarred_until": until.isoformat()},
            discriminator=alert.alert_id,
        )
        if card is not None and (subject not in self.debarred_until or until > self.debarred_until[subject]):
            self.debarred_until[subject] = until

    def alert_one(self, alert: Alert) -> None:
        if alert.rule in DEEMED_RULES:
            bidders = alert.evidence.get("bidders")
            if isinstance(bidders, list):
                for b in bidders:
                    self._card(f"bidder:{b}", alert)
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
