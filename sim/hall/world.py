"""``simulate``: one scenario and one seed in, one time-ordered stream and its truth out.

The world is built in a fixed order from one ``numpy.random.default_rng(seed)`` whose
children serve separate concerns (catalogue and staff, arrivals, natural service times,
misconduct), so the same scenario and seed always give byte-identical events and truth,
and changing, say, a misconduct rate does not reshuffle the arrivals.

The stream opens with the reference data at the start (``item.published``,
``staff.authorised``), carries the cases, a ``source.heartbeat`` per hall at the end of
each working day, and ends with one heartbeat per hall at the horizon, so that an
event-time engine's timers can fire up to the very end of the run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import simpy

from engine.contract.calendar import WorkingCalendar
from engine.contract.events import Event, SourceHeartbeat
from sim.common.clock import SimClock
from sim.common.hall_model import HallModel, build_halls
from sim.common.result import SimResult
from sim.common.scenario import Scenario
from sim.common.truth import Episode
from sim.hall.arrivals import Arrivals, draw_arrivals
from sim.hall.case import Case, DeptDesks
from sim.hall.draws import draw_cases
from sim.hall.misconduct import KindTable
from sim.hall.recorder import Recorder
from sim.hall.timing_truth import timing_episodes
from sim.hall.workflow import Workflow

__all__ = ["SimResult", "simulate"]

#: Kinds that set a case's timing on purpose: its deadline and step episodes are "injected".
_TIMING_KINDS = frozenset(
    {"slow_walking", "illegal_suspension", "legal_suspension", "closed_just_before_deadline"}
)

Progress = Callable[[int, int], None]


def simulate(scenario: Scenario, *, seed: int | None = None, progress: Progress | None = None) -> SimResult:
    """Run ``scenario`` (with ``seed``, default the scenario's own) and return the stream and truth."""
    rng = np.random.default_rng(scenario.seed if seed is None else seed)
    r_catalogue, r_arrivals, r_natural, r_misconduct, r_people = rng.spawn(5)
    calendar = scenario.build_calendar()
    start, end = scenario.horizon()
    start, end = start.astimezone(calendar.tz), end.astimezone(calendar.tz)
    clock = SimClock(calendar, start, end)
    halls = build_halls(scenario, r_catalogue)
    applicants = _applicant_pool(r_people)

    env = simpy.Environment()
    rec = Recorder()
    for hall in halls:
        rec.events.extend(hall.reference_events(start))
    case_kind: dict[str, str] = {}
    n_cases = 0
    for hall in halls:
        arrivals = draw_arrivals(
            hall,
            clock,
            profile=scenario.arrivals.hourly_profile,
            online_share=scenario.arrivals.online_share,
            rng=r_arrivals,
        )
        depts = {d.id: d for d in hall.departments}
        kinds = KindTable(scenario, hall.items, depts)
        draws = draw_cases(scenario, hall, arrivals.items, kinds, r_natural, r_misconduct)
        flow = Workflow(env, clock, draws, scenario.injection, rec)
        who = r_people.integers(0, len(applicants), size=len(arrivals)).tolist()
        env.process(
            _arrive(
                env,
                hall,
                arrivals,
                flow,
                {d: DeptDesks(env, m) for d, m in depts.items()},
                [applicants[k] for k in who],
                case_kind,
            )
        )
        n_cases += len(arrivals)

    steps = _run(env, clock, scenario.days, progress)
    _heartbeats(rec, halls, calendar, start, end)
    events = sorted(rec.events, key=lambda e: (e.ts, e.event_id))
    causes = {cid: "injected" for cid, kind in case_kind.items() if kind in _TIMING_KINDS}
    timing = timing_episodes(events, calendar, end, scenario.truth, causes)
    truth = sorted([*rec.truth, *timing], key=lambda ep: (ep.onset, ep.episode_id))
    stats = _stats(n_cases, events, truth, steps, rec.counts)
    if scenario.cameras is not None:  # a layer on the hall's output, with its own generator
        from sim.floor.cameras import simulate_cameras

        (r_cameras,) = rng.spawn(1)
        cams = simulate_cameras(scenario.cameras, halls, events, calendar, start, end, r_cameras)
        events = sorted([*events, *cams.events], key=lambda e: (e.ts, e.event_id))
        truth = sorted([*truth, *cams.truth], key=lambda ep: (ep.onset, ep.episode_id))
        stats = {**stats, **cams.stats, "events": len(events)}
    if scenario.complaints is not None:  # a layer about the hall's units, with generators of its own
        from sim.complaints.world import complaint_rng, simulate_complaints

        rng_c = complaint_rng(scenario.seed if seed is None else seed)
        comp = simulate_complaints(
            scenario.complaints, halls, calendar, start, end, scenario.days, rng_c, hall_truth=truth
        )
        events = sorted([*events, *comp.events], key=lambda e: (e.ts, e.event_id))
        truth = sorted([*truth, *comp.truth], key=lambda ep: (ep.onset, ep.episode_id))
        stats = {**stats, **comp.stats, "events": len(events)}
    if scenario.inspections is not None:  # a layer about the hall's units, with generators of its own
        from sim.inspections.world import inspection_rng, simulate_inspections

        rng_i = inspection_rng(scenario.seed if seed is None else seed)
        insp = simulate_inspections(scenario.inspections, halls, calendar, start, end, rng_i)
        events = sorted([*events, *insp.events], key=lambda e: (e.ts, e.event_id))
        truth = sorted([*truth, *insp.truth], key=lambda ep: (ep.onset, ep.episode_id))
        stats = {**stats, **insp.stats, "events": len(events)}
    if scenario.deemed is not None:  # truth for the opt-in deemed rules, and joint reviews (own generator)
        events, truth, stats = _deemed(scenario, halls, events, truth, stats, calendar, end, seed)
    return SimResult(
        events=events,
        truth=truth,
        start=start,
        end=end,
        calendar=calendar,
        stats=stats,
        staff_names={s.id: s.name for hall in halls for d in hall.departments for s in d.staff()},
    )


def _deemed(
    scenario: Scenario,
    halls: list[HallModel],
    events: list[Event],
    truth: list[Episode],
    stats: dict[str, int | float],
    calendar: WorkingCalendar,
    end: datetime,
    seed: int | None,
) -> tuple[list[Event], list[Episode], dict[str, int | float]]:
    """Add the ``deemed:`` section's truth and joint reviews (``sim.common.sections.deemed``)."""
    from sim.hall.deemed_truth import deemed_approval_episodes
    from sim.hall.joint_reviews import joint_review_rng, simulate_joint_reviews

    spec = scenario.deemed
    assert spec is not None
    extra = deemed_approval_episodes(events, calendar, end, spec.truth.approval_after_days)
    if spec.joint_review is not None:
        rng = joint_review_rng(scenario.seed if seed is None else seed)
        jr = simulate_joint_reviews(
            spec.joint_review, spec.truth.opinion_grace_days, halls, events, calendar, end, rng
        )
        events = sorted([*events, *jr.events], key=lambda e: (e.ts, e.event_id))
        extra += jr.truth
        stats = {**stats, **jr.stats}
    truth = sorted([*truth, *extra], key=lambda ep: (ep.onset, ep.episode_id))
    counts = Counter(f"truth.{ep.kind}" for ep in extra)
    return events, truth, dict(sorted({**stats, **counts, "events": len(events)}.items()))


def _arrive(
    env: simpy.Environment,
    hall: HallModel,
    arrivals: Arrivals,
    flow: Workflow,
    desks: dict[str, DeptDesks],
    applicants: list[str],
    case_kind: dict[str, str],
) -> simpy.events.ProcessGenerator:
    """The hall's door: starts one case process per arrival, in arrival order."""
    kinds = flow.draws.kind
    for i, (t, item_index, online) in enumerate(
        zip(arrivals.times, arrivals.items, arrivals.online, strict=True)
    ):
        if t > env.now:
            yield env.timeout(t - env.now)
        item = hall.items[item_index]
        c = Case(f"{hall.id}-C{i + 1:07d}", hall.id, item, desks[item.department_id], i, online, kinds[i])
        c.applicant = applicants[i]
        if c.kind is not None:
            case_kind[c.id] = c.kind
        env.process(flow.instant(c) if item.instant else flow.promised(c))


def _run(env: simpy.Environment, clock: SimClock, days: int, progress: Progress | None) -> int:
    """Step the kernel up to the horizon; report each completed day. Returns events processed."""
    horizon = clock.at(clock.end)
    step, peek = env.step, env.peek
    done = 0
    processed = 0
    next_day = 86400
    while (t := peek()) < horizon:
        while progress is not None and t >= next_day and done < days:
            done += 1
            progress(done, days)
            next_day += 86400
        step()
        processed += 1
    while progress is not None and done < days:
        done += 1
        progress(done, days)
    return processed


def _heartbeats(
    rec: Recorder, halls: list[HallModel], cal: WorkingCalendar, start: datetime, end: datetime
) -> None:
    close = cal.periods[-1][1]
    day = start.date()
    while day < end.date():
        if cal.is_working_day(day):
            ts = datetime.combine(day, close, tzinfo=cal.tz)
            if start <= ts < end:
                rec.events.extend(
                    SourceHeartbeat(
                        event_id=f"hb-{h.id}-{day:%Y%m%d}", ts=ts, source_id=f"{h.id}-approvals", hall_id=h.id
                    )
                    for h in halls
                )
        day += timedelta(days=1)
    rec.events.extend(
        SourceHeartbeat(event_id=f"hb-{h.id}-end", ts=end, source_id=f"{h.id}-approvals", hall_id=h.id)
        for h in halls
    )


def _applicant_pool(rng: np.random.Generator, size: int = 600) -> list[str]:
    """Applicant names (people and firms); a pool, because Faker per case would dominate the run."""
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(int(rng.integers(2**31)))
    people = [fake.name() for _ in range(size)]
    firms = [fake.company() for _ in range(size // 3)]
    return people + firms


def _stats(
    cases: int, events: list[Event], truth: list[Episode], steps: int, counts: Counter[str]
) -> dict[str, int | float]:
    out: dict[str, int | float] = {"cases": cases, "events": len(events), "simpy_events": steps}
    out.update(Counter(f"events.{type(e).__struct_config__.tag}" for e in events))
    out.update(sorted(counts.items()))
    out.update(Counter(f"truth.{ep.kind}" for ep in truth))
    return dict(sorted(out.items()))
