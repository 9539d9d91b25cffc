"""Hall KPIs as a supervision bureau reports them, computed from the events alone.

These are the figures of the bureaus' work reports (cases watched and closed, completion
rate 办结率, early-completion rate 提前办结率, warnings and cards issued), so a simulated run
can be set beside the published ones. They use the event stream and the alerts, never the
truth: a planner must get the same numbers from an export of a real system.

Definitions:

* *cases seen*: distinct case ids in any case event (the denominator of the per-10,000
  alert rates); *submitted* / *accepted* / *closed*: distinct case ids with such an event;
* *instant share*, *online share*: among submitted cases;
* *completion rate*: accepted cases that were closed / accepted cases;
* *early-completion rate*: among closed promised cases with a known limit (accepted, item
  published with ``promised_days > 0``), those closed with working time still left on the
  clock: effective elapsed < limit, where effective elapsed is working time from acceptance
  minus working time inside *legal* suspensions (illegal ones do not stop the clock). That
  is, strictly before the first instant the limit is used up; a case closed in the evening
  after its last working hour ran out is on time but not early. *On-time rate* uses
  elapsed <= limit, i.e. closed no later than ``WorkingCalendar.deadline``;
* alert counts: deadline / step / logic warnings are alerts of level ``warning`` in that
  rule family; yellow and red cards are alerts of that level from any family.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime

import msgspec

from engine.contract.alerts import Alert
from engine.contract.calendar import WorkingCalendar
from engine.contract.events import (
    CaseAccepted,
    CaseClosed,
    CaseResumed,
    CaseSubmitted,
    CaseSuspended,
    Event,
    ItemPublished,
)
from reports.evaluation.matching import family_of

__all__ = [
    "LEGAL_SUSPENSION_REASONS",
    "NO_DEPARTMENT",
    "AlertCounts",
    "AlertRates",
    "DepartmentKpis",
    "HallKpis",
    "hall_kpis",
]

#: 行政许可法 Art. 45 and 补正: the reasons that legally stop the clock.
LEGAL_SUSPENSION_REASONS: frozenset[str] = frozenset(
    {"supplement", "expert_review", "hearing", "inspection", "testing", "appraisal", "superior_authority"}
)
_EPS = 1e-6  # seconds: float noise in working-time arithmetic
_DIGITS = 6


class AlertCounts(msgspec.Struct, frozen=True, kw_only=True):
    deadline_warnings: int = 0
    step_warnings: int = 0
    logic_warnings: int = 0
    yellow_cards: int = 0
    red_cards: int = 0


class AlertRates(msgspec.Struct, frozen=True, kw_only=True):
    """The same counts per 10,000 cases seen."""

    deadline_warnings: float
    step_warnings: float
    logic_warnings: float
    yellow_cards: float
    red_cards: float


class DepartmentKpis(msgspec.Struct, frozen=True, kw_only=True):
    department_id: str
    cases_submitted: int
    cases_accepted: int
    cases_closed: int
    promised_closed: int
    early_completed: int
    early_completion_rate: float | None
    alerts: AlertCounts


class HallKpis(msgspec.Struct, frozen=True, kw_only=True):
    cases_seen: int
    cases_submitted: int
    cases_accepted: int
    cases_closed: int
    instant_share: float | None
    online_share: float | None
    completion_rate: float | None
    promised_closed: int
    early_completed: int
    on_time_completed: int
    early_completion_rate: float | None
    on_time_rate: float | None
    alerts: AlertCounts
    per_10k_cases: AlertRates | None
    departments: tuple[DepartmentKpis, ...] = ()
    #: Mean working days from acceptance to closure of the promised cases closed, the clock
    #: stopped during legal suspensions (平均办理时间); ``None`` without such a case.
    mean_processing_days: float | None = None
    #: 1 − their total processing time / their total promised limits (提速率, against the
    #: promised limit): 0.6 means closed in 40 % of the promised time; negative when late.
    processing_speedup: float | None = None


def _rate(num: int, den: int) -> float | None:
    return round(num / den, _DIGITS) if den else None


class _Case:
    __slots__ = (
        "accepted",
        "case_type",
        "channel",
        "closed",
        "department",
        "item",
        "submitted",
        "suspensions",
    )

    def __init__(self) -> None:
        self.department: str | None = None
        self.item: str | None = None
        self.case_type: str | None = None
        self.channel: str | None = None
        self.submitted = False
        self.accepted: datetime | None = None
        self.closed: datetime | None = None
        # (start, end or None, legal)
        self.suspensions: list[tuple[datetime, datetime | None, bool]] = []


_LIFECYCLE: frozenset[type[Event]] = frozenset(
    {CaseSubmitted, CaseAccepted, CaseClosed, CaseSuspended, CaseResumed}
)


def _collect(events: Sequence[Event]) -> tuple[dict[str, _Case], dict[str, int]]:
    cases: dict[str, _Case] = defaultdict(_Case)
    promised: dict[str, int] = {}
    for ev in events:
        if isinstance(ev, ItemPublished):
            promised[ev.item_id] = ev.promised_days
            continue
        case_id = getattr(ev, "case_id", None)
        if case_id is None:
            continue
        case = cases[case_id]
        if case.department is None:
            case.department = getattr(ev, "department_id", None)
        if type(ev) not in _LIFECYCLE:  # steps, fees, decisions: only their case id matters here
            continue
        if isinstance(ev, CaseSubmitted):
            case.submitted = True
            case.item = case.item or ev.item_id
            case.case_type = case.case_type or ev.case_type
            case.channel = case.channel or ev.channel
        elif isinstance(ev, CaseAccepted):
            if case.accepted is None or ev.ts < case.accepted:
                case.accepted = ev.ts
            case.item = case.item or ev.item_id
            case.case_type = ev.case_type
        elif isinstance(ev, CaseClosed):
            if case.closed is None or ev.ts < case.closed:
                case.closed = ev.ts
        elif isinstance(ev, CaseSuspended):
            case.suspensions.append((ev.ts, None, ev.reason in LEGAL_SUSPENSION_REASONS))
        elif isinstance(ev, CaseResumed):
            for k in range(len(case.suspensions) - 1, -1, -1):
                start, end, legal = case.suspensions[k]
                if end is None and start <= ev.ts:
                    case.suspensions[k] = (start, ev.ts, legal)
                    break
    return dict(cases), promised


def _effective_elapsed(case: _Case, accepted: datetime, closed: datetime, cal: WorkingCalendar) -> float:
    """Working seconds from acceptance to close minus working time inside legal suspensions."""
    elapsed = cal.working_seconds(accepted, closed)
    paused: list[tuple[datetime, datetime]] = []
    for start, end, legal in sorted(case.suspensions, key=lambda s: s[0]):
        if not legal:
            continue
        lo, hi = max(start, accepted), min(end or closed, closed)
        if hi <= lo:
            continue
        if paused and lo <= paused[-1][1]:  # overlapping suspensions pause once
            paused[-1] = (paused[-1][0], max(paused[-1][1], hi))
        else:
            paused.append((lo, hi))
    return elapsed - sum(cal.working_seconds(lo, hi) for lo, hi in paused)


def _alert_counts(alerts: Sequence[Alert]) -> AlertCounts:
    warnings: Counter[str] = Counter()
    cards: Counter[str] = Counter()
    for alert in alerts:
        if alert.level == "warning":
            warnings[family_of(alert.rule)] += 1
        else:
            cards[alert.level] += 1
    return AlertCounts(
        deadline_warnings=warnings["deadline"],
        step_warnings=warnings["step"],
        logic_warnings=warnings["logic"],
        yellow_cards=cards["yellow"],
        red_cards=cards["red"],
    )


#: Per-case flags summed into the hall and department totals.
_FLAGS = (
    "submitted",
    "instant",
    "online",
    "accepted",
    "closed",
    "accepted_closed",
    "promised_closed",
    "early",
    "on_time",
)


def _timing(case: _Case, promised: dict[str, int], calendar: WorkingCalendar) -> tuple[float, float] | None:
    """(effective elapsed, promised limit) in working seconds of a closed promised case, else None."""
    days = promised.get(case.item or "", 0)
    accepted, closed = case.accepted, case.closed
    if case.case_type == "promised" and days > 0 and accepted is not None and closed is not None:
        return _effective_elapsed(case, accepted, closed, calendar), days * calendar.day_seconds
    return None


def _case_flags(case: _Case, timing: tuple[float, float] | None) -> tuple[int, ...]:
    scored = early = on_time = False
    if timing is not None:
        elapsed, limit = timing
        scored, early, on_time = True, elapsed < limit - _EPS, elapsed <= limit + _EPS
    return (
        int(case.submitted),
        int(case.submitted and case.case_type == "instant"),
        int(case.submitted and case.channel == "online"),
        int(case.accepted is not None),
        int(case.closed is not None),
        int(case.accepted is not None and case.closed is not None),
        int(scored),
        int(early),
        int(on_time),
    )


#: The row of cases and alerts that name no department (shown only when it counts something).
NO_DEPARTMENT = "(no department)"


def hall_kpis(events: Sequence[Event], alerts: Sequence[Alert], *, calendar: WorkingCalendar) -> HallKpis:
    """KPIs of the whole run and per department (sorted by department id)."""
    cases, promised = _collect(events)
    zero = dict.fromkeys(_FLAGS, 0)
    totals = dict(zero)
    by_dept: dict[str, dict[str, int]] = {}
    elapsed_sum = limit_sum = 0.0
    for case_id in sorted(cases):
        case = cases[case_id]
        dept_row = by_dept.setdefault(case.department or NO_DEPARTMENT, dict(zero))
        timing = _timing(case, promised, calendar)
        if timing is not None:
            elapsed_sum += timing[0]
            limit_sum += timing[1]
        for name, flag in zip(_FLAGS, _case_flags(case, timing), strict=True):
            totals[name] += flag
            dept_row[name] += flag
    timed = totals["promised_closed"]

    case_dept = {cid: c.department for cid, c in cases.items()}
    dept_alerts: dict[str, list[Alert]] = defaultdict(list)
    for alert in alerts:
        dept = alert.department_id
        if dept is None:
            kind, _, ident = alert.subject.partition(":")
            dept = case_dept.get(ident) if kind == "case" else ident if kind == "department" else None
        dept_alerts[dept or NO_DEPARTMENT].append(alert)

    counts = _alert_counts(alerts)
    none = _alert_counts(())
    seen = len(cases)
    rates = None
    if seen:
        per = 10_000 / seen
        rates = AlertRates(
            **{f: round(getattr(counts, f) * per, _DIGITS) for f in AlertCounts.__struct_fields__}
        )
    departments = tuple(
        DepartmentKpis(
            department_id=d,
            cases_submitted=row["submitted"],
            cases_accepted=row["accepted"],
            cases_closed=row["closed"],
            promised_closed=row["promised_closed"],
            early_completed=row["early"],
            early_completion_rate=_rate(row["early"], row["promised_closed"]),
            alerts=_alert_counts(dept_alerts.get(d, [])),
        )
        for d in sorted(set(by_dept) | set(dept_alerts))
        for row in (by_dept.get(d, zero),)
        # Alerts about windows, staff or cameras name no department and count in none of the
        # columns: an unattributed row of zeros would only puzzle the reader.
        if d != NO_DEPARTMENT or any(row.values()) or _alert_counts(dept_alerts.get(d, [])) != none
    )
    return HallKpis(
        cases_seen=seen,
        cases_submitted=totals["submitted"],
        cases_accepted=totals["accepted"],
        cases_closed=totals["closed"],
        instant_share=_rate(totals["instant"], totals["submitted"]),
        online_share=_rate(totals["online"], totals["submitted"]),
        completion_rate=_rate(totals["accepted_closed"], totals["accepted"]),
        promised_closed=totals["promised_closed"],
        early_completed=totals["early"],
        on_time_completed=totals["on_time"],
        early_completion_rate=_rate(totals["early"], totals["promised_closed"]),
        on_time_rate=_rate(totals["on_time"], totals["promised_closed"]),
        alerts=counts,
        per_10k_cases=rates,
        departments=departments,
        mean_processing_days=round(elapsed_sum / calendar.day_seconds / timed, _DIGITS) if timed else None,
        processing_speedup=round(1.0 - elapsed_sum / limit_sum, _DIGITS) if limit_sum else None,
    )
