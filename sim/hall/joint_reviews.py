"""Joint reviews (联合审批) of the marked items' cases and their 缺席默认 truth: a layer on the hall's output.

Why a layer read from the produced stream: a joint review happens while a case is open, between
its acceptance and its decision, so it is placed from the case's own records after the hall
world has run. It draws from a generator of its own (the scenario seed's child under
:data:`STREAM_KEY`), so adding it moves none of the hall's, the cameras' or the complaints'
draws: the hall's events and truth stay as they were, and only the review records and their
truth are added.

Truth per invited department that is absent:

* no opinion → ``deemed_consent`` about ``case:<id>`` with ``department_id`` the absent department;
  onset the latest instant ``opinion_grace_days`` working days after the meeting (the instant the
  engine's timer fires);
* a written opinion sent before the meeting → look-alike ``written_opinion_absent``, which a
  rule reading only the absence would deem to consent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np

from engine.contract.calendar import WorkingCalendar
from engine.contract.events import (
    CaseAccepted,
    CaseClosed,
    CaseDecided,
    Event,
    JointReviewAbsent,
    JointReviewConvened,
    JointReviewOpinion,
)
from sim.common.hall_model import HallModel
from sim.common.sections.deemed import JointReviewSpec
from sim.common.truth import Episode

__all__ = ["STREAM_KEY", "JointReviews", "joint_review_rng", "simulate_joint_reviews"]

#: Spawn key of the layer's generator under the scenario seed (the complaints layer uses 1801).
STREAM_KEY = 1802
#: Shortest open stretch (working seconds) of a case that can hold a meeting.
_MIN_OPEN = 600.0


def joint_review_rng(seed: int) -> np.random.Generator:
    """The layer's generator: the scenario seed's child under :data:`STREAM_KEY`."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STREAM_KEY,)))


@dataclass(slots=True)
class JointReviews:
    events: list[Event]
    truth: list[Episode]
    stats: dict[str, int] = field(default_factory=dict)


def _marked(spec: JointReviewSpec, halls: list[HallModel], rng: np.random.Generator) -> set[str]:
    """Item ids with joint reviews: the listed ones, else a draw per promised item."""
    promised = [item.id for hall in halls for item in hall.items if not item.instant]
    if spec.items:
        unknown = sorted(set(spec.items) - set(promised))
        if unknown:
            raise ValueError(
                f"deemed.joint_review.items: not promised items of any hall: {', '.join(unknown)}"
            )
        return set(spec.items)
    draws = rng.random(len(promised))
    return {item for item, u in zip(promised, draws, strict=True) if u < spec.item_share}


def simulate_joint_reviews(
    spec: JointReviewSpec,
    grace_days: float,
    halls: list[HallModel],
    events: Iterable[Event],
    calendar: WorkingCalendar,
    end: datetime,
    rng: np.random.Generator,
) -> JointReviews:
    """One review per accepted case of a marked item (see the module docstring)."""
    marked = _marked(spec, halls, rng)
    depts = {hall.id: [d.id for d in hall.departments] for hall in halls}
    accepted: dict[str, CaseAccepted] = {}
    finish: dict[str, datetime] = {}
    for e in events:
        if type(e) is CaseAccepted and e.item_id in marked:
            accepted.setdefault(e.case_id, e)
        elif type(e) in (CaseDecided, CaseClosed) and e.case_id in accepted:  # type: ignore[attr-defined]
            finish.setdefault(e.case_id, e.ts)  # type: ignore[attr-defined]
    out = JointReviews(events=[], truth=[])
    n = {"joint_reviews": 0, "joint_review.absent": 0, "joint_review.written_absent": 0}
    to_index, day = calendar.to_index, calendar.day_seconds
    for cid, acc in accepted.items():  # acceptance order: the stream is time-ordered
        x0 = to_index(acc.ts)
        x1 = to_index(min(finish.get(cid, end), end))
        others = [d for d in depts[acc.hall_id] if d != acc.department_id]
        if x1 - x0 < _MIN_OPEN or not others:
            continue
        u_at, u_k = rng.random(2)
        x = x0 + (spec.at.min + u_at * (spec.at.max - spec.at.min)) * (x1 - x0)
        meeting = calendar.from_index(x).replace(microsecond=0)
        if to_index(meeting) <= x0:
            continue
        lo, hi = int(spec.invited.min), int(spec.invited.max)
        k = min(len(others), lo + int(u_k * (hi - lo + 1)))
        invited = tuple(sorted(rng.choice(others, size=k, replace=False).tolist()))
        rid = f"JR-{cid}"
        base: dict[str, Any] = {
            "hall_id": acc.hall_id,
            "case_id": cid,
            "department_id": acc.department_id,
            "review_id": rid,
        }
        out.events.append(JointReviewConvened(event_id=f"{rid}-c", ts=meeting, invited=invited, **base))
        n["joint_reviews"] += 1
        for dept in invited:
            u_abs, u_written, u_lead, u_obj = rng.random(4)
            if u_abs >= spec.absent_rate:
                opinion: Literal["consent", "object"] = "object" if u_obj < spec.objection_rate else "consent"
                out.events.append(
                    JointReviewOpinion(
                        event_id=f"{rid}-o-{dept}", ts=meeting, invitee=dept, opinion=opinion, **base
                    )
                )
                continue
            n["joint_review.absent"] += 1
            out.events.append(JointReviewAbsent(event_id=f"{rid}-a-{dept}", ts=meeting, invitee=dept, **base))
            ep = {"subject": f"case:{cid}", "hall_id": acc.hall_id, "department_id": dept}
            params: dict[str, str | int | float | bool | None] = {"review_id": rid, "invitee": dept}
            if u_written < spec.written_opinion_rate:
                hours = spec.written_lead_hours.min + u_lead * (
                    spec.written_lead_hours.max - spec.written_lead_hours.min
                )
                sent = calendar.from_index(max(x0, to_index(meeting) - hours * 3600)).replace(microsecond=0)
                out.events.append(
                    JointReviewOpinion(
                        event_id=f"{rid}-w-{dept}",
                        ts=sent,
                        invitee=dept,
                        opinion="consent",
                        written=True,
                        **base,
                    )
                )
                n["joint_review.written_absent"] += 1
                out.truth.append(
                    Episode(
                        episode_id=f"written_opinion_absent:case:{cid}:{dept}",
                        kind="written_opinion_absent",
                        onset=sent,
                        end=meeting,
                        lookalike=True,
                        confuses=("deemed_consent",),
                        cause="lookalike",
                        params=params,
                        **ep,
                    )
                )
            else:
                onset = calendar.from_index(to_index(meeting) + grace_days * day, latest=True)
                out.truth.append(
                    Episode(
                        episode_id=f"deemed_consent:case:{cid}:{dept}",
                        kind="deemed_consent",
                        onset=onset,
                        cause="injected",
                        params=params,
                        **ep,
                    )
                )
    out.stats = n
    return out
