"""Figures by case kind and by alert rule: what bureaus publish beyond the hall totals.

Why a module of its own: the hall KPIs (:func:`reports.evaluation.kpis.hall_kpis`) total every
case; published reports also split them. Instant (即办件) and promised (承诺件) cases are
counted apart, with the instant completion rate; and the time-limit alerts split into the
*pre-deadline* warning (预警, before the limit: ``deadline.warning``) and the *overdue* alert
(the limit passed with the case open: ``deadline.overdue``, a yellow card), which a report
may count separately. All are read off the event stream and the alerts, as a bureau would.

What the simulated world cannot produce is refused by name (:data:`UNSIMULATED`), so a targets
file naming it fails on load with the reason rather than showing ``n/a`` forever. The
bureau's follow-up kinds are read elsewhere now that the complaints and inspections worlds make
them: ``corrections``, ``criticised_units`` and ``supervision_suggestions`` off the inspection
events (:mod:`.inspection_metrics`), ``person_times`` off the complaint events
(:mod:`.complaint_metrics`).
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.contract.alerts import Alert
from engine.contract.events import CaseAccepted, CaseClosed, CaseSubmitted, Event

__all__ = ["KIND_METRICS", "UNSIMULATED", "alert_rule_figures", "case_kind_figures"]

#: Metrics of this module and what they mean (merged into ``targets.METRICS``).
KIND_METRICS: dict[str, str] = {
    "instant_cases": "instant cases submitted (即办件 count)",
    "promised_cases": "promised cases submitted (承诺件 count)",
    "instant_completion_rate": "instant cases closed / instant cases accepted (即办件办结率)",
    "promised_completion_rate": "promised cases closed / promised cases accepted (承诺件办结率)",
    "late_closed": "promised cases closed after their limit (超期办结)",
    "pre_deadline_warnings": "warnings before the limit (deadline.warning, 预警)",
    "overdue_alerts": "cases whose limit passed while open (deadline.overdue, 超期)",
}

#: Published kinds the simulated world cannot measure, and why.
UNSIMULATED: dict[str, str] = {
    "website_visits": (
        "visits to the e-supervision website (网站访问量) are the public's web traffic; no world "
        "simulates the public's browsing, only the complaints it files"
    ),
    "rejected_vouchers": (
        "payment vouchers rejected by the on-line check of public funds (资金监管) belong to a stream "
        "no world simulates (social-security, housing-fund and relief payments)"
    ),
}


def case_kind_figures(events: Iterable[Event]) -> dict[str, float | None]:
    """Instant and promised counts and their completion rates, from the case events."""
    kind: dict[str, str] = {}
    submitted: dict[str, str] = {}
    accepted: set[str] = set()
    closed: set[str] = set()
    for ev in events:
        if isinstance(ev, CaseSubmitted):
            submitted.setdefault(ev.case_id, ev.case_type)
            kind.setdefault(ev.case_id, ev.case_type)
        elif isinstance(ev, CaseAccepted):
            accepted.add(ev.case_id)
            kind[ev.case_id] = ev.case_type
        elif isinstance(ev, CaseClosed):
            closed.add(ev.case_id)
    out: dict[str, float | None] = {}
    for name in ("instant", "promised"):
        out[f"{name}_cases"] = float(sum(1 for t in submitted.values() if t == name))
        acc = [c for c in accepted if kind.get(c) == name]
        done = sum(1 for c in acc if c in closed)
        out[f"{name}_completion_rate"] = round(done / len(acc), 6) if acc else None
    return out


def alert_rule_figures(alerts: Iterable[Alert]) -> dict[str, float | None]:
    """Pre-deadline warnings and overdue alerts counted apart."""
    warnings = overdue = 0
    for alert in alerts:
        warnings += alert.rule == "deadline.warning"
        overdue += alert.rule == "deadline.overdue"
    return {"pre_deadline_warnings": float(warnings), "overdue_alerts": float(overdue)}
