"""Inspection figures under the names a targets file uses (暗访: visits, problems, namings, notices).

Why a module of its own: the published inspection figures ("1,229 open and unannounced
inspections, 726 problems found, 225 units named in notices, 38 rectification notices") count
what the inspectors record, so they are read off the ``inspection.*`` events like the run's
inspection section (:func:`reports.evaluation.families.inspections.inspection_figures`), never off
the truth. A run without inspection events (a scenario without the ``inspections:`` section)
produces none of them: they show as n/a rather than as zeros a hall never claimed.

"Units named in notices" is read as *namings*: visits whose findings name their unit in the
bulletin (通报), a unit named on two visits counting twice: a bulletin is issued per round and the
published count is its entries. The other reading, distinct units, is not offered: it saturates
at a hall's departments and does not scale with the period, so no count basis could compare it.
The shares are per visit and per problem, the way a scenario's rates are set.

Two published kinds are these counts under the names reports give them: ``corrections``
(整改, the rectifications ordered) are the rectification notices, and ``criticised_units``
(通报批评) are the namings. They are the same numbers, offered so that a targets file can keep
the report's own word; a file should not claim both names of one figure.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.contract import events as ev
from reports.evaluation.families.inspections import inspection_figures

__all__ = ["INSPECTION_METRICS", "inspection_run_figures"]

#: Metrics of this module and what they mean (merged into ``targets.METRICS``).
INSPECTION_METRICS: dict[str, str] = {
    "inspections": "inspections performed (暗访 visits)",
    "inspection_problems": "problems found (inspection findings)",
    "units_named": "visits that named their unit in a bulletin (通报; a unit named twice counts twice)",
    "rectification_notices": "rectification notices issued (整改通知)",
    "problems_per_inspection": "problems found / inspections",
    "named_per_inspection": "namings / inspections",
    "notices_per_problem": "rectification notices / problems found",
    "corrections": "rectifications ordered (整改): the rectification notices under the report's word",
    "criticised_units": "units criticised in a bulletin (通报批评): the namings under the report's word",
    "supervision_suggestions": "supervision suggestions written to units after visits (监察建议)",
}


def inspection_run_figures(events: Sequence[ev.Event]) -> dict[str, float | None]:
    """The inspection figures of one run's events; all n/a when the run has no inspection."""
    figs = inspection_figures(events)
    if figs.visits == 0:
        return dict.fromkeys(INSPECTION_METRICS)
    n = float(figs.visits)
    return {
        "inspections": n,
        "inspection_problems": float(figs.problems),
        "units_named": float(figs.units_named),
        "rectification_notices": float(figs.rectification_notices),
        "corrections": float(figs.rectification_notices),
        "criticised_units": float(figs.units_named),
        "supervision_suggestions": float(figs.suggestions),
        "problems_per_inspection": round(figs.problems / n, 6),
        "named_per_inspection": round(figs.units_named / n, 6),
        "notices_per_problem": round(figs.rectification_notices / figs.problems, 6)
        if figs.problems
        else None,
    }
