"""Complaint figures under the names a targets file uses (效能投诉: received, concluded, dealt with).

Why a module of its own: the published complaint figures ("335 complaints received, 269
concluded, 87 people dealt with"; "342 complaints, 98 % closed") count what the complaints
platform records, so they are read off the ``complaint.*`` events like the run's complaint
section (:func:`reports.evaluation.families.complaints.complaint_figures`), never off the truth. A run
without complaint events (a scenario without the ``complaints:`` section) produces none of
them: they show as n/a rather than as zeros a hall never claimed.

"People dealt with" is read as the distinct officials named in a complaint whose finding is
``substantiated`` (the people 一次投诉查实待岗 suspends); a complaint about a unit deals with
nobody. The shares are over the complaints received, as the published figures are.
``person_times`` (人次 of accountability) counts the suspensions instead of the people: every
complaint naming an official and found substantiated, so an official suspended twice counts
twice. Other accountability (a unit's warning, a demerit after an inspection) is not simulated.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.contract import events as ev
from reports.evaluation.families.complaints import complaint_figures

__all__ = ["COMPLAINT_METRICS", "complaint_run_figures"]

#: Metrics of this module and what they mean (merged into ``targets.METRICS``).
COMPLAINT_METRICS: dict[str, str] = {
    "complaints": "complaints received (受理投诉)",
    "complaints_closed": "complaints closed at the end of the run (办结; a reopened one once closed again)",
    "complaint_closure_rate": "complaints closed / received (a stock rate: the open ones are a pipeline)",
    "complaints_substantiated": "complaints whose first finding is substantiated (查实)",
    "substantiated_share": "complaints found substantiated / complaints received",
    "officials_dealt_with": "distinct officials named in a complaint found substantiated (处理人数)",
    "dealt_with_share": "officials dealt with / complaints received",
    "person_times": "suspensions of named officials after substantiated complaints (人次 of accountability)",
}


def complaint_run_figures(events: Sequence[ev.Event]) -> dict[str, float | None]:
    """The complaint figures of one run's events; all n/a when the run has no complaint."""
    figs = complaint_figures(events)
    if figs.received == 0:
        return dict.fromkeys(COMPLAINT_METRICS)
    named: dict[str, str | None] = {}
    first: dict[str, str] = {}
    for e in events:
        if isinstance(e, ev.ComplaintClassified):
            named[e.complaint_id] = e.staff_id
        elif isinstance(e, ev.ComplaintAnswered):
            first.setdefault(e.complaint_id, e.finding)
    suspended = [s for cid, f in first.items() if f == "substantiated" and (s := named.get(cid)) is not None]
    dealt = set(suspended)
    n = float(figs.received)
    return {
        "complaints": n,
        "complaints_closed": float(figs.closed),
        "complaint_closure_rate": round(figs.closed / n, 6),
        "complaints_substantiated": float(figs.substantiated),
        "substantiated_share": round(figs.substantiated / n, 6),
        "officials_dealt_with": float(len(dealt)),
        "dealt_with_share": round(len(dealt) / n, 6),
        "person_times": float(len(suspended)),
    }
