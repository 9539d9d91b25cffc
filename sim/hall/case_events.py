"""The records a case leaves behind: one method per kind of event, plus the record-level
misconduct (back-dated ``stated_at``, excess fees, certificates without approval).

Event ids are ``<case_id>.<nn>`` with ``nn`` counting the case's records in the order they
are made, so events of one case that share a timestamp still sort in protocol order.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
import simpy

from engine.contract.events import (
    CaseAccepted,
    CaseClosed,
    CaseDecided,
    CaseResumed,
    CaseSubmitted,
    CaseSuspended,
    CertificateIssued,
    Event,
    FeeCharged,
    StepStarted,
)
from sim.common.clock import SimClock
from sim.common.hall_model import StaffModel
from sim.common.scenario_types import Injection
from sim.hall.case import Case, lerp
from sim.hall.draws import CaseDraws
from sim.hall.recorder import Recorder

__all__ = ["CaseEvents", "Proc"]

Proc = Generator[simpy.Event, Any, None]

#: ``f"{n:02d}"`` for the sequence numbers a case reaches (formatting each was a hot spot).
_SEQ = tuple(f"{n:02d}" for n in range(100))


class CaseEvents:
    """How each kind of record is made; shared by the instant and promised flows."""

    def __init__(
        self,
        env: simpy.Environment,
        clock: SimClock,
        draws: CaseDraws,
        injection: Injection,
        recorder: Recorder,
    ) -> None:
        self.env = env
        self.clock = clock
        self.draws = draws
        self.injection = injection
        self.rec = recorder
        self._events = recorder.events
        # The columns the flow reads, as Python lists: a scalar read from a list is several
        # times cheaper than from a numpy array, and the loop makes a dozen per case.
        self.accept_s: list[float] = np.asarray(draws.accept_s).tolist()
        self.instant_s: list[float] = np.asarray(draws.instant_s).tolist()
        self.intake_s: list[float] = np.asarray(draws.intake_s).tolist()
        self.decision_s: list[float] = np.asarray(draws.decision_s).tolist()
        self.approver_s: list[float] = np.asarray(draws.approver_s).tolist()
        self.handling_s: list[list[float]] = np.asarray(draws.handling_s).tolist()
        self.fraction: list[list[float]] = np.asarray(draws.fraction).tolist()
        self.overrun_days: list[list[float]] = np.asarray(draws.overrun_days).tolist()
        self.suspend_days: list[float] = np.asarray(draws.suspend_days).tolist()
        self.suspend_u: list[float] = np.asarray(draws.suspend_u).tolist()
        self.approve: list[bool] = np.asarray(draws.approve).tolist()
        self.shape: list[list[float]] = np.asarray(draws.shape).tolist()

    def eid(self, c: Case) -> str:
        c.seq = seq = c.seq + 1
        return c.prefix + (_SEQ[seq] if seq < 100 else str(seq))

    def emit(self, event: Event) -> None:
        self._events.append(event)

    def submit(self, c: Case) -> None:
        if c.kind in ("backdated", "stated_time_within_tolerance"):
            targets = ["accepted", *(f"step:{s.name}" for s in c.item.steps), "decided"]
            c.stated_target = targets[min(int(self.shape[c.i][0] * len(targets)), len(targets) - 1)]
        self.emit(
            CaseSubmitted(
                event_id=self.eid(c),
                ts=self.clock.dt(self.env.now),
                hall_id=c.hall_id,
                case_id=c.id,
                department_id=c.department_id,
                item_id=c.item_id,
                channel="online" if c.online else "window",
                case_type="instant" if c.item.instant else "promised",
                applicant=c.applicant,
            )
        )

    def stated(self, c: Case, record: str, ts: datetime, staff: StaffModel) -> datetime | None:
        """The ``stated_at`` of a record: ``None`` unless this is the case's falsified record."""
        if record != c.stated_target:
            return None
        u = self.shape[c.i][1]
        if c.kind == "backdated":
            hours = lerp(self.injection.backdate_hours, u)
            stated = self.clock.shift_working(ts, round(hours * 3600))
            self.rec.violation(c, "backdated", ts, staff.id, record=record, stated_at=stated.isoformat())
        else:
            minutes = lerp(self.injection.tolerance_minutes, u)
            stated = ts - timedelta(seconds=round(minutes * 60))
            self.rec.lookalike(
                c, "stated_time_within_tolerance", ts, staff.id, record=record, stated_at=stated.isoformat()
            )
        return stated

    def accept(self, c: Case, staff: StaffModel, case_type: Literal["instant", "promised"]) -> datetime:
        ts = self.clock.dt(self.env.now)
        clerk = c.clerk
        window = None if c.online or clerk is None else clerk.window_id
        self.emit(
            CaseAccepted(
                event_id=self.eid(c),
                ts=ts,
                hall_id=c.hall_id,
                case_id=c.id,
                department_id=c.department_id,
                item_id=c.item_id,
                staff_id=staff.id,
                case_type=case_type,
                window_id=window,
                stated_at=self.stated(c, "accepted", ts, staff),
            )
        )
        return ts

    def step_started(self, c: Case, step: str, post: str, worker: StaffModel) -> None:
        self.emit(
            StepStarted(
                event_id=self.eid(c),
                ts=self.clock.dt(self.env.now),
                hall_id=c.hall_id,
                case_id=c.id,
                department_id=c.department_id,
                step=step,
                post=post,
                staff_id=worker.id,
            )
        )

    def decide(self, c: Case, approver: StaffModel, approve: bool, ts: datetime) -> None:
        self.emit(
            CaseDecided(
                event_id=self.eid(c),
                ts=ts,
                hall_id=c.hall_id,
                case_id=c.id,
                department_id=c.department_id,
                approver_id=approver.id,
                decision="approve" if approve else "reject",
                stated_at=self.stated(c, "decided", ts, approver),
            )
        )

    def suspend(self, c: Case, staff: StaffModel, days: float, *, legal: bool) -> Proc:
        """Suspend the clock for ``days`` working days: legally (补正, with a notice) or not."""
        ts = self.clock.dt(self.env.now)
        u = self.shape[c.i][0]
        if legal:
            reasons = ("supplement", "supplement", "expert_review", "inspection", "testing", "hearing")
            reason, notice = reasons[min(int(u * len(reasons)), len(reasons) - 1)], f"{c.id}-BZ"
        else:
            choices = self.injection.illegal_reasons
            reason, notice = choices[min(int(u * len(choices)), len(choices) - 1)], None
        self.emit(
            CaseSuspended(
                event_id=self.eid(c),
                ts=ts,
                hall_id=c.hall_id,
                case_id=c.id,
                department_id=c.department_id,
                reason=reason,
                staff_id=staff.id,
                notice_id=notice,
            )
        )
        if not legal:
            self.rec.violation(c, "illegal_suspension", ts, staff.id, reason=reason, days=days)
        elif c.kind == "legal_suspension":
            self.rec.lookalike(
                c, "legal_suspension", ts, staff.id, reason=reason, notice_id=notice, days=days
            )
        yield self.env.timeout(self.clock.delay(self.env.now, days * self.clock.day_seconds))
        self.emit(
            CaseResumed(
                event_id=self.eid(c),
                ts=self.clock.dt(self.env.now),
                hall_id=c.hall_id,
                case_id=c.id,
                department_id=c.department_id,
                staff_id=staff.id,
            )
        )

    def certificate_first(self, c: Case, staff: StaffModel) -> None:
        """``certificate_without_approval``: the certificate is printed before any decision."""
        if c.kind != "certificate_without_approval":
            return
        ts = self.clock.dt(self.env.now)
        self.emit(
            CertificateIssued(
                event_id=self.eid(c),
                ts=ts,
                hall_id=c.hall_id,
                case_id=c.id,
                department_id=c.department_id,
                certificate_no=f"{c.id}-Z",
                staff_id=staff.id,
            )
        )
        self.rec.violation(c, "certificate_without_approval", ts, staff.id)

    def finish(self, c: Case, approve: bool) -> None:
        """Certificate, fee and closure: the applicant collects the result at the window."""
        ts = self.clock.dt(self.env.now)
        clerk = c.clerk
        assert clerk is not None
        hall, case, dept = c.hall_id, c.id, c.department_id
        if approve and c.item.issues_certificate and c.kind != "certificate_without_approval":
            self.emit(
                CertificateIssued(
                    event_id=self.eid(c),
                    ts=ts,
                    hall_id=hall,
                    case_id=case,
                    department_id=dept,
                    certificate_no=f"{case}-Z",
                    staff_id=clerk.id,
                )
            )
        if approve:
            amount = self.fee_amount(c)
            if amount is not None:
                self.emit(
                    FeeCharged(
                        event_id=self.eid(c),
                        ts=ts,
                        hall_id=hall,
                        case_id=case,
                        department_id=dept,
                        amount=amount,
                        staff_id=clerk.id,
                    )
                )
                if c.kind == "excess_fee":
                    self.rec.violation(
                        c, "excess_fee", ts, clerk.id, amount=amount, standard=c.item.fee_standard
                    )
                elif c.kind == "fee_on_fee_item":
                    self.rec.lookalike(
                        c, "fee_on_fee_item", ts, clerk.id, amount=amount, standard=c.item.fee_standard
                    )
        self.emit(
            CaseClosed(
                event_id=self.eid(c),
                ts=ts,
                hall_id=hall,
                case_id=case,
                department_id=dept,
                staff_id=clerk.id,
                outcome="approved" if approve else "rejected",
            )
        )

    def fee_amount(self, c: Case) -> float | None:
        std = c.item.fee_standard
        u = self.shape[c.i][1]
        if c.kind == "excess_fee":
            if std > 0:
                return max(round(std * lerp(self.injection.excess_factor, u), 2), round(std + 1.0, 2))
            return max(round(lerp(self.injection.free_item_fee, u), 1), 1.0)
        if std <= 0:
            return None
        if c.kind == "fee_on_fee_item" and u >= 0.5:  # a reduced fee (减免) half the time
            return math.floor(std * u * 100) / 100
        return std
