"""Plain-text and Markdown tables: the one layout every table of supsim's terminal output and reports uses.

Fixed width: columns two spaces apart, padded to their widest cell in *terminal columns* (a
CJK character takes two, so a table of 惠阳 departments lines up), left-aligned unless listed
in ``right`` (numbers), trailing blanks dropped; a header gets a rule of dashes under each
column. Markdown: a header row, an alignment row (``---:`` for ``right``), and cells with
``|`` escaped. Why not a library (tabulate, rich): this is the whole of what the tables need,
and their exact bytes are part of run folders (``summary.md``) and of tests, which a library's
releases could change.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Container, Sequence

__all__ = ["display_width", "fixed_width", "markdown_table", "with_header"]


def display_width(text: str) -> int:
    """Terminal columns of ``text``: wide and full-width (CJK) characters take two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool) -> str:
    fill = " " * (width - display_width(text))
    return fill + text if right else text + fill


def _widths(rows: Sequence[Sequence[str]]) -> list[int]:
    return [max(display_width(r[c]) for r in rows) for c in range(len(rows[0]))]


def fixed_width(rows: Sequence[Sequence[str]], right: Container[int] = frozenset()) -> list[str]:
    """One line per row; every row has the same number of cells."""
    if not rows:
        return []
    widths = _widths(rows)
    return [
        "  ".join(
            _pad(c, w, right=k in right) for k, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in rows
    ]


def with_header(
    header: Sequence[str], rows: Sequence[Sequence[str]], right: Container[int] = frozenset()
) -> list[str]:
    """The header, a rule of dashes under each column, then the rows (:func:`fixed_width`)."""
    widths = _widths([header, *rows])
    lines = fixed_width([header, *rows], right)
    return [lines[0], "  ".join("-" * w for w in widths), *lines[1:]]


def markdown_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], right: Container[int] = frozenset()
) -> list[str]:
    """A Markdown table: header, alignment row, one line per row (``|`` in a cell escaped)."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    align = ["---:" if k in right else "---" for k in range(len(header))]
    return [line(header), "| " + " | ".join(align) + " |", *(line(r) for r in rows)]
