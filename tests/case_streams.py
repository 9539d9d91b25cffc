"""Hand-built approval streams for the engine tests: one clean case, then variants.

A :class:`CaseScript` lists the instants of one case's records; :func:`case_events` turns
it into events that follow the fixed flow. Tests start from the clean script (which must
raise no alert) and change one thing, so each test states exactly the misconduct or
look-alike it is about. Times are in the week of Monday 2025-03-03 (no holidays), in
China Standard Time; ``wd(n, "HH:MM")`` is ``n`` calendar days after that Monday.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Literal, TypedDict

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.replay import DetectResult, detect
from engine.rules.rulebook import Rulebook

__all__ = [
    "MONDAY",
    "TZ",
    "CaseScript",
    "StepScript",
    "Suspension",
    "at",
    "case_events",
    "detect_stream",
    "heartbeat",
    "keys",
    "reference_events",
    "replay",
    "stream",
    "wd",
]

TZ = timezone(timedelta(hours=8))
MONDAY = date(2025, 3, 3)


def at(d: date | str, hhmm: str) -> datetime:
    day = date.fromisoformat(d) if isinstance(d, str) else d
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=TZ)


def wd(n: int, hhmm: str) -> datetime:
    """``n`` calendar days after Monday 2025-03-03, at ``hhmm`` (+08:00)."""
    return at(MONDAY + timedelta(days=n), hhmm)


class _HallDept(TypedDict):
    hall_id: str
    department_id: str


_HD: _HallDept = {"hall_id": "H1", "department_id": "D1"}


def reference_events(ts: datetime | None = None) -> list[ev.Event]:
    """The catalogue and staff every test stream starts with.

    * ``I1``: promised item, 5 working days, fee 50 yuan, steps review (2 d) → check (1 d).
    * ``I0``: instant item, free, no back-office steps.
    * ``I2``: promised item, 1 working day, free, no steps.
    * Staff: ``W1`` window (may decide I0), ``R1`` review, ``K1`` check, ``A1`` and ``A2``
      approvers of I1 and I2, ``X9`` a clerk with no decision authority.
    """
    ts = ts or wd(0, "08:00")
    steps = (ev.StepSpec("review", "review", 2.0), ev.StepSpec("check", "check", 1.0))
    items: list[ev.Event] = [
        ev.ItemPublished(
            event_id="ref-I1",
            ts=ts,
            item_id="I1",
            name="licence",
            promised_days=5,
            fee_standard=50.0,
            steps=steps,
            **_HD,
        ),
        ev.ItemPublished(
            event_id="ref-I0", ts=ts, item_id="I0", name="certificate copy", promised_days=0, **_HD
        ),
        ev.ItemPublished(event_id="ref-I2", ts=ts, item_id="I2", name="filing", promised_days=1, **_HD),
    ]
    staff = [
        ("W1", ("window",), ("I0",)),
        ("R1", ("review",), ()),
        ("K1", ("check",), ()),
        ("A1", ("approve",), ("I1", "I2")),
        ("A2", ("approve",), ("I1", "I2")),
        ("X9", ("clerk",), ()),
    ]
    items += [
        ev.StaffAuthorised(event_id=f"ref-{sid}", ts=ts, staff_id=sid, posts=posts, may_decide=may, **_HD)
        for sid, posts, may in staff
    ]
    return items


@dataclass(frozen=True)
class StepScript:
    name: str
    staff_id: str
    started: datetime | None
    completed: datetime | None
    completed_stated: datetime | None = None


@dataclass(frozen=True)
class Suspension:
    start: datetime
    end: datetime | None
    reason: str = "supplement"
    notice_id: str | None = "N-1"


_SUBMITTED, _ACCEPTED, _FEE = wd(0, "09:00"), wd(0, "09:05"), wd(0, "09:10")
_STEPS = (
    StepScript("review", "R1", wd(0, "09:30"), wd(1, "10:00")),
    StepScript("check", "K1", wd(1, "10:30"), wd(1, "15:00")),
)
_DECIDED, _CERTIFICATE, _CLOSED = wd(2, "10:00"), wd(2, "10:30"), wd(2, "11:00")


@dataclass(frozen=True)
class CaseScript:
    """One case of item ``I1`` that follows the fixed flow and closes on Wednesday."""

    case_id: str = "C1"
    item_id: str = "I1"
    case_type: Literal["instant", "promised"] = "promised"
    department_id: str = "D1"
    submitted: datetime | None = _SUBMITTED
    accepted: datetime | None = _ACCEPTED
    acceptor: str = "W1"
    accepted_stated: datetime | None = None
    fee: float | None = 50.0
    fee_at: datetime = _FEE
    steps: tuple[StepScript, ...] = _STEPS
    suspensions: tuple[Suspension, ...] = ()
    decided: datetime | None = _DECIDED
    approver: str = "A1"
    decision: Literal["approve", "reject"] = "approve"
    decided_stated: datetime | None = None
    certificate: datetime | None = _CERTIFICATE
    closed: datetime | None = _CLOSED
    extra: tuple[ev.Event, ...] = field(default=())


def case_events(s: CaseScript) -> list[ev.Event]:
    """The events of one scripted case, ids ``<case>-<nn>`` in script order."""
    out: list[ev.Event] = []
    base = {"hall_id": "H1", "case_id": s.case_id, "department_id": s.department_id}

    def eid() -> str:
        return f"{s.case_id}-{len(out):02d}"

    if s.submitted is not None:
        out.append(
            ev.CaseSubmitted(
                event_id=eid(),
                ts=s.submitted,
                item_id=s.item_id,
                channel="window",
                case_type=s.case_type,
                **base,
            )
        )
    if s.accepted is not None:
        out.append(
            ev.CaseAccepted(
                event_id=eid(),
                ts=s.accepted,
                item_id=s.item_id,
                staff_id=s.acceptor,
                case_type=s.case_type,
                stated_at=s.accepted_stated,
                **base,
            )
        )
    if s.fee is not None:
        out.append(ev.FeeCharged(event_id=eid(), ts=s.fee_at, amount=s.fee, staff_id=s.acceptor, **base))
    for st in s.steps:
        if st.started is not None:
            out.append(
                ev.StepStarted(
                    event_id=eid(), ts=st.started, step=st.name, post=st.name, staff_id=st.staff_id, **base
                )
            )
        if st.completed is not None:
            out.append(
                ev.StepCompleted(
                    event_id=eid(),
                    ts=st.completed,
                    step=st.name,
                    post=st.name,
                    staff_id=st.staff_id,
                    stated_at=st.completed_stated,
                    **base,
                )
            )
    for sus in s.suspensions:
        out.append(
            ev.CaseSuspended(
                event_id=eid(),
                ts=sus.start,
                reason=sus.reason,
                staff_id=s.acceptor,
                notice_id=sus.notice_id,
                **base,
            )
        )
        if sus.end is not None:
            out.append(ev.CaseResumed(event_id=eid(), ts=sus.end, staff_id=s.acceptor, **base))
    if s.decided is not None:
        out.append(
            ev.CaseDecided(
                event_id=eid(),
                ts=s.decided,
                approver_id=s.approver,
                decision=s.decision,
                stated_at=s.decided_stated,
                **base,
            )
        )
    if s.certificate is not None:
        out.append(
            ev.CertificateIssued(
                event_id=eid(), ts=s.certificate, certificate_no=f"Z-{s.case_id}", staff_id=s.approver, **base
            )
        )
    if s.closed is not None:
        outcome: Literal["approved", "rejected"] = "approved" if s.decision == "approve" else "rejected"
        out.append(ev.CaseClosed(event_id=eid(), ts=s.closed, staff_id=s.approver, outcome=outcome, **base))
    out.extend(s.extra)
    out.sort(key=lambda e: e.ts)  # a source sends its records in time order
    return out


def stream(*scripts: CaseScript, end: datetime | None = None) -> list[ev.Event]:
    """Reference data, the scripted cases merged in time order, and an end-of-run heartbeat."""
    events = reference_events()
    for s in scripts:
        events += case_events(s)
    if end is not None:
        events.append(heartbeat(end))
    events.sort(key=lambda e: e.ts)
    return events


def heartbeat(ts: datetime, event_id: str = "hb-end") -> ev.SourceHeartbeat:
    """A source heartbeat: moves event time (the end of a run) without business meaning."""
    return ev.SourceHeartbeat(event_id=event_id, ts=ts, source_id="hall-H1", hall_id="H1")


def detect_stream(
    *scripts: CaseScript,
    end: datetime | None = None,
    rulebook: Rulebook | None = None,
    extra: tuple[ev.Event, ...] = (),
) -> DetectResult:
    """Run the scripted cases (plus ``extra`` events) through a fresh engine.

    The stream has one source (department D1's system), so nothing could confirm its jumps
    over nights and days; it is replayed as an export taken at its last event (see
    :func:`replay`).
    """
    events = stream(*scripts, end=end) + list(extra)
    events.sort(key=lambda e: e.ts)
    return replay(events, rulebook or Rulebook.default())


def replay(events: list[ev.Event], rulebook: Rulebook | None = None) -> DetectResult:
    """``detect`` with the export's end (its newest event time) as the reference clock."""
    return detect(events, rulebook, reference=max(e.ts for e in events))


def keys(alerts: list[Alert]) -> set[tuple[str, str, str, datetime]]:
    """(rule, level, subject, ts) of each alert: what the tests pin down exactly."""
    return {(a.rule, a.level, a.subject, a.ts) for a in alerts}
