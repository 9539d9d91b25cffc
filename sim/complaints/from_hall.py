"""Complaints raised by the hall's own misconduct: a slow-walked or overdue case makes its applicant complain.

Why a module of its own: this is where the hall world and the complaints world meet. The hall's
truth says which cases were slow-walked (a ``step_overdue`` episode naming the official who held
the step) and which went past their promised limit (``overdue``); the applicant of such a case
complains, with the section's ``from_hall`` chances, about that official or about the unit. Each
complaint keeps the case that caused it, so the truth can say which case lies behind which
complaint (``hall_misconduct_complaint`` episodes, :mod:`sim.complaints.truth`).

The draws (who complains, when, on which channel, the handling times) come from a generator of
their own, so a scenario without ``from_hall`` runs exactly as before, and with it the
section's other complaints keep every draw they had.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.common.clock import SimClock
from sim.common.hall_model import HallModel
from sim.common.sections.complaints import Complaints, FromHall
from sim.common.truth import Episode
from sim.complaints.draws import ComplaintDraws, Target, draw_complaints

__all__ = ["PREFIX", "HallCaused", "hall_caused"]

#: Complaint ids of this kind read ``<hall>-KH000001``, apart from the section's ``<hall>-K000001``.
PREFIX = "KH"


@dataclass(slots=True)
class HallCaused:
    """One hall's complaints from its own cases: arrivals, draws and the episode behind each (by index)."""

    arrivals: list[tuple[int, str]]
    draws: ComplaintDraws
    causes: list[Episode]


def _candidates(hall: HallModel, truth: list[Episode]) -> list[tuple[Episode, bool]]:
    """One entry per case of ``hall``: its first slow-walked step (an official), else its overdue limit."""
    slow: dict[str, Episode] = {}
    late: dict[str, Episode] = {}
    for ep in truth:
        if ep.hall_id != hall.id or ep.lookalike:
            continue
        if ep.kind == "step_overdue" and ep.staff_id is not None:
            slow.setdefault(ep.subject, ep)
        elif ep.kind == "overdue":
            late.setdefault(ep.subject, ep)
    out = [(ep, True) for ep in slow.values()]
    out += [(ep, False) for case, ep in late.items() if case not in slow]
    return sorted(out, key=lambda c: (c[0].onset, c[0].episode_id))


def hall_caused(
    spec: Complaints,
    fh: FromHall,
    hall: HallModel,
    truth: list[Episode],
    clock: SimClock,
    problems: set[str],
    rng: np.random.Generator,
) -> HallCaused:
    """The complaints ``hall``'s slow-walked and overdue cases raise (see the module docstring)."""
    r_pick, r_natural, r_misconduct = rng.spawn(3)
    cands = _candidates(hall, truth)
    u = r_pick.random(len(cands)).tolist()
    delay = r_pick.uniform(fh.delay_days.min, fh.delay_days.max, len(cands)).tolist()
    chosen: list[tuple[int, str, Episode, bool]] = []
    horizon = clock.at(clock.end)
    for (ep, named), ui, di in zip(cands, u, delay, strict=True):
        if ui >= (fh.slow_walked if named else fh.overdue):
            continue
        t0 = max(0, clock.at(ep.onset))
        t = t0 + clock.delay(t0, di * clock.day_seconds)
        if t < horizon:
            chosen.append((t, ep.episode_id, ep, named))
    chosen.sort(key=lambda c: (c[0], c[1]))
    names = [n for n, c in spec.channels.items() if c.per_month > 0]
    rates = np.array([spec.channels[n].per_month for n in names], dtype=np.float64)
    picks = r_pick.choice(len(names), size=len(chosen), p=rates / rates.sum()).tolist() if chosen else []
    draws = draw_complaints(
        spec, hall, len(chosen), problems, float(clock.day_seconds), r_natural, r_misconduct
    )
    u_find = r_pick.random(len(chosen)).tolist()
    for i, (_, _, ep, named) in enumerate(chosen):
        staff = ep.staff_id if named else None
        draws.targets[i] = Target(str(ep.department_id), staff, staff in problems)
        draws.category[i] = "delay"
        draws.finding[i] = (
            "substantiated"
            if u_find[i] < fh.substantiated
            else "partly_substantiated"
            if u_find[i] < fh.substantiated + fh.partly_substantiated
            else "unsubstantiated"
        )
    arrivals = [(t, names[k]) for (t, _, _, _), k in zip(chosen, picks, strict=True)]
    return HallCaused(arrivals=arrivals, draws=draws, causes=[c[2] for c in chosen])
