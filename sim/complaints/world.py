"""``simulate_complaints``: the complaints layer of a hall run, as SimPy processes.

Each complaint is one process: received on its channel → classified (category, unit, the
official it names) → assigned to the unit → answered with a finding → feedback to the
complainant → closed; a dissatisfied complainant's complaint may be reopened once, which
starts a second handling round (a new hand-off, answer and feedback). Injected misconduct
(a late answer, late feedback, no feedback at all) and the look-alikes (a late answer
covered by an approved extension, an answer or feedback on the last allowed minutes) are
placed against the limits of the section's ``truth``, on the run's calendar, so the stream
carries exactly the situation the truth records.

The layer has its own generators, spawned from the scenario seed under a key of their own
(:data:`STREAM_KEY`), so adding the section changes nothing in the hall's events or truth.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import simpy

from engine.contract.calendar import WorkingCalendar
from engine.contract.events import (
    ComplaintAnswered,
    ComplaintAssigned,
    ComplaintClassified,
    ComplaintClosed,
    ComplaintExtended,
    ComplaintFeedbackGiven,
    ComplaintReceived,
    ComplaintReopened,
    Event,
)
from sim.common.clock import SimClock
from sim.common.hall_model import HallModel
from sim.common.sections.complaints import Complaints
from sim.common.truth import Episode
from sim.complaints.arrivals import draw_arrivals
from sim.complaints.draws import ComplaintDraws, draw_complaints, problem_officials
from sim.complaints.from_hall import PREFIX, hall_caused
from sim.complaints.truth import complaint_truth

__all__ = ["STREAM_KEY", "ComplaintWorld", "complaint_rng", "simulate_complaints"]

#: Spawn key of the complaints layer's generator under the scenario seed; far above the keys
#: the hall world spawns (0, 1, 2...), so neither world's draws move when the other changes.
STREAM_KEY = 1801

_EXTENSION_REASON = "site_investigation"


def complaint_rng(seed: int) -> np.random.Generator:
    """The layer's generator: the scenario seed's child under :data:`STREAM_KEY`."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STREAM_KEY,)))


@dataclass(slots=True)
class ComplaintWorld:
    events: list[Event]
    truth: list[Episode]
    stats: dict[str, int] = field(default_factory=dict)


class _Flow:
    """The SimPy side of one hall's complaints: a door process and one process per complaint."""

    def __init__(
        self,
        env: simpy.Environment,
        clock: SimClock,
        spec: Complaints,
        hall: HallModel,
        draws: ComplaintDraws,
        out: list[Event],
        prefix: str = "K",
    ) -> None:
        self.env = env
        self.clock = clock
        self.spec = spec
        self.hall = hall
        self.draws = draws
        self.out = out
        self.prefix = prefix
        self.day = float(clock.day_seconds)

    def door(self, arrivals: list[tuple[int, str]]) -> simpy.events.ProcessGenerator:
        for i, (t, channel) in enumerate(arrivals):
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            self.env.process(self.complaint(i, channel))

    def complaint(self, i: int, channel: str) -> simpy.events.ProcessGenerator:
        env, clock, d = self.env, self.clock, self.draws
        cid = f"{self.hall.id}-{self.prefix}{i + 1:06d}"
        seq = [0]

        def record(make: Callable[..., Event], **fields: object) -> None:
            seq[0] += 1
            out = make(
                event_id=f"{cid}.{seq[0]:02d}",
                ts=clock.dt(env.now),
                hall_id=self.hall.id,
                complaint_id=cid,
                **fields,
            )
            self.out.append(out)

        def wait_working(seconds: float) -> simpy.Timeout:
            return env.timeout(clock.delay(env.now, seconds))

        def wait_until_index(x: float) -> simpy.Timeout:
            return env.timeout(clock.until_index(env.now, x))

        target, kind, shape = d.targets[i], d.kind[i], d.shape[i]
        truth = self.spec.truth
        late = self.spec.misconduct.late_days
        lk = self.spec.lookalikes
        record(ComplaintReceived, channel=channel)
        yield wait_working(d.classify_s[i])
        record(
            ComplaintClassified,
            category=d.category[i],
            department_id=target.department_id,
            staff_id=target.staff_id,
        )
        yield wait_working(d.assign_s[i])
        for rnd in (0, 1):
            record(ComplaintAssigned, department_id=target.department_id)
            limit = clock.index(env.now) + truth.answer_days * self.day
            first = rnd == 0
            if first and kind == "late_answer":
                yield wait_until_index(limit + (late.min + shape[0] * (late.max - late.min)) * self.day)
            elif first and kind == "extended":
                yield wait_working((0.3 + 0.5 * shape[1]) * truth.answer_days * self.day)
                extra = lk.extension_days.min + shape[0] * (lk.extension_days.max - lk.extension_days.min)
                record(
                    ComplaintExtended,
                    extra_days=round(extra, 3),
                    reason=_EXTENSION_REASON,
                    approved_by=f"{self.hall.id}-SUP",
                )
                yield wait_until_index(limit + (0.2 + 0.6 * shape[2]) * round(extra, 3) * self.day)
            elif first and kind == "last_day_answer":
                yield wait_until_index(limit - self._closing(shape[0]))
            else:
                yield wait_working(d.answer_s[i][rnd])
            staff = target.staff_id or self._answerer(target.department_id)
            record(
                ComplaintAnswered, department_id=target.department_id, staff_id=staff, finding=d.finding[i]
            )
            fb_limit = clock.index(env.now) + truth.feedback_days * self.day
            if first and kind == "no_feedback":
                yield wait_until_index(fb_limit + (late.min + shape[0] * (late.max - late.min)) * self.day)
                record(ComplaintClosed, outcome="resolved")
                return
            if first and kind == "late_feedback":
                yield wait_until_index(fb_limit + (late.min + shape[0] * (late.max - late.min)) * self.day)
            elif first and kind == "last_day_feedback":
                yield wait_until_index(fb_limit - self._closing(shape[0]))
            else:
                yield wait_working(d.feedback_s[i][rnd])
            satisfied = d.satisfied[i] or not first
            record(ComplaintFeedbackGiven, via=channel, satisfied=satisfied)
            if satisfied or not d.reopen[i]:
                break
            yield wait_working(d.reopen_s[i])
            record(ComplaintReopened, reason="complainant not satisfied")
            yield wait_working(d.assign_s[i])
        yield wait_working(d.close_s[i])
        record(ComplaintClosed, outcome="resolved")

    def _closing(self, u: float) -> float:
        m = self.spec.lookalikes.closing_minutes
        return (m.min + u * (m.max - m.min)) * 60.0

    def _answerer(self, department_id: str) -> str:
        """Who signs a unit's answer when no official is named: its first leader (or first staff member)."""
        dept = next(d for d in self.hall.departments if d.id == department_id)
        people = dept.leaders or dept.staff()
        return people[0].id


def simulate_complaints(
    spec: Complaints,
    halls: list[HallModel],
    calendar: WorkingCalendar,
    start: datetime,
    end: datetime,
    days: int,
    rng: np.random.Generator,
    hall_truth: list[Episode] | None = None,
) -> ComplaintWorld:
    """Complaint events and truth for ``halls`` over the run ``[start, end)``.

    ``hall_truth`` (the hall world's episodes) is read only when the section has ``from_hall``:
    the slow-walked and overdue cases whose applicants then complain (:mod:`sim.complaints.from_hall`).
    """
    r_arrivals, r_natural, r_misconduct = rng.spawn(3)
    fh = spec.from_hall
    r_hall = rng.spawn(1)[0] if fh is not None else None
    clock = SimClock(calendar, start, end)
    env = simpy.Environment()
    out: list[Event] = []
    kinds: dict[str, str] = {}
    problems: set[str] = set()
    caused: dict[str, Episode] = {}
    n = 0
    for hall in halls:
        arrivals = draw_arrivals(spec, clock, days, r_arrivals)
        hall_problems = problem_officials(hall, spec, r_misconduct)
        problems |= hall_problems
        draws = draw_complaints(
            spec, hall, len(arrivals), hall_problems, float(clock.day_seconds), r_natural, r_misconduct
        )
        kinds.update({f"{hall.id}-K{i + 1:06d}": k for i, k in enumerate(draws.kind) if k is not None})
        env.process(_Flow(env, clock, spec, hall, draws, out).door(arrivals))
        n += len(arrivals)
        if fh is not None and r_hall is not None:
            hc = hall_caused(spec, fh, hall, hall_truth or [], clock, hall_problems, r_hall.spawn(1)[0])
            ids = [f"{hall.id}-{PREFIX}{i + 1:06d}" for i in range(len(hc.arrivals))]
            kinds.update({cid: k for cid, k in zip(ids, hc.draws.kind, strict=True) if k is not None})
            caused.update(zip(ids, hc.causes, strict=True))
            env.process(_Flow(env, clock, spec, hall, hc.draws, out, PREFIX).door(hc.arrivals))
            n += len(hc.arrivals)
    horizon = clock.at(end)
    while env.peek() < horizon:
        env.step()
    events = sorted(out, key=lambda e: (e.ts, e.event_id))
    truth = complaint_truth(events, calendar, end, spec.truth, kinds, problems, caused)
    stats: Counter[str] = Counter({"complaints": n, "complaints.problem_officials": len(problems)})
    if fh is not None:
        stats["complaints.from_hall"] = len(caused)
    stats.update(f"events.{type(e).__struct_config__.tag}" for e in events)
    stats.update(f"truth.{ep.kind}" for ep in truth)
    return ComplaintWorld(events=events, truth=truth, stats=dict(sorted(stats.items())))
