"""Fixed-width plain-text tables: the one column layout every terminal table of supsim uses.

Columns are two spaces apart, padded to their widest cell, left-aligned unless listed in
``right`` (numbers), and trailing blanks are dropped. A header gets a rule of dashes under
each column. Why not a library (tabulate, rich): this is the whole of what the tables need,
and their exact bytes are part of run folders (``summary.md`` beside the terminal table) and
of tests, which a library's releases could change.
"""

from __future__ import annotations

from collections.abc import Container, Sequence

__all__ = ["fixed_width", "with_header"]


def fixed_width(rows: Sequence[Sequence[str]], right: Container[int] = frozenset()) -> list[str]:
    """One line per row; every row has the same number of cells."""
    if not rows:
        return []
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return [
        "  ".join(
            c.rjust(w) if k in right else c.ljust(w) for k, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in rows
    ]


def with_header(
    header: Sequence[str], rows: Sequence[Sequence[str]], right: Container[int] = frozenset()
) -> list[str]:
    """The header, a rule of dashes under each column, then the rows (:func:`fixed_width`)."""
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    lines = fixed_width([header, *rows], right)
    return [lines[0], "  ".join("-" * w for w in widths), *lines[1:]]
