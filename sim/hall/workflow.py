"""The fixed flow of one case as a SimPy process, with its misconduct woven in.

Staff are pooled per department behind ``simpy.Resource`` s: the windows (capacity = the
number of windows) and each back-office post (capacity = its staff). SimPy does the
queueing; a deque beside each resource names the person who serves (the resource
guarantees one is free). Back-office staff hold a case only for its hands-on handling
time, then it waits in their tray for the rest of the step, so a post's capacity bounds its
throughput without pretending a reviewer works on one file for days.

A promised case: submitted → (online intake) → window → accepted → steps (started,
completed) → decision delay → decide post → decided → certificate → fee → closed. An
instant case is accepted and decided at the window by the same clerk. The one injected
kind of the case (if any) bends this flow exactly as the shared vocabulary defines it.

These generators run once per kernel event, so they are written for that: the case's
draws are read from plain lists, waits go through the clock's day table (no ``datetime``
until a record is stamped), and the checks that only injected cases need are skipped for
the ~98 % of cases that carry no kind.
"""

from __future__ import annotations

from engine.contract.events import StepCompleted
from sim.common.hall_model import StaffModel
from sim.common.scenario_types import DECIDE_POST
from sim.hall.case import Case, lerp, pick
from sim.hall.case_events import CaseEvents, Proc

__all__ = ["Workflow"]

#: Kinds that need an approval to show (a fee, a certificate): such cases are never rejected.
_FORCE_APPROVE = frozenset({"excess_fee", "fee_on_fee_item", "certificate_without_approval"})
#: Kinds that set the case's timing themselves: natural overruns and suspensions stay off.
_OWN_TIMING = frozenset(
    {"slow_walking", "illegal_suspension", "legal_suspension", "closed_just_before_deadline"}
)


class Workflow(CaseEvents):
    """Runs cases through the fixed flow and records what they leave behind."""

    # --- instant cases ----------------------------------------------------------------

    def instant(self, c: Case) -> Proc:
        env, clock, i = self.env, self.clock, c.i
        delay = clock.delay
        self.submit(c)
        if c.online:
            yield env.timeout(delay(env.now, self.intake_s[i]))
        desk = c.desks.windows
        req = desk.resource.request()
        yield req
        clerk = c.clerk = desk.free.popleft()
        yield env.timeout(delay(env.now, self.accept_s[i]))
        kind = c.kind
        approve = self.approve[i] or kind in _FORCE_APPROVE
        if kind == "decision_before_acceptance":
            ts = clock.dt(env.now)
            self.decide(c, clerk, True, ts)
            self.rec.violation(c, "decision_before_acceptance", ts, clerk.id)
            yield env.timeout(delay(env.now, self.instant_s[i]))
            self.accept(c, clerk, "instant")
        else:
            self.accept(c, clerk, "instant")
            yield env.timeout(delay(env.now, self.instant_s[i]))
            if kind is not None:
                self.certificate_first(c, clerk)
            self.decide(c, clerk, approve, clock.dt(env.now))
        desk.free.append(clerk)
        desk.resource.release(req)
        self.finish(c, approve)

    # --- promised cases ---------------------------------------------------------------

    def promised(self, c: Case) -> Proc:
        env, clock, i, item = self.env, self.clock, c.i, c.item
        delay, timeout = clock.delay, env.timeout
        kind, day_s = c.kind, clock.day_seconds
        self.submit(c)
        if c.online:
            yield timeout(delay(env.now, self.intake_s[i]))
        desk = c.desks.windows
        req = desk.resource.request()
        yield req
        clerk = c.clerk = desk.free.popleft()
        yield timeout(delay(env.now, self.accept_s[i]))
        desk.free.append(clerk)
        desk.resource.release(req)
        shape = self.shape[i]
        acceptor = pick(c.desks.dept.approvers, shape[2]) if kind == "same_person_accept_approve" else clerk
        self.accept(c, acceptor, "promised")
        accept_x = clock.index(env.now)

        if kind is None:
            order, late_step, slow_step = list(range(len(item.steps))), -1, -1
        else:
            order, late_step, slow_step = self.step_order(c)
        natural = kind not in _OWN_TIMING
        susp_days = self.suspend_days[i] if natural else 0.0
        if kind == "legal_suspension":
            susp_days = lerp(self.injection.legal_suspension_days, shape[3])
        susp_pos = min(int(self.suspend_u[i] * len(order)), len(order) - 1) if susp_days and order else -1
        fraction, overrun, handling = self.fraction[i], self.overrun_days[i], self.handling_s[i]
        posts, steps, emit, eid = c.desks.posts, item.steps, self.emit, self.eid
        stated = c.stated_target.startswith("step:")  # only then can a step record be falsified
        last = acceptor
        for pos, k in enumerate(order):
            step = steps[k]
            post = posts[step.post]
            req = post.resource.request()
            yield req
            worker = post.free.popleft()
            self.step_started(c, step.name, step.post, worker)
            limit_s = step.limit_days * day_s
            if k == slow_step:
                dur = limit_s + lerp(self.injection.slow_walking_days, shape[1]) * day_s
            elif natural and overrun[k]:
                dur = limit_s + overrun[k] * day_s
            else:
                dur = fraction[k] * limit_s
            hand = handling[k] if handling[k] < dur else dur
            yield timeout(delay(env.now, hand))
            post.free.append(worker)
            post.resource.release(req)
            if pos == susp_pos:
                yield from self.suspend(c, worker, susp_days, legal=True)
            if dur > hand:
                yield timeout(delay(env.now, dur - hand))
            done = clock.dt(env.now)
            emit(
                StepCompleted(
                    event_id=eid(c),
                    ts=done,
                    hall_id=c.hall_id,
                    case_id=c.id,
                    department_id=c.department_id,
                    step=step.name,
                    post=step.post,
                    staff_id=worker.id,
                    stated_at=self.stated(c, f"step:{step.name}", done, worker) if stated else None,
                )
            )
            if k == late_step:
                self.rec.violation(c, "steps_out_of_order", done, worker.id, step=step.name)
            last = worker
        if susp_days and not order:
            yield from self.suspend(c, last, susp_days, legal=True)
        if kind == "illegal_suspension":  # near the deadline, to hide that the case runs late
            lead = lerp(self.injection.illegal_suspension_lead_days, shape[3]) * day_s
            target = accept_x + item.promised_days * day_s - lead
            if clock.index(env.now) < target:
                yield timeout(clock.until_index(env.now, target))
            yield from self.suspend(
                c, last, lerp(self.injection.illegal_suspension_days, shape[1]), legal=False
            )
        yield from self.decision(c, acceptor, accept_x)

    def decision(self, c: Case, acceptor: StaffModel, accept_x: float) -> Proc:
        env, clock, i, kind = self.env, self.clock, c.i, c.kind
        yield env.timeout(clock.delay(env.now, self.decision_s[i]))
        approve = self.approve[i] or kind in _FORCE_APPROVE
        if kind is not None:
            self.certificate_first(c, acceptor)
        desk = c.desks.posts[DECIDE_POST]
        req = desk.resource.request()
        yield req
        approver = desk.free.popleft()
        yield env.timeout(clock.delay(env.now, self.approver_s[i]))
        desk.free.append(approver)
        desk.resource.release(req)
        if kind is None:
            self.decide(c, approver, approve, clock.dt(env.now))
            self.finish(c, approve)
            return
        shape, dept = self.shape[i], c.desks.dept
        if kind == "same_person_accept_approve":
            approver = acceptor
        elif kind == "unauthorised_approval":
            approver = pick(dept.back_office, shape[2])
        elif kind == "authorised_reassignment":
            approver = pick(dept.leaders, shape[2])
        just_in_time = None
        if kind == "closed_just_before_deadline":
            deadline_x = accept_x + c.item.promised_days * clock.day_seconds
            target = deadline_x - round(lerp(self.injection.closing_minutes, shape[1]) * 60)
            if clock.index(env.now) < target:
                yield env.timeout(clock.until_index(env.now, target))
                just_in_time = deadline_x
        ts = clock.dt(env.now)
        self.decide(c, approver, approve, ts)
        if kind == "same_person_accept_approve" or kind == "unauthorised_approval":
            self.rec.violation(c, kind, ts, approver.id)
        elif kind == "skipped_step":
            self.rec.violation(c, kind, ts, approver.id, step=c.skipped)
        elif kind == "authorised_reassignment":
            self.rec.lookalike(c, "authorised_reassignment", ts, approver.id)
        self.finish(c, approve)
        if just_in_time is not None:
            deadline = clock.calendar.from_index(just_in_time, latest=True)
            margin = just_in_time - clock.index(env.now)
            clerk_id = c.clerk.id if c.clerk else None
            self.rec.lookalike(
                c, "closed_just_before_deadline", ts, clerk_id, deadline=deadline.isoformat(), margin_s=margin
            )

    def step_order(self, c: Case) -> tuple[list[int], int, int]:
        """Catalogue step indices in the order they are done, the step completed out of order
        (or -1) and the slow-walked step (or -1)."""
        n = len(c.item.steps)
        order = list(range(n))
        u = self.shape[c.i][2]
        late = slow = -1
        if c.kind == "skipped_step":
            c.skipped = c.item.steps[order.pop(min(int(u * n), n - 1))].name
        elif c.kind == "steps_out_of_order":
            k = min(int(u * (n - 1)), n - 2)
            order[k], order[k + 1] = order[k + 1], order[k]
            late = k
        elif c.kind == "slow_walking":
            slow = min(int(u * n), n - 1)
            self.rec.injected("slow_walking")
        return order, late, slow
