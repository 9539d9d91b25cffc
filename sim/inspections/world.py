"""``simulate_inspections``: the inspections layer of a hall run, as SimPy processes.

Each visit is one process: the group arrives unannounced (``inspection.performed``), records its
findings (``inspection.finding``, naming the unit in the bulletin or not), and each finding with a
rectification notice starts a process of its own: the notice (``inspection.rectification_issued``,
with its working-day deadline), then the verification of the rectification
(``inspection.rectification_verified``). A visit whose findings got no notice may be followed
by a supervision suggestion (``inspection.suggestion_issued``). A named visit may start a
follow-up: the same unit visited and named again some months later (within twelve months: a
violation; thirteen months later: a look-alike). Injected lateness and the look-alikes are
placed against the deadline on the run's calendar, so the stream carries exactly the situation
the truth records.

The layer has its own generators, spawned from the scenario seed under a key of their own
(:data:`STREAM_KEY`), so adding the section changes nothing in the hall's or the complaints'
events and truth.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import simpy

from engine.contract.calendar import WorkingCalendar
from engine.contract.events import (
    Event,
    InspectionFinding,
    InspectionPerformed,
    RectificationIssued,
    RectificationVerified,
    SupervisionSuggested,
)
from sim.common.clock import SimClock
from sim.common.hall_model import HallModel
from sim.common.sections.inspections import Inspections
from sim.common.truth import Episode
from sim.inspections.draws import Finding, Visit, draw_visits
from sim.inspections.truth import add_months, inspection_truth

__all__ = ["STREAM_KEY", "InspectionWorld", "inspection_rng", "simulate_inspections"]

#: Spawn key of the inspections layer's generator under the scenario seed; far above the keys the
#: hall world spawns and apart from the complaints layer's (1801).
STREAM_KEY = 1811

_HALF_HOUR = 1800.0


def inspection_rng(seed: int) -> np.random.Generator:
    """The layer's generator: the scenario seed's child under :data:`STREAM_KEY`."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STREAM_KEY,)))


@dataclass(slots=True)
class InspectionWorld:
    events: list[Event]
    truth: list[Episode]
    stats: dict[str, int] = field(default_factory=dict)


class _Flow:
    """The SimPy side of one hall's inspections: one process per visit and per notice."""

    def __init__(self, env: simpy.Environment, clock: SimClock, spec: Inspections, out: list[Event]) -> None:
        self.env = env
        self.clock = clock
        self.spec = spec
        self.out = out
        self.day = float(clock.day_seconds)
        #: follow-up visits started, by kind, and the kind of each follow-up visit id
        self.follow_ups: dict[str, str] = {}

    def _emit(self, v: Visit, make: Callable[..., Event], event_id: str, **fields: object) -> None:
        """Record one event of visit ``v`` at the current instant."""
        self.out.append(
            make(
                event_id=event_id,
                ts=self.clock.dt(self.env.now),
                hall_id=v.hall_id,
                inspection_id=v.visit_id,
                department_id=v.department_id,
                **fields,
            )
        )

    def _recorder(self, v: Visit) -> Callable[..., None]:
        """Records the visit's events numbered in the order they happen."""
        seq = [0]

        def record(make: Callable[..., Event], **fields: object) -> None:
            seq[0] += 1
            self._emit(v, make, f"{v.visit_id}.{seq[0]:02d}", **fields)

        return record

    def visit(self, v: Visit) -> simpy.events.ProcessGenerator:
        yield self.env.timeout(self.clock.until_index(self.env.now, v.at))
        record = self._recorder(v)
        record(InspectionPerformed, inspectors=v.inspectors)
        for f in v.findings:
            record(InspectionFinding, finding_id=f.finding_id, problem=f.problem, named=v.named)
            if f.notice is not None:
                self.env.process(self.notice(v, f, record))
        if v.again is not None and v.findings:
            self.env.process(self.follow_up(v))
        if v.suggestion is not None:
            self.env.process(self.suggest(v))

    def suggest(self, v: Visit) -> simpy.events.ProcessGenerator:
        """The bureau's supervision suggestion about the visit's findings that got no notice.

        Its event id is the visit's with ``.S`` rather than the next of the visit's sequence, so
        a scenario that adds suggestions renumbers none of the other events."""
        assert v.suggestion is not None
        delay, findings = v.suggestion
        yield self.env.timeout(self.clock.delay(self.env.now, delay * self.day))
        sid = f"{v.visit_id}-S"
        self._emit(v, SupervisionSuggested, f"{v.visit_id}.S", suggestion_id=sid, finding_ids=tuple(findings))

    def notice(self, v: Visit, f: Finding, record: Callable[..., None]) -> simpy.events.ProcessGenerator:
        assert f.notice is not None
        delay, u, kind = f.notice
        clock, spec = self.clock, self.spec
        yield self.env.timeout(clock.delay(self.env.now, delay * self.day))
        record(
            RectificationIssued,
            rectification_id=f"{f.finding_id}-N",
            finding_id=f.finding_id,
            deadline_days=spec.deadline_days,
        )
        limit = clock.index(self.env.now) + spec.deadline_days * self.day
        if kind == "overdue":
            late = spec.misconduct.late_days
            x = limit + (late.min + u * (late.max - late.min)) * self.day
        elif kind == "last_day":
            m = spec.lookalikes.closing_minutes
            x = limit - (m.min + u * (m.max - m.min)) * 60.0
        else:
            share = spec.rectify_share
            x = (
                clock.index(self.env.now)
                + (share.min + u * (share.max - share.min)) * spec.deadline_days * self.day
            )
        yield self.env.timeout(clock.until_index(self.env.now, x))
        record(
            RectificationVerified,
            rectification_id=f"{f.finding_id}-N",
            rectified=True,
            verified_by=v.inspectors[0],
        )

    def follow_up(self, v: Visit) -> simpy.events.ProcessGenerator:
        assert v.again is not None
        kind, days = v.again
        now = self.clock.dt(self.env.now)
        when = add_months(now, 13) if kind == "named_after_13_months" else now + timedelta(days=days)
        if when >= self.clock.end:
            return
        x = self.clock.calendar.to_index(when) + _HALF_HOUR  # within the working day it falls in or after
        yield self.env.timeout(self.clock.until_index(self.env.now, x))
        again = Visit(f"{v.visit_id}R", v.hall_id, v.department_id, x, v.inspectors, [], True, kind)
        self.follow_ups[again.visit_id] = kind
        record = self._recorder(again)
        record(InspectionPerformed, inspectors=again.inspectors)
        record(
            InspectionFinding, finding_id=f"{again.visit_id}-F1", problem=v.findings[0].problem, named=True
        )


def simulate_inspections(
    spec: Inspections,
    halls: list[HallModel],
    calendar: WorkingCalendar,
    start: datetime,
    end: datetime,
    rng: np.random.Generator,
) -> InspectionWorld:
    """Inspection events and truth for ``halls`` over the run ``[start, end)``."""
    # the third child is new: spawning it leaves the first two (and their draws) as they were
    r_natural, r_misconduct, r_suggestions = rng.spawn(3)
    clock = SimClock(calendar, start, end)
    env = simpy.Environment()
    out: list[Event] = []
    flow = _Flow(env, clock, spec, out)
    kinds: dict[str, str] = {}
    n_visits = 0
    for hall in halls:
        visits = draw_visits(spec, hall, calendar, start, end, r_natural, r_misconduct, r_suggestions)
        for v in visits:
            env.process(flow.visit(v))
            for f in v.findings:
                if f.notice is not None and f.notice[2] is not None:
                    kinds[f"{f.finding_id}-N"] = f.notice[2]
        n_visits += len(visits)
    horizon = clock.at(end)
    while env.peek() < horizon:
        env.step()
    events = sorted(out, key=lambda e: (e.ts, e.event_id))
    truth = inspection_truth(events, calendar, end, spec.truth, kinds, flow.follow_ups)
    stats: Counter[str] = Counter({"inspections.visits": n_visits})
    stats.update(f"events.{type(e).__struct_config__.tag}" for e in events)
    stats.update(f"truth.{ep.kind}" for ep in truth)
    return InspectionWorld(events=events, truth=truth, stats=dict(sorted(stats.items())))
