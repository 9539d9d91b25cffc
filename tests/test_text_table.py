"""The shared text table: columns line up in terminal columns, CJK included; Markdown escapes pipes."""

from __future__ import annotations

from reports.render.text_table import display_width, fixed_width, markdown_table, with_header


def test_cjk_cells_take_two_columns_and_the_figures_line_up() -> None:
    assert display_width("惠阳 D01") == 8 and display_width("abc") == 3
    lines = with_header(["unit", "alerts"], [["惠阳区行政服务中心", "7"], ["QD-D10", "1,234"]], right=(1,))
    assert lines[1] == "-" * 18 + "  " + "-" * 6
    assert {display_width(line) for line in lines} == {26}  # every line ends at the same terminal column
    assert lines[2].endswith("      7") and lines[3] == "QD-D10" + " " * 12 + "   1,234"


def test_trailing_blanks_are_dropped_and_no_rows_give_no_lines() -> None:
    assert fixed_width([["a", ""], ["bbb", ""]]) == ["a", "bbb"]
    assert fixed_width([]) == []


def test_markdown_escapes_a_pipe_and_aligns_numbers_right() -> None:
    assert markdown_table(["rule", "n"], [["a|b", "3"]], right=(1,)) == [
        "| rule | n |",
        "| --- | ---: |",
        "| a\\|b | 3 |",
    ]


def test_no_module_writes_a_markdown_table_by_hand() -> None:
    """Reports and commands write tables through text_table.py, so they all line up and escape alike."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    by_hand = [
        f"{path.relative_to(root)}:{n}"
        for top in ("reports", "supsim")
        for path in sorted((root / top).rglob("*.py"))
        if path.name != "text_table.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "|---" in line or "---:|" in line
    ]
    assert by_hand == []
