"""The optional ``inspections:`` section of a hall scenario: unannounced inspections (暗访) of its units.

Why its own section: the inspections world is a layer about the hall's departments, like the
complaints layer, so a hall scenario without the section runs exactly as before (same events,
same truth, byte for byte), and one with it only adds inspection events and their truth. Rates are
per hall; delays and deadlines are working days on the scenario's calendar.

The values under ``truth`` are what the ground truth is computed with: keep them equal to the
rulebook's ``inspections`` section.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from engine.contract.events_inspections import InspectionProblem
from sim.common.scenario_types import Range

__all__ = [
    "InspectionLookalikes",
    "InspectionMisconduct",
    "InspectionTruthSpec",
    "Inspections",
    "inspection_problems",
]

Prob = Annotated[float, Meta(ge=0, le=1)]
NonNeg = Annotated[float, Meta(ge=0)]
Positive = Annotated[float, Meta(gt=0)]
#: The nine problem kinds are the contract's (an inspection finding's ``problem``).
Problem = InspectionProblem


class _Spec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


def _default_problems() -> dict[Problem, Positive]:
    # equal weights: the reports list the kinds, not their shares (an assumption)
    return dict.fromkeys(Problem.__args__, 1.0)  # type: ignore[attr-defined]


class InspectionMisconduct(_Spec, frozen=True):
    """Injected violations.

    ``overdue``: share of rectification notices whose rectification is verified ``late_days``
    working days after the deadline (or never, when that falls after the run). ``named_again``:
    share of namings after which the same unit is visited and named again ``again_months``
    calendar months later (a unit named twice in twelve months).
    """

    overdue: Prob = 0.0
    late_days: Range = Range(min=0.5, max=8.0)
    named_again: Prob = 0.0
    again_months: Range = Range(min=1.0, max=11.0)


class InspectionLookalikes(_Spec, frozen=True):
    """Look-alike negatives.

    ``last_day``: share of notices rectified (and verified) ``closing_minutes`` working minutes
    before the deadline. ``named_after_13_months``: share of namings after which the same unit is
    named again thirteen calendar months later (outside the twelve-month window), when the run
    is long enough.
    """

    last_day: Prob = 0.0
    closing_minutes: Range = Range(min=5.0, max=55.0)
    named_after_13_months: Prob = 0.0


class InspectionTruthSpec(_Spec, frozen=True):
    """The naming window the truth is computed with (keep it equal to the rulebook's)."""

    window_months: Annotated[int, Meta(ge=1, le=120)] = 12
    named_times: Annotated[int, Meta(ge=2, le=100)] = 2


class Inspections(_Spec, frozen=True):
    """Monthly unannounced inspections of a hall's units (暗访), per hall.

    Each calendar month of the run has a round starting on a random working day and lasting
    ``round_days`` working days (within the run's part of the month); ``per_month`` visits (a
    Poisson count, its mean scaled by the share of the month's working days the run covers) fall
    in it, each of one
    unit (uniformly drawn) by a group of two or three (``group_of_three``) of the ``inspectors``.
    A visit finds a Poisson number of problems of mean ``problems_per_visit``, of the kinds in
    ``problems`` (weights); a visit with findings names the unit in the bulletin with
    ``named_share``; a finding gets a rectification notice with ``notice_share``, issued
    ``notice_days`` after the visit with a deadline of ``deadline_days`` working days, and
    rectified and verified at a share ``rectify_share`` of the deadline. A visit with findings
    that got no notice is followed, with ``suggestion_share``, by a supervision suggestion
    (监察建议) about those findings, written ``suggestion_days`` working days after the visit.

    Why ``suggestion_share`` defaults to 0: no report gives the share of visits followed by a
    suggestion, so a scenario states its own (an assumption it should say it makes), and one that
    does not runs exactly as before.
    """

    per_month: NonNeg = 9.0
    round_days: Annotated[int, Meta(ge=1, le=20)] = 5
    inspectors: Annotated[int, Meta(ge=3, le=1000)] = 6
    group_of_three: Prob = 0.5
    problems_per_visit: NonNeg = 0.59
    problems: dict[Problem, Positive] = msgspec.field(default_factory=_default_problems)
    named_share: Prob = 0.41
    notice_share: Prob = 0.052
    notice_days: Range = Range(min=0.5, max=3.0)
    deadline_days: Annotated[float, Meta(gt=0, le=365)] = 15.0
    rectify_share: Range = Range(min=0.2, max=0.9)
    suggestion_share: Prob = 0.0
    suggestion_days: Range = Range(min=1.0, max=10.0)
    misconduct: InspectionMisconduct = InspectionMisconduct()
    lookalikes: InspectionLookalikes = InspectionLookalikes()
    truth: InspectionTruthSpec = InspectionTruthSpec()


def inspection_problems(spec: Inspections, at: str = "$.inspections") -> list[tuple[str, str]]:
    """Cross-field problems of the section, ``(path, reason)`` pairs as in ``scenario_checks``."""
    problems: list[tuple[str, str]] = []
    if spec.misconduct.overdue + spec.lookalikes.last_day > 1:
        problems.append(
            (
                f"{at}.misconduct.overdue",
                "overdue and last-day rectifications share one draw: they sum above 1",
            )
        )
    if spec.misconduct.named_again + spec.lookalikes.named_after_13_months > 1:
        problems.append(
            (
                f"{at}.misconduct.named_again",
                "named_again and named_after_13_months share one draw per naming: they sum above 1",
            )
        )
    if spec.rectify_share.max >= 1:
        problems.append((f"{at}.rectify_share", "must stay below 1 (a share of the deadline)"))
    if spec.lookalikes.closing_minutes.max >= spec.deadline_days * 60:
        problems.append((f"{at}.lookalikes.closing_minutes", "must stay below the deadline"))
    if spec.misconduct.again_months.max >= spec.truth.window_months:
        problems.append((f"{at}.misconduct.again_months", "must stay below the truth's window_months"))
    return problems
