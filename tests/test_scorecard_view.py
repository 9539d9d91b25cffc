"""The scorecard as a run shows it: worst units last, every department listed in Markdown."""

from __future__ import annotations

from engine.scoring import Scorecard, ScoreRow
from reports.render.tables.scorecard import render_scorecard_markdown, render_scorecard_table


def _row(unit: str, uid: str, score: float, rank: int, grade: int, **counts: int) -> ScoreRow:
    return ScoreRow(
        unit=unit,  # type: ignore[arg-type]
        unit_id=uid,
        base=100.0,
        bonus=0.0,
        deductions=100.0 - score,
        score=score,
        rank=rank,
        grade=grade,
        **counts,
    )


CARD = Scorecard(
    departments=[
        _row("department", "D-good", 100.0, 1, 1),
        _row("department", "D-bad", 91.0, 3, 3, below_standard=2, both=1, red_cards=1),
        _row("department", "D-mid", 99.0, 2, 2, late=1),
    ],
    staff=[_row("staff", "S-clean", 100.0, 1, 1), _row("staff", "S-late", 98.0, 2, 3, both=1)],
)


def test_table_lists_departments_worst_last_and_only_penalised_officials() -> None:
    text = render_scorecard_table(CARD, worst=2)
    lines = text.splitlines()
    dept_lines = [line for line in lines if line.strip().split()[1:2] in (["D-mid"], ["D-bad"], ["D-good"])]
    assert [line.split()[1] for line in dept_lines] == ["D-mid", "D-bad"]  # the two worst, worst last
    assert "S-late" in text and "S-clean" not in text
    assert "91.0" in text


def test_markdown_has_every_department_and_the_deduction_rule() -> None:
    md = render_scorecard_markdown(CARD)
    for uid in ("D-good", "D-mid", "D-bad"):
        assert f"| {uid} |" in md
    assert md.index("D-good") < md.index("D-mid") < md.index("D-bad")
    assert "| 3 | D-bad | 91.0 | 3 | 2 | 0 | 1 | 1 |" in md
    assert "S-clean" not in md


def test_the_rule_shown_is_the_rulebooks() -> None:
    """Before: "100 + bonus − deductions … late −1 …" whatever the rulebook's scoring table said."""
    from engine.rules.settings import ScoringSection

    assert (
        "Score = 100 + bonus − deductions (per case: below standard −1, late −1, both −2, red card −3;"
        in (render_scorecard_markdown(CARD))
    )
    own = ScoringSection(base=50.0, late=4.0, red_card=5.0, class_one_fraction=0.1, class_two_fraction=0.7)
    md = render_scorecard_markdown(CARD, own)
    assert (
        "Score = 50 + bonus − deductions (per case: below standard −1, late −4, both −2, red card −5;" in md
    )
    assert "top 10 % class 1, next 70 % class 2" in md
    assert render_scorecard_table(CARD, own).startswith("Performance evaluation (50 + bonus − deductions)")
