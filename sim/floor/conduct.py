"""Staff conduct at the windows: one SimPy process per window staff member, driven by the roster.

Why a separate SimPy world: the hall model decides *which* cases are served; this layer
decides *whether the seat is occupied*. Keeping them apart lets the camera world sit on
top of any hall run without touching its processes. Each process walks the working days:
it arrives (on time, or late), takes lunch between the working periods, the scheduled
afternoon rest from the roster, declared escorts (暂离), illegitimate leaves (离岗), and
leaves at the end of the shift (or early). A planned leave that would start while the
person is already away, or outside the shift, does not happen.

Times are POSIX seconds (floats) inside; events and truth get aware datetimes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import simpy

from engine.contract.calendar import WorkingCalendar
from engine.contract.events import Event, StaffBreak, StaffClockIn, StaffClockOut, StaffRoster, TimeSpan
from sim.common.sections.cameras import ConductSpec

__all__ = ["Seat", "WindowDay", "simulate_conduct"]


@dataclass(frozen=True, slots=True)
class Seat:
    """A window, the staff member sent to it, and its presence camera."""

    hall_id: str
    department_id: str
    window_id: str
    staff_id: str
    camera_id: str


@dataclass(slots=True)
class WindowDay:
    """What happened at one window on one working day (POSIX seconds)."""

    seat: Seat
    day: date
    shift_start: float
    shift_end: float
    periods: list[tuple[float, float]]
    arrive: float = 0.0
    depart: float = 0.0
    rest: tuple[float, float] = (0.0, 0.0)
    #: (start, end, reason) with reason in leave / rest / escort / lunch; sorted by start.
    away: list[tuple[float, float, str]] = field(default_factory=list)
    #: declared escorts: (start, planned end).
    declared: list[tuple[float, float]] = field(default_factory=list)


def _ts(x: float, cal: WorkingCalendar) -> datetime:
    return datetime.fromtimestamp(round(x, 3), cal.tz)


def _plan(
    seat: Seat, day: date, cal: WorkingCalendar, spec: ConductSpec, rng: np.random.Generator
) -> tuple[WindowDay, list[tuple[float, float, str, float]]]:
    """Draw one window-day: arrival, departure, rest, and planned leaves (start, length, reason, declared)."""
    periods = [
        (
            datetime.combine(day, a, tzinfo=cal.tz).timestamp(),
            datetime.combine(day, b, tzinfo=cal.tz).timestamp(),
        )
        for a, b in cal.periods
    ]
    wd = WindowDay(seat, day, periods[0][0], periods[-1][1], periods)
    if rng.random() < spec.late_rate:
        wd.arrive = wd.shift_start + 60.0 * rng.uniform(spec.late_minutes.min, spec.late_minutes.max)
    else:
        wd.arrive = wd.shift_start - 60.0 * rng.uniform(
            spec.arrive_early_minutes.min, spec.arrive_early_minutes.max
        )
    if rng.random() < spec.early_rate:
        wd.depart = wd.shift_end - 60.0 * rng.uniform(spec.early_minutes.min, spec.early_minutes.max)
    else:
        wd.depart = wd.shift_end + 60.0 * rng.uniform(0.0, 10.0)
    last = periods[-1]
    rest_len = 60.0 * rng.uniform(spec.rest_minutes.min, spec.rest_minutes.max)
    rest_start = float(
        np.round(rng.uniform(last[0] + 3600.0, max(last[0] + 3600.0, last[1] - 3600.0)) / 300.0) * 300.0
    )
    wd.rest = (rest_start, rest_start + rest_len)
    service = sum(b - a for a, b in periods)
    planned: list[tuple[float, float, str, float]] = [(rest_start, rest_len, "rest", 0.0)]
    for reason, rate, dist in (
        ("leave", spec.leave_rate, spec.leave_minutes),
        ("escort", spec.escort_rate, spec.escort_minutes),
    ):
        for _ in range(int(rng.poisson(rate))):
            offset = rng.uniform(0.0, service)
            start = periods[0][0]
            for a, b in periods:  # place ``offset`` seconds of service time into the periods
                if offset < b - a:
                    start = a + offset
                    break
                offset -= b - a
            length = 60.0 * float(rng.lognormal(np.log(dist.median), dist.sigma))
            declared = 0.0
            if reason == "escort":  # announced with a planned end; back a little before it
                declared, length = length, length * rng.uniform(0.8, 1.0)
            planned.append((start, length, reason, declared))
    for (_, end), (nxt, _) in itertools.pairwise(periods):
        planned.append((end + 60.0 * rng.uniform(0, 3), nxt - 60.0 * rng.uniform(0, 10), "lunch", 0.0))
    planned = [(s, (e - s) if r == "lunch" else e, r, d) for s, e, r, d in planned]
    planned.sort()
    return wd, planned


def _staff_process(
    env: simpy.Environment, t0: float, days: list[tuple[WindowDay, list[tuple[float, float, str, float]]]]
) -> simpy.events.ProcessGenerator:
    """Walk one window's days; leaves that collide with an absence or the shift's end are dropped."""
    for wd, planned in days:
        if wd.arrive - t0 > env.now:
            yield env.timeout(wd.arrive - t0 - env.now)
        for start, length, reason, declared in planned:
            if start - t0 < env.now or start < wd.arrive or start >= wd.depart - 60.0:
                continue
            if reason in ("leave", "escort"):  # an illegitimate leave ends with the period it is in
                period_end = next((b for a, b in wd.periods if a <= start < b), start)
                length = min(length, period_end - start)
                if length <= 0:
                    continue
            yield env.timeout(start - t0 - env.now)
            end = min(start + length, wd.depart)
            wd.away.append((start, end, reason))
            if reason == "escort":
                wd.declared.append((start, start + declared))
            yield env.timeout(end - t0 - env.now)
        if wd.depart - t0 > env.now:
            yield env.timeout(wd.depart - t0 - env.now)


def simulate_conduct(
    seats: list[Seat],
    days: list[date],
    cal: WorkingCalendar,
    spec: ConductSpec,
    rng: np.random.Generator,
) -> tuple[list[WindowDay], list[Event]]:
    """Every window-day of ``seats`` over the working ``days``, and the attendance events.

    Events: a ``staff.roster`` per staff-day (published an hour before the shift), the
    ``staff.clock_in`` / ``staff.clock_out`` of the attendance terminal, and a
    ``staff.break`` for every declared escort.
    """
    if not days:
        return [], []
    t0 = datetime.combine(days[0], datetime.min.time(), tzinfo=cal.tz).timestamp()
    env = simpy.Environment()
    out: list[WindowDay] = []
    for seat in seats:
        plans = [_plan(seat, day, cal, spec, rng) for day in days]
        out.extend(wd for wd, _ in plans)
        env.process(_staff_process(env, t0, plans))
    env.run()
    events: list[Event] = []
    for wd in out:
        s = wd.seat
        tag = f"{s.staff_id}-{wd.day:%Y%m%d}"
        events.append(
            StaffRoster(
                event_id=f"ro-{tag}",
                ts=_ts(wd.shift_start - 3600.0, cal),
                hall_id=s.hall_id,
                staff_id=s.staff_id,
                window_id=s.window_id,
                department_id=s.department_id,
                shift_start=_ts(wd.shift_start, cal),
                shift_end=_ts(wd.shift_end, cal),
                breaks=(TimeSpan(start=_ts(wd.rest[0], cal), end=_ts(wd.rest[1], cal)),),
            )
        )
        events.append(
            StaffClockIn(
                event_id=f"ci-{tag}",
                ts=_ts(wd.arrive, cal),
                hall_id=s.hall_id,
                staff_id=s.staff_id,
                window_id=s.window_id,
            )
        )
        events.append(
            StaffClockOut(
                event_id=f"co-{tag}",
                ts=_ts(wd.depart, cal),
                hall_id=s.hall_id,
                staff_id=s.staff_id,
                window_id=s.window_id,
            )
        )
        for k, (start, until) in enumerate(wd.declared):
            events.append(
                StaffBreak(
                    event_id=f"br-{tag}-{k}",
                    ts=_ts(start, cal),
                    hall_id=s.hall_id,
                    staff_id=s.staff_id,
                    window_id=s.window_id,
                    reason="escort",
                    until=_ts(until, cal),
                )
            )
    return out, events


def day_list(start: datetime, end: datetime, cal: WorkingCalendar) -> list[date]:
    """The working days of ``[start, end)``."""
    out: list[date] = []
    d = start.date()
    while d < end.date():
        if cal.is_working_day(d):
            out.append(d)
        d += timedelta(days=1)
    return out
