"""The figures a run produces, under the names a targets file uses.

A run's figures come from what a supervision bureau would have: the event stream and the
alerts (through :func:`reports.evaluation.kpis.hall_kpis`), never the truth, plus the scenario's
structure (windows, staff) for size figures. Complaint figures (received, closed, dealt with)
come from the ``complaint.*`` events (:mod:`reports.evaluation.calibration.complaint_metrics`),
inspection figures (visits, problems, namings, notices) from the ``inspection.*`` events
(:mod:`reports.evaluation.calibration.inspection_metrics`).
Tender figures (award discount below the control price) are read off ``tender.published`` /
``tender.awarded`` events (:func:`event_figures`); a market scenario's replications and scale live in
:mod:`supsim.experiments.calibrate_market`.

:func:`run_figures` works on in-memory results (the calibration loop); :func:`run_dir_figures`
on a run folder written by ``supsim run``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path

import numpy as np

from engine.contract.alerts import Alert, read_alerts
from engine.contract.calendar import WorkingCalendar
from engine.contract.events import Event, ItemPublished, TenderAwarded, TenderPublished, read_jsonl
from reports.evaluation.calibration.complaint_metrics import complaint_run_figures
from reports.evaluation.calibration.inspection_metrics import inspection_run_figures
from reports.evaluation.calibration.kinds import alert_rule_figures, case_kind_figures
from reports.evaluation.kpis import HallKpis, hall_kpis
from sim.common.scenario import Scenario
from sim.market.scenario import MarketScenario

__all__ = [
    "Figures",
    "ScenarioScale",
    "event_figures",
    "kpi_figures",
    "market_run_figures",
    "market_scale",
    "run_dir_figures",
    "run_figures",
    "scenario_scale",
]

#: metric name → value (``None`` when the run cannot tell, e.g. no tender was awarded).
Figures = dict[str, float | None]


class ScenarioScale:
    """What the scaling of a published figure needs to know about the scenario."""

    __slots__ = ("calendar_days", "size", "working_days")

    def __init__(self, *, working_days: float, calendar_days: float, size: dict[str, float]) -> None:
        self.working_days = working_days
        self.calendar_days = calendar_days
        self.size = size


def _working_days(scenario: Scenario, calendar: WorkingCalendar) -> int:
    n, day = 0, scenario.start
    for _ in range(scenario.days):
        n += calendar.is_working_day(day)
        day += timedelta(days=1)
    return n


def scenario_scale(scenario: Scenario) -> ScenarioScale:
    """The scenario's period and structure (items counted from explicit items and item mixes)."""
    calendar = scenario.build_calendar()
    depts = [d for hall in scenario.halls for d in hall.departments]
    items = sum(len(h.items) + (sum(h.item_mix.counts.values()) if h.item_mix else 0) for h in scenario.halls)
    size = {
        "halls": float(len(scenario.halls)),
        "departments": float(len(depts)),
        "windows": float(sum(d.windows for d in depts)),
        "staff": float(sum(d.windows + sum(d.posts.values()) + d.leaders for d in depts)),
        "items": float(items),
    }
    return ScenarioScale(
        working_days=float(_working_days(scenario, calendar)), calendar_days=float(scenario.days), size=size
    )


def kpi_figures(kpis: HallKpis) -> Figures:
    """The hall figures of one run's KPIs."""
    a = kpis.alerts
    return {
        "cases": float(kpis.cases_seen),
        "cases_closed": float(kpis.cases_closed),
        "open_cases": float(kpis.cases_seen - kpis.cases_closed),
        "completion_rate": kpis.completion_rate,
        "early_completion_rate": kpis.early_completion_rate,
        "on_time_rate": kpis.on_time_rate,
        "instant_share": kpis.instant_share,
        "online_share": kpis.online_share,
        "deadline_warnings": float(a.deadline_warnings),
        "step_warnings": float(a.step_warnings),
        "logic_warnings": float(a.logic_warnings),
        "yellow_cards": float(a.yellow_cards),
        "red_cards": float(a.red_cards),
        "late_closed": float(kpis.promised_closed - kpis.on_time_completed),
        "mean_processing_days": kpis.mean_processing_days,
        "processing_speedup": kpis.processing_speedup,
    }


#: Tender categories whose control price is a ceiling (the award discount figures).
_CEILING_CATEGORIES = frozenset({"construction", "procurement"})


def event_figures(events: Iterable[Event]) -> Figures:
    """Figures read off the stream itself: tenders (award discounts) and the item catalogue."""
    control: dict[str, float] = {}
    discounts: list[float] = []
    items = instant = 0
    for ev in events:
        if isinstance(ev, ItemPublished):
            items += 1
            instant += ev.promised_days == 0
        elif isinstance(ev, TenderPublished):
            # Only tenders awarded *below* a control price (a ceiling) count; land and
            # property sales are ascending auctions above a reserve price.
            if ev.category in _CEILING_CATEGORIES:
                control[ev.tender_id] = float(ev.control_price)
        elif isinstance(ev, TenderAwarded):
            cp = control.get(ev.tender_id)
            if cp:
                discounts.append(1.0 - float(ev.price) / cp)
    out: Figures = {
        "tenders_awarded": float(len(discounts)),
        "award_discount_mean": sum(discounts) / len(discounts) if discounts else None,
        "award_discount_max": max(discounts) if discounts else None,
        "award_discount_p95": float(np.quantile(discounts, 0.95)) if discounts else None,
        "instant_items": float(instant),
        "instant_item_share": instant / items if items else None,
    }
    if items:
        out["items"] = float(items)
    return out


def run_figures(
    scenario: Scenario, events: Sequence[Event], alerts: Sequence[Alert], calendar: WorkingCalendar
) -> Figures:
    """Every figure of one simulated run (hall KPIs, tenders, structure)."""
    scale = scenario_scale(scenario)
    out: Figures = dict(scale.size)
    out.update(kpi_figures(hall_kpis(events, alerts, calendar=calendar)))
    out.update(event_figures(events))
    out.update(case_kind_figures(events))
    out.update(alert_rule_figures(alerts))
    out.update(complaint_run_figures(events))
    out.update(inspection_run_figures(events))
    return out


def run_dir_figures(run_dir: Path, scenario: Scenario) -> Figures:
    """The figures of a run folder: KPIs from ``metrics.json``, the rest from ``events.jsonl``."""
    import msgspec

    metrics = json.loads((run_dir / "metrics.json").read_bytes())
    kpis = msgspec.convert(metrics["evaluation"]["kpis"], HallKpis)
    out: Figures = dict(scenario_scale(scenario).size)
    out.update(kpi_figures(kpis))
    events = list(read_jsonl(run_dir / "events.jsonl"))
    out.update(event_figures(events))
    out.update(case_kind_figures(events))
    out.update(complaint_run_figures(events))
    out.update(inspection_run_figures(events))
    if (run_dir / "alerts.jsonl").exists():
        out.update(alert_rule_figures(read_alerts(run_dir / "alerts.jsonl")))
    return out


def market_scale(scenario: MarketScenario) -> ScenarioScale:
    """The market's period (working days of its calendar); a market has no hall size."""
    calendar = scenario.build_calendar()
    begin, _ = scenario.horizon()
    days = [begin.date() + timedelta(days=k) for k in range(scenario.days)]
    working = sum(1 for d in days if calendar.is_working_day(d))
    return ScenarioScale(working_days=float(working), calendar_days=float(scenario.days), size={})


def market_run_figures(run_dir: Path) -> Figures:
    """The figures of a market run folder written by ``supsim run`` (from its ``events.jsonl``)."""
    return event_figures(read_jsonl(run_dir / "events.jsonl"))
