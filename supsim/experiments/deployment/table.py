"""Plain text tables for the deployment reports (the plan and both checks print them)."""

from __future__ import annotations

__all__ = ["table"]


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """Plain text columns: the first left-aligned, the others right-aligned."""
    widths = [max(len(r[k]) for r in [headers, *rows]) for k in range(len(headers))]

    def line(r: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in enumerate(zip(r, widths, strict=True))
        )

    return [line(headers), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]
