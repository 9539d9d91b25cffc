"""Amounts as spreadsheets in different locales write them.

``1234.5``, ``1'234.50`` (Switzerland), ``1 234,50`` (France), ``1.234,50`` (Brazil, Italy,
Germany). Spaces, apostrophes and their typographic forms only ever group thousands, so they
are dropped. A comma or a dot is ambiguous on its own (``1,500``: one and a half, or fifteen
hundred?), so the file's decimal mark is stated, not guessed: with ``decimal=","`` a dot must
group thousands, and with the default ``"."`` a comma is refused with a hint to say so, unless
the amount also has its decimal point (``1,234.50``, the United States' way), which settles it.
"""

from __future__ import annotations

import re

__all__ = ["DECIMAL_MARKS", "parse_amount"]

DECIMAL_MARKS = (".", ",")
_GROUPING = str.maketrans("", "", " '\u00a0\u202f\u2019")
_DOT_GROUPED = re.compile(r"[+-]?\d{1,3}(\.\d{3})+(,\d*)?")
#: ``1,234.50``: commas grouping thousands *and* a decimal point, so neither mark is in doubt.
_COMMA_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+\.\d*")


def parse_amount(text: str, decimal: str = ".") -> float:
    """``text`` as a number; ``ValueError`` saying why not (the caller names the file and line)."""
    if decimal not in DECIMAL_MARKS:
        raise ValueError(f"decimal mark {decimal!r} is not one of {', '.join(DECIMAL_MARKS)}")
    s = text.strip().translate(_GROUPING)
    if decimal == ",":
        if "." in s and not _DOT_GROUPED.fullmatch(s):
            raise ValueError("has a '.' that does not group thousands, in a file read with decimal comma")
        s = s.replace(".", "").replace(",", ".")
    elif "," in s:
        if not _COMMA_GROUPED.fullmatch(s):  # 1,500 alone could be either; 1,234.50 cannot
            raise ValueError("has a ','; if the file writes decimals with a comma, read it with --decimal ,")
        s = s.replace(",", "")
    try:
        return float(s)
    except ValueError:
        raise ValueError("is not a number") from None
