"""Plain text tables for the deployment reports (the plan and both checks print them)."""

from __future__ import annotations

from reports.render.text_table import with_header

__all__ = ["table"]


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """The deployment reports' layout: the first column left-aligned (names), the others right (figures)."""
    return with_header(headers, rows, right=range(1, len(headers)))
