"""Presenting the performance evaluation (绩效评估) that ``engine.scoring`` computes.

The scorecard itself is the engine's (it is what a live supervision centre publishes); a
run report shows the departments in rank order with their deductions, and the officials
who lost points, because a bureau reads a ranking from the bottom up.
"""

from __future__ import annotations

from engine.rules.settings import ScoringSection
from engine.scoring import Scorecard, ScoreRow
from reports.render.text_table import fixed_width, markdown_table

__all__ = ["render_scorecard_markdown", "render_scorecard_table"]

_HEAD = ("rank", "unit", "score", "class", "below std", "late", "both", "red")


def _cells(row: ScoreRow) -> tuple[str, ...]:
    return (
        str(row.rank),
        row.unit_id,
        f"{row.score:.1f}",
        str(row.grade),
        str(row.below_standard),
        str(row.late),
        str(row.both),
        str(row.red_cards),
    )


def _pick(card: Scorecard, worst: int) -> tuple[list[ScoreRow], list[ScoreRow]]:
    departments = sorted(card.departments, key=lambda r: (r.rank, r.unit_id))
    penalised = [r for r in card.staff if r.deductions > 0]
    staff = sorted(penalised, key=lambda r: (r.rank, r.unit_id))[-worst:] if penalised else []
    return departments[-worst:], staff


def _formula(s: ScoringSection) -> str:
    """The rule as the rulebook that scored the run sets it (not the shipped defaults)."""
    return f"{s.base:g} + bonus − deductions"


def render_scorecard_table(card: Scorecard, scoring: ScoringSection | None = None, *, worst: int = 5) -> str:
    """The lowest-ranked departments and officials as fixed-width text."""
    departments, staff = _pick(card, worst)
    right = [k for k in range(len(_HEAD)) if k != 1]  # the unit's name left, figures right
    lines = [
        f"Performance evaluation ({_formula(scoring or ScoringSection())}): "
        f"{len(card.departments)} departments, {len(card.staff)} officials",
        "lowest-ranked departments:",
        *fixed_width([list(_HEAD), *(_cells(r) for r in departments)], right),
    ]
    if staff:
        lines += ["lowest-ranked officials:", *fixed_width([list(_HEAD), *(_cells(r) for r in staff)], right)]
    return "\n".join(lines)


def render_scorecard_markdown(card: Scorecard, scoring: ScoringSection | None = None) -> str:
    """Every department, and every official who lost points, as Markdown tables."""
    s = scoring or ScoringSection()
    departments = sorted(card.departments, key=lambda r: (r.rank, r.unit_id))
    staff = sorted((r for r in card.staff if r.deductions > 0), key=lambda r: (r.rank, r.unit_id))
    every = range(len(_HEAD))
    out = [
        "## Performance evaluation (绩效评估)\n",
        f"Score = {_formula(s)} (per case: below standard −{s.below_standard:g}, late −{s.late:g}, "
        f"both −{s.both:g}, red card −{s.red_card:g}; see the rulebook's `scoring` table). Classes: top "
        f"{s.class_one_fraction * 100:g} % class 1, next {s.class_two_fraction * 100:g} % class 2, "
        "rest class 3.\n",
        "### Departments\n",
        "\n".join(markdown_table(_HEAD, [_cells(r) for r in departments], every)) + "\n",
    ]
    if staff:
        out += [
            f"\n### Officials who lost points ({len(staff)} of {len(card.staff)})\n",
            "\n".join(markdown_table(_HEAD, [_cells(r) for r in staff], every)) + "\n",
        ]
    return "\n".join(out)
