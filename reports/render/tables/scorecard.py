"""Presenting the performance evaluation (绩效评估) that ``engine.scoring`` computes.

The scorecard itself is the engine's (it is what a live supervision centre publishes); a
run report shows the departments in rank order with their deductions, and the officials
who lost points, because a bureau reads a ranking from the bottom up.
"""

from __future__ import annotations

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


def render_scorecard_table(card: Scorecard, *, worst: int = 5) -> str:
    """The lowest-ranked departments and officials as fixed-width text."""
    departments, staff = _pick(card, worst)
    right = [k for k in range(len(_HEAD)) if k != 1]  # the unit's name left, figures right
    lines = [
        f"Performance evaluation (100 + bonus − deductions): {len(card.departments)} departments, "
        f"{len(card.staff)} officials",
        "lowest-ranked departments:",
        *fixed_width([list(_HEAD), *(_cells(r) for r in departments)], right),
    ]
    if staff:
        lines += ["lowest-ranked officials:", *fixed_width([list(_HEAD), *(_cells(r) for r in staff)], right)]
    return "\n".join(lines)


def render_scorecard_markdown(card: Scorecard) -> str:
    """Every department, and every official who lost points, as Markdown tables."""
    departments = sorted(card.departments, key=lambda r: (r.rank, r.unit_id))
    staff = sorted((r for r in card.staff if r.deductions > 0), key=lambda r: (r.rank, r.unit_id))
    every = range(len(_HEAD))
    out = [
        "## Performance evaluation (绩效评估)\n",
        "Score = 100 + bonus − deductions (per case: below standard −1, late −1, both −2, red card −3; "
        "see the rulebook's `scoring` table). Classes: top 20 % class 1, next 60 % class 2, rest class 3.\n",
        "### Departments\n",
        "\n".join(markdown_table(_HEAD, [_cells(r) for r in departments], every)) + "\n",
    ]
    if staff:
        out += [
            f"\n### Officials who lost points ({len(staff)} of {len(card.staff)})\n",
            "\n".join(markdown_table(_HEAD, [_cells(r) for r in staff], every)) + "\n",
        ]
    return "\n".join(out)
