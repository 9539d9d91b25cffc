"""``collusion.card``: red cards (and debarment) for bidders on corroborated evidence, and for experts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from engine.contract.alerts import Alert
from engine.rules.collusion.parties.bases import (
    EVIDENCE_KINDS,
    EXPERT_RULES,
    CardMinKinds,
    CorroborationDays,
    DebarDays,
    DocumentsMinKinds,
    ExpertCardAfter,
)
from engine.rules.collusion.traces import TenderRule
from engine.rules.registry import register

__all__ = ["CardRule"]


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
