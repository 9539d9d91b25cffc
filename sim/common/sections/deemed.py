"""The optional ``deemed:`` section of a hall scenario: truth for the deemed rules, and joint reviews.

Why a section of its own: 超时默认 (an approval undecided at its deadline is deemed granted) and
缺席默认 (a department absent from a joint review is deemed to consent) are local rules, so the
engine's rules for them are opt-in, and so is their truth: a scenario without the section runs
exactly as before (same events, same truth, byte for byte). With it, the run's truth gains a
``deemed_approval`` episode for every promised case undecided at its deadline (read from the
stream, natural or injected) and ``decided_on_last_day`` look-alikes; with ``joint_review`` it
also gains joint reviews of the marked items' cases (their own generator), with
``deemed_consent`` episodes and ``written_opinion_absent`` look-alikes.

The values under ``truth`` are what the truth is computed with: keep them equal to the
rulebook's ``deemed`` section, as the hall's ``truth`` section is kept equal to ``deadline``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from sim.common.scenario_types import Range

__all__ = ["Deemed", "DeemedTruthSpec", "JointReviewSpec", "deemed_problems"]

Prob = Annotated[float, Meta(ge=0, le=1)]
Days = Annotated[float, Meta(ge=0, le=3650)]


class _Spec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of the section's Structs: immutable, keyword-only, unknown keys rejected."""


class JointReviewSpec(_Spec, frozen=True):
    """Joint reviews (联合审批) of the cases of marked items.

    An item is marked when listed in ``items`` or, when ``items`` is empty, with probability
    ``item_share`` per promised item. Every accepted case of a marked item gets one review,
    held at a uniform point (``at`` of the way, in working time) between its acceptance and its
    decision (or closure, or the run's end), with ``invited`` other departments of the hall.
    Each invitee is absent with ``absent_rate``; an absent one sent a written opinion before the
    meeting with ``written_opinion_rate`` (the look-alike), within ``written_lead_hours`` working
    hours of it; a present one objects with ``objection_rate``.
    """

    items: Annotated[list[str], Meta(max_length=10_000)] = msgspec.field(default_factory=list)
    item_share: Prob = 0.2
    invited: Range = Range(min=2, max=4)
    at: Range = Range(min=0.2, max=0.8)
    absent_rate: Prob = 0.15
    written_opinion_rate: Prob = 0.4
    written_lead_hours: Range = Range(min=0.5, max=7.0)
    objection_rate: Prob = 0.05


class DeemedTruthSpec(_Spec, frozen=True):
    """The thresholds the truth is computed with (keep them equal to the rulebook's ``deemed``)."""

    approval_after_days: Days = 0.0
    opinion_grace_days: Days = 0.0


class Deemed(_Spec, frozen=True):
    """Truth for the deemed rules, and the joint reviews that give 缺席默认 something to judge."""

    joint_review: JointReviewSpec | None = None
    truth: DeemedTruthSpec = DeemedTruthSpec()


def deemed_problems(spec: Deemed, item_ids: set[str], at: str = "$.deemed") -> list[tuple[str, str]]:
    """Cross-field problems of the section, ``(path, reason)`` pairs as in ``scenario_checks``."""
    problems: list[tuple[str, str]] = []
    jr = spec.joint_review
    if jr is None:
        return problems
    for i, item in enumerate(jr.items):
        if item_ids and item not in item_ids:
            problems.append((f"{at}.joint_review.items[{i}]", f"unknown item {item!r}"))
    if jr.invited.min < 1 or jr.invited.min != int(jr.invited.min) or jr.invited.max != int(jr.invited.max):
        problems.append((f"{at}.joint_review.invited", "whole numbers of departments, at least 1"))
    if jr.at.max >= 1 or jr.at.min <= 0:
        problems.append((f"{at}.joint_review.at", "a fraction strictly between 0 and 1"))
    return problems
