"""The rulebook's settings that belong to no rule: the working calendar, scoring, event time per source.

Kept apart from :mod:`engine.rules.rulebook`, which derives the rules' sections from their
signatures and decodes, validates and builds: these three are declared by hand, field by
field, each with its bounds and the description the generated ``default.yaml`` carries.
"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, ClassVar, Literal

import msgspec
from msgspec import Meta

from engine.rules.builtin import LOGIC_RULE_NAMES

__all__ = [
    "CalendarSection",
    "ClockTime",
    "Days",
    "Fraction",
    "ScoringSection",
    "Seconds",
    "Section",
    "SourcesSection",
]

Days = Annotated[float, Meta(ge=0)]
ClockTime = Annotated[str, Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")]
Fraction = Annotated[float, Meta(ge=0, le=1)]
Seconds = Annotated[int, Meta(ge=0)]


class Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A rulebook section: frozen, keyword-only, and an unknown field is an error naming it."""


class CalendarSection(Section, frozen=True):
    """Working periods, holiday files and local corrections to the shipped arrangements.

    ``holidays`` names holiday files or directories (relative to the rulebook file) that add
    or replace years of the shipped arrangements (:mod:`engine.contract.holidays`);
    ``beyond_range: weekdays`` counts years outside the covered range as plain Monday-Friday
    weeks instead of stopping (and every output then says so).
    """

    periods: Annotated[
        tuple[tuple[ClockTime, ClockTime], ...],
        Meta(
            min_length=1,
            description="Working periods (hall opening hours): 09:00-12:00 and 13:30-17:30, the common "
            "schedule of county service halls. Quote the times.",
        ),
    ] = (
        ("09:00", "12:00"),
        ("13:30", "17:30"),
    )
    holidays: Annotated[
        tuple[Annotated[str, Meta(min_length=1)], ...],
        Meta(
            description="Holiday files or directories (relative to this rulebook) that add or replace years "
            "of the shipped State Council arrangements (one YAML file per year; `supsim calendar --check`)."
        ),
    ] = ()
    beyond_range: Annotated[
        Literal["error", "weekdays"],
        Meta(
            description="Instants in years no arrangement covers: `error` stops with the year named; "
            "`weekdays` counts them as plain Monday-Friday weeks, and every output says so."
        ),
    ] = "error"
    extra_holidays: Annotated[
        tuple[date, ...],
        Meta(description="Local closures on top of the shipped State Council holiday table, as ISO dates."),
    ] = ()
    extra_workdays: Annotated[
        tuple[date, ...],
        Meta(description="Days the hall opens although the table says holiday or weekend, as ISO dates."),
    ] = ()

    def period_times(self) -> tuple[tuple[time, time], ...]:
        return tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in self.periods)


class ScoringSection(Section, frozen=True):
    """Deductions after the county rule 累积分 = 基本分 + 奖励分 − 倒扣分 (no floor)."""

    base: Annotated[
        float,
        Meta(
            description="County rule 累积分 = 基本分 + 奖励分 − 倒扣分, base 100, deductions with no floor."
        ),
    ] = 100.0
    below_standard: Annotated[
        float, Meta(ge=0, description="Per case: on time but below standard (a logic warning) −1 ...")
    ] = 1.0
    late: Annotated[float, Meta(ge=0, description="... to standard but late (a yellow card) −1 ...")] = 1.0
    both: Annotated[float, Meta(ge=0, description="... neither on time nor to standard −2 ...")] = 2.0
    red_card: Annotated[
        float,
        Meta(
            ge=0,
            description="... a red card (serious incident; the county range is −3 to −5, the lightest here).",
        ),
    ] = 3.0
    below_standard_rules: Annotated[
        tuple[str, ...],
        Meta(
            description='Alerts that make a case "below standard": the logic warnings '
            "(procedure not followed)."
        ),
    ] = LOGIC_RULE_NAMES
    late_rules: Annotated[
        tuple[str, ...],
        Meta(description='Alerts that make a case "late": the yellow card for exceeding the promised limit.'),
    ] = ("deadline.overdue",)
    discipline_deductions: Annotated[
        dict[str, Annotated[float, Meta(ge=0)]],
        Meta(
            description="Points deducted per discipline alert, from the staff member and the department: "
            "leaving the post >= 15 min is a serious incident (−3, the lightest of the county range −3 to "
            '−5); late arrival and early departure count like "late" (−1).'
        ),
    ] = msgspec.field(
        default_factory=lambda: {
            "discipline.absence": 3.0,
            "discipline.early_departure": 1.0,
            "discipline.late_arrival": 1.0,
        }
    )
    class_one_fraction: Annotated[
        float,
        Meta(
            ge=0,
            le=1,
            description="Grading (the published example grades 10 units as 2 / 6 / 2): the top 20 % in "
            "class one ...",
        ),
    ] = 0.2
    class_two_fraction: Annotated[
        float, Meta(ge=0, le=1, description="... the next 60 % in class two, the rest in class three.")
    ] = 0.6


class SourcesSection(Section, frozen=True):
    """Event time per source system (:mod:`engine.runtime.sources`); absent: one shared watermark.

    Optional: left out of the generated default rulebook while it equals its defaults, so
    the shipped rulebook (and every run's ``rulebook_sha256``) stays as it was.
    """

    watermark: Annotated[
        Literal["shared", "per_source"],
        Meta(
            description="`shared`: one watermark, the newest event time minus allowed_lateness. "
            "`per_source`: one per source system (dept:<hall>/<department>...); events are released "
            "up to the lowest of the active sources', so a batched source holds the release back "
            "instead of arriving late."
        ),
    ] = "shared"
    lateness: Annotated[
        dict[Annotated[str, Meta(min_length=1)], Seconds],
        Meta(
            description="Allowed lateness per source, seconds, by source-name pattern (fnmatch, "
            "e.g. `dept:*/D04`; the first match wins); other sources use allowed_lateness. Needs "
            "watermark: per_source."
        ),
    ] = msgspec.field(default_factory=dict)
    idle_after: Annotated[
        Seconds,
        Meta(
            description="A source whose newest record is this many working seconds behind the stream's "
            "newest stops holding the watermark back (its later records may then be late). Bounds the "
            "alert delay a silent source causes. Needs watermark: per_source."
        ),
    ] = 7200
    expected: Annotated[
        tuple[Annotated[str, Meta(min_length=1)], ...],
        Meta(
            description="Sources (exact names, e.g. `dept:HY/D04`) that hold the watermark from the "
            "stream's first record rather than from their own first one, so that a batched system's "
            "first batch is not late. Needs watermark: per_source."
        ),
    ] = ()
    dedup_window: Annotated[
        Seconds,
        Meta(
            description="A case record whose case, kind, event time (and step) repeat a record accepted "
            "within this many seconds of stream time is a copy re-sent under a new id and is dropped "
            "(side output `duplicate`). 0: off, only repeated event ids are duplicates."
        ),
    ] = 0
    skew_tolerance: Annotated[
        dict[Annotated[str, Meta(min_length=1)], Seconds],
        Meta(
            description="Clock-skew tolerance per source, seconds, by source-name pattern (fnmatch, "
            "first match wins): the deadline and step-limit rules judge a case of that source this "
            "long after its limit, so a closing or completion stamped that close after it still "
            "counts as in time; alerts keep the limit's instant. Absent: 0."
        ),
    ] = msgspec.field(default_factory=dict)

    end_of_stream: Annotated[
        Literal["stream", "source"],
        Meta(
            description="What the end of a batch run judges a case up to. `stream`: the newest event "
            "time of the whole stream (every timer before it fires). `source`: what the case's own "
            "department system has delivered (its newest event time, or the watermark if later); a "
            "deadline or step timer due after that is not fired but counted (`unjudged_at_end` in the "
            "engine's stats): those records may still be in the exchange. Needs watermark: per_source."
        ),
    ] = "stream"

    #: Left out of the generated default file while equal to its defaults.
    optional: ClassVar[bool] = True
