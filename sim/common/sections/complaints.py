"""The optional ``complaints:`` section of a hall scenario: efficiency complaints about the hall's units.

Why its own section: the complaints world is a layer on top of the hall model (complaints are
about its departments and window staff), so a hall scenario without the section runs exactly
as before (same events, same truth, byte for byte), and one with it only adds complaint events
and their truth. Rates are per hall; durations are working time on the scenario's calendar.

The time limits under ``truth`` are what the ground truth is computed with: keep them equal to
the rulebook's ``complaints`` section, as the hall's ``truth`` section is kept equal to its
``deadline`` section.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from sim.common.scenario_types import LogNormal, Range

__all__ = [
    "ChannelSpec",
    "ComplaintLookalikes",
    "ComplaintMisconduct",
    "ComplaintTruthSpec",
    "Complaints",
    "FromHall",
    "HandlingSpec",
    "complaint_problems",
]

Prob = Annotated[float, Meta(ge=0, le=1)]
NonNeg = Annotated[float, Meta(ge=0)]
Positive = Annotated[float, Meta(gt=0)]
ChannelName = Literal["phone", "sms", "email", "web", "in_person"]
Category = Literal[
    "difficult_service", "attitude", "discipline", "superficial", "delay", "fees", "misconduct", "other"
]


class _Spec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class ChannelSpec(_Spec, frozen=True):
    """One intake channel: its mean complaints per month (per hall) and when it takes them.

    ``office``: only in the calendar's working periods (a person at a desk or a staffed
    line); ``any``: at any hour of any day, shaped by the section's ``hourly_profile``
    (web forms, SMS and e-mail are written in the evening too).
    """

    per_month: NonNeg
    hours: Literal["office", "any"] = "office"


def _default_channels() -> dict[ChannelName, ChannelSpec]:
    return {
        "phone": ChannelSpec(per_month=11.0),
        "in_person": ChannelSpec(per_month=5.0),
        "web": ChannelSpec(per_month=7.0, hours="any"),
        "sms": ChannelSpec(per_month=3.0, hours="any"),
        "email": ChannelSpec(per_month=2.0, hours="any"),
    }


def _default_profile() -> list[float]:
    # night hours quiet, office hours and the evening busiest (an assumption, not a measurement)
    return [0.2] * 7 + [0.6] + [1.0] * 10 + [0.8] * 4 + [0.4] * 2


class HandlingSpec(_Spec, frozen=True):
    """How long each step takes when nobody misbehaves (working time).

    ``answer_days`` runs from the hand-off to the unit's answer, ``feedback_days`` from the
    answer to the feedback to the complainant. A dissatisfied complainant's complaint is
    reopened with ``reopen_rate`` (at most once) ``reopen_days`` after the feedback.
    """

    classify_hours: LogNormal = LogNormal(median=2.0, sigma=0.6)
    assign_hours: LogNormal = LogNormal(median=3.0, sigma=0.6)
    answer_days: LogNormal = LogNormal(median=4.0, sigma=0.4)
    feedback_days: LogNormal = LogNormal(median=0.8, sigma=0.5)
    close_hours: LogNormal = LogNormal(median=4.0, sigma=0.5)
    satisfied_rate: Prob = 0.85
    reopen_rate: Prob = 0.5
    reopen_days: Range = Range(min=0.5, max=3.0)


class ComplaintMisconduct(_Spec, frozen=True):
    """Per-complaint probability of each injected violation (one categorical draw with the look-alikes).

    ``late_answer``: the unit answers ``late_days`` working days after its limit;
    ``late_feedback``: the complainant hears back ``late_days`` after the feedback limit;
    ``no_feedback``: the complaint is closed without any feedback. ``problem_officials`` is the
    share of window staff who draw ``problem_weight`` times the complaints of the others and whose
    complaints are substantiated with ``problem_substantiated``.
    """

    late_answer: Prob = 0.0
    late_feedback: Prob = 0.0
    no_feedback: Prob = 0.0
    late_days: Range = Range(min=0.5, max=6.0)
    problem_officials: Prob = 0.0
    problem_weight: Annotated[float, Meta(ge=1, le=1000)] = 8.0
    problem_substantiated: Prob = 0.6


class ComplaintLookalikes(_Spec, frozen=True):
    """Per-complaint probability of each look-alike negative.

    ``extended``: the centre grants ``extension_days`` more working days before the limit and
    the unit answers after the original limit but within the extended one; ``last_day_answer`` /
    ``last_day_feedback``: the answer / the feedback comes ``closing_minutes`` working minutes
    before its limit.
    """

    extended: Prob = 0.0
    last_day_answer: Prob = 0.0
    last_day_feedback: Prob = 0.0
    extension_days: Range = Range(min=3.0, max=10.0)
    closing_minutes: Range = Range(min=5.0, max=55.0)


class ComplaintTruthSpec(_Spec, frozen=True):
    """The limits and the repeat pattern the truth is computed with (keep them equal to the rulebook's)."""

    answer_days: Annotated[float, Meta(gt=0, le=365)] = 10.0
    feedback_days: Annotated[float, Meta(gt=0, le=365)] = 3.0
    repeat_window_days: Annotated[float, Meta(gt=0, le=3650)] = 60.0
    repeat_official: Annotated[int, Meta(ge=2, le=1000)] = 2
    repeat_unit: Annotated[int, Meta(ge=2, le=1000)] = 6


class FromHall(_Spec, frozen=True):
    """Complaints the hall's own misconduct raises (opt-in): the worlds connect through the applicant.

    An applicant whose case was slow-walked (a step past its limit, held by a known official)
    complains about that official with ``slow_walked``; one whose case went past its promised
    limit without a slow step complains about the unit with ``overdue``; one complaint per case at
    most. The complaint arrives ``delay_days`` working days after the limit passed (if the run
    has not ended) on a channel drawn in proportion to the channels' rates, and is found
    ``substantiated`` / ``partly_substantiated`` with the shares below (it is about a real delay).
    Its draws come from a generator of their own, so the section's other complaints are unchanged.
    """

    slow_walked: Prob = 0.3
    overdue: Prob = 0.1
    delay_days: Range = Range(min=0.5, max=5.0)
    substantiated: Prob = 0.7
    partly_substantiated: Prob = 0.2


class Complaints(_Spec, frozen=True):
    """Efficiency complaints about a hall's units and window staff (效能投诉), per hall.

    ``named_share`` of complaints name an official (a window staff member of the unit); the
    others are about the unit. Units draw complaints in proportion to their windows.
    ``substantiated`` / ``partly_substantiated`` are the shares of findings of an ordinary
    official's or a unit's complaint. ``from_hall`` (absent: none) adds complaints raised by the
    hall's own slow-walked and overdue cases.
    """

    channels: dict[ChannelName, ChannelSpec] = msgspec.field(default_factory=_default_channels)
    hourly_profile: Annotated[list[NonNeg], Meta(min_length=24, max_length=24)] = msgspec.field(
        default_factory=_default_profile
    )
    categories: dict[Category, Positive] = msgspec.field(
        default_factory=lambda: {
            "delay": 3.0,
            "attitude": 3.0,
            "difficult_service": 2.0,
            "superficial": 1.5,
            "discipline": 1.0,
            "fees": 0.5,
            "misconduct": 0.3,
            "other": 1.0,
        }
    )
    named_share: Prob = 0.5
    substantiated: Prob = 0.2
    partly_substantiated: Prob = 0.1
    handling: HandlingSpec = HandlingSpec()
    misconduct: ComplaintMisconduct = ComplaintMisconduct()
    lookalikes: ComplaintLookalikes = ComplaintLookalikes()
    truth: ComplaintTruthSpec = ComplaintTruthSpec()
    from_hall: FromHall | None = None


def complaint_problems(spec: Complaints, at: str = "$.complaints") -> list[tuple[str, str]]:
    """Cross-field problems of the section, ``(path, reason)`` pairs as in ``scenario_checks``."""
    problems: list[tuple[str, str]] = []
    if any(c.hours == "any" and c.per_month > 0 for c in spec.channels.values()) and not any(
        spec.hourly_profile
    ):
        problems.append(
            (f"{at}.hourly_profile", "all weights are 0 but a channel takes complaints at any hour")
        )
    m, lk = spec.misconduct, spec.lookalikes
    drawn = m.late_answer + m.late_feedback + m.no_feedback + lk.extended + lk.last_day_answer
    if drawn + lk.last_day_feedback > 1:
        problems.append(
            (
                f"{at}.misconduct",
                "misconduct and look-alike rates share one draw per complaint: they sum above 1",
            )
        )
    if spec.substantiated + spec.partly_substantiated > 1:
        problems.append((f"{at}.partly_substantiated", "the finding shares sum above 1"))
    fh = spec.from_hall
    if fh is not None and fh.substantiated + fh.partly_substantiated > 1:
        problems.append((f"{at}.from_hall.partly_substantiated", "the finding shares sum above 1"))
    if (
        fh is not None
        and (fh.slow_walked or fh.overdue)
        and not any(c.per_month for c in spec.channels.values())
    ):
        problems.append((f"{at}.from_hall", "complaints from the hall need a channel with a rate above 0"))
    minutes = spec.truth.feedback_days * 60
    if lk.closing_minutes.max >= minutes:
        problems.append((f"{at}.lookalikes.closing_minutes", "must stay below the feedback limit"))
    return problems
