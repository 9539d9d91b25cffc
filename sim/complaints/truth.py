"""Ground truth of the complaints layer, read from the stream it produced and the world's own draws.

Violations (``lookalike=False``), each about ``complaint:<id>`` unless said otherwise:

* ``complaint_overdue``: a handling round (from ``complaint.assigned``) was answered after its
  limit of ``answer_days`` working days, plus any extension granted before the limit passed,
  or not answered by the end of the run; onset is the limit's instant;
* ``complaint_feedback_overdue``: the complainant was not told within ``feedback_days``
  working days of the answer (late, or never: closing the complaint does not count);
* ``substantiated_complaint``: a complaint naming an official was found substantiated (查实),
  which suspends the official (一次投诉查实待岗); onset is the answer;
* ``repeat_complaints``: about ``staff:<id>`` or ``department:<id>``: the ``repeat_official``-th
  (``repeat_unit``-th) complaint within ``repeat_window_days`` working days, counted at
  classification, and again only once the previous episode's onset has left the window.

Complaints raised by the hall's own misconduct (the section's ``from_hall``) carry their cause:
``hall_misconduct_complaint`` (about ``complaint:<id>``, onset at its receipt) names the case and
the hall episode (``step_overdue`` or ``overdue``) behind it. It is a link, not a violation any
rule should flag by itself (a run lists it among the unscored truth kinds); a substantiated
complaint of this kind is ``injected``, since the misconduct it was about was.

Look-alikes: ``complaint_extended`` (answered after the original limit, within the extended
one), ``answered_on_last_day`` and ``feedback_on_last_day`` (minutes before the limit).

"Late" is counted on the working-time index as the engine counts it: an answer whose index
equals the limit's (in the lunch break right after a 12:00 limit) is on time, and the onset is
the *latest* instant with the limit's index.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime

from engine.contract.calendar import CalendarRangeError, WorkingCalendar
from engine.contract.events import (
    ComplaintAnswered,
    ComplaintAssigned,
    ComplaintClassified,
    ComplaintExtended,
    ComplaintFeedbackGiven,
    ComplaintReceived,
    Event,
)
from sim.common.sections.complaints import ComplaintTruthSpec
from sim.common.truth import Episode

__all__ = ["COMPLAINT_LOOKALIKE_KINDS", "COMPLAINT_VIOLATION_KINDS", "complaint_truth"]

COMPLAINT_VIOLATION_KINDS: tuple[str, ...] = (
    "complaint_overdue",
    "complaint_feedback_overdue",
    "substantiated_complaint",
    "repeat_complaints",
)
COMPLAINT_LOOKALIKE_KINDS: tuple[str, ...] = (
    "complaint_extended",
    "answered_on_last_day",
    "feedback_on_last_day",
)

_LOOKALIKE_OF = {
    "extended": ("complaint_extended", "complaint_overdue"),
    "last_day_answer": ("answered_on_last_day", "complaint_overdue"),
    "last_day_feedback": ("feedback_on_last_day", "complaint_feedback_overdue"),
}


class _Round:
    __slots__ = ("answered", "assigned", "department_id", "feedback", "limit", "staff_id")

    def __init__(self, assigned: datetime, limit: float, department_id: str) -> None:
        self.assigned = assigned
        self.limit = limit
        self.department_id = department_id
        self.answered: ComplaintAnswered | None = None
        self.feedback: datetime | None = None
        self.staff_id: str | None = None


def complaint_truth(
    events: Sequence[Event],
    calendar: WorkingCalendar,
    end: datetime,
    spec: ComplaintTruthSpec,
    kinds: dict[str, str],
    problems: set[str],
    caused: dict[str, Episode] | None = None,
) -> list[Episode]:
    """Episodes of the complaint ``events`` (time-ordered); ``kinds``: complaint id → injected kind.

    ``caused``: complaint id → the hall episode whose case raised it (``from_hall``).
    """
    caused = caused or {}
    day = float(calendar.day_seconds)
    idx = calendar.to_index
    end_x = idx(end)
    rounds: dict[str, list[_Round]] = {}
    named: dict[str, str | None] = {}
    hall_of: dict[str, str] = {}
    classified: list[ComplaintClassified] = []
    out: list[Episode] = []
    for e in events:
        if isinstance(e, ComplaintReceived) and e.complaint_id in caused:
            out.append(_hall_link(e, caused[e.complaint_id]))
        elif isinstance(e, ComplaintClassified):
            named[e.complaint_id] = e.staff_id
            hall_of[e.complaint_id] = e.hall_id
            classified.append(e)
        elif isinstance(e, ComplaintAssigned):
            rounds.setdefault(e.complaint_id, []).append(
                _Round(e.ts, idx(e.ts) + spec.answer_days * day, e.department_id)
            )
        elif isinstance(e, ComplaintExtended):
            r = rounds[e.complaint_id][-1]
            if r.answered is None and idx(e.ts) <= r.limit:
                r.limit += e.extra_days * day
        elif isinstance(e, ComplaintAnswered):
            r = rounds[e.complaint_id][-1]
            r.answered = e
            r.staff_id = e.staff_id
        elif isinstance(e, ComplaintFeedbackGiven):
            r = rounds[e.complaint_id][-1]
            if r.feedback is None:
                r.feedback = e.ts
    for cid, rs in rounds.items():
        kind = kinds.get(cid)
        for n, r in enumerate(rs, start=1):
            injected = n == 1 and kind == "late_answer"
            base = {"hall_id": hall_of.get(cid), "department_id": r.department_id, "cause": _cause(injected)}
            answered = r.answered.ts if r.answered is not None else None
            if _late(r.limit, answered, idx, end_x):
                out.append(
                    _episode(cid, "complaint_overdue", n, r.limit, answered, calendar, named.get(cid), base)
                )
            if answered is None:
                continue
            fb_limit = idx(answered) + spec.feedback_days * day
            if _late(fb_limit, r.feedback, idx, end_x):
                base["cause"] = _cause(n == 1 and kind in ("late_feedback", "no_feedback"))
                staff = r.staff_id
                out.append(
                    _episode(
                        cid, "complaint_feedback_overdue", n, fb_limit, r.feedback, calendar, staff, base
                    )
                )
        first = rs[0].answered if rs else None
        if first is not None and first.finding == "substantiated" and named.get(cid) is not None:
            out.append(
                Episode(
                    episode_id=f"substantiated_complaint:{cid}",
                    kind="substantiated_complaint",
                    subject=f"complaint:{cid}",
                    onset=first.ts,
                    end=first.ts,
                    cause="injected" if named.get(cid) in problems or cid in caused else "natural",
                    hall_id=hall_of.get(cid),
                    department_id=first.department_id,
                    staff_id=named.get(cid),
                )
            )
        look = _LOOKALIKE_OF.get(kinds.get(cid, ""))
        if look is not None and rs:
            r = rs[0]
            out.append(
                Episode(
                    episode_id=f"{look[0]}:{cid}",
                    kind=look[0],
                    subject=f"complaint:{cid}",
                    onset=r.assigned,
                    end=r.feedback
                    if look[0] == "feedback_on_last_day"
                    else (r.answered.ts if r.answered else None),
                    lookalike=True,
                    confuses=(look[1],),
                    cause="lookalike",
                    hall_id=hall_of.get(cid),
                    department_id=r.department_id,
                    staff_id=named.get(cid),
                )
            )
    out.extend(_repeats(classified, calendar, spec, problems))
    return sorted(out, key=lambda ep: (ep.onset, ep.episode_id))


def _hall_link(e: ComplaintReceived, ep: Episode) -> Episode:
    """The link from a complaint to the hall episode whose case raised it."""
    return Episode(
        episode_id=f"hall_misconduct_complaint:{e.complaint_id}",
        kind="hall_misconduct_complaint",
        subject=f"complaint:{e.complaint_id}",
        onset=e.ts,
        cause="injected",
        hall_id=e.hall_id,
        department_id=ep.department_id,
        staff_id=ep.staff_id,
        params={"case": ep.subject, "episode": ep.episode_id, "from": ep.kind},
    )


def _cause(injected: bool) -> str:
    return "injected" if injected else "natural"


def _late(limit: float, done: datetime | None, idx: Callable[[datetime], float], end_x: float) -> bool:
    """Whether a step with ``limit`` (an index) done at ``done`` (or never) ran past it within the run."""
    if done is None:
        return limit < end_x
    return idx(done) > limit


def _episode(
    cid: str,
    kind: str,
    n: int,
    limit: float,
    done: datetime | None,
    calendar: WorkingCalendar,
    staff: str | None,
    base: dict[str, str | None],
) -> Episode:
    return Episode(
        episode_id=f"{kind}:{cid}:{n}",
        kind=kind,
        subject=f"complaint:{cid}",
        onset=calendar.from_index(limit, latest=True),
        end=done,
        cause="injected" if base["cause"] == "injected" else "natural",
        hall_id=base["hall_id"],
        department_id=base["department_id"],
        staff_id=staff,
        params={"round": n},
    )


def _repeats(
    classified: list[ComplaintClassified],
    calendar: WorkingCalendar,
    spec: ComplaintTruthSpec,
    problems: set[str],
) -> list[Episode]:
    """``repeat_complaints`` episodes per official and per unit (see the module docstring)."""
    window = spec.repeat_window_days * calendar.day_seconds
    seen: dict[str, deque[float]] = {}
    last: dict[str, float] = {}
    count: dict[str, int] = {}
    out: list[Episode] = []
    for e in classified:
        try:
            x = calendar.to_index(e.ts)
        except CalendarRangeError:
            continue
        targets = [(f"department:{e.department_id}", spec.repeat_unit)]
        if e.staff_id is not None:
            targets.append((f"staff:{e.staff_id}", spec.repeat_official))
        for subject, needed in targets:
            times = seen.setdefault(subject, deque())
            times.append(x)
            while times[0] <= x - window:
                times.popleft()
            if len(times) < needed or (subject in last and last[subject] > x - window):
                continue
            last[subject] = x
            count[subject] = count.get(subject, 0) + 1
            staff = subject.removeprefix("staff:") if subject.startswith("staff:") else None
            out.append(
                Episode(
                    episode_id=f"repeat_complaints:{subject}:{count[subject]}",
                    kind="repeat_complaints",
                    subject=subject,
                    onset=e.ts,
                    cause="injected" if staff in problems else "natural",
                    hall_id=e.hall_id,
                    department_id=e.department_id,
                    staff_id=staff,
                    params={"complaints": len(times), "trigger": e.complaint_id},
                )
            )
    return out
