"""What a typed YAML decode cannot see: keys given twice and numbers that are not finite.

PyYAML (under ``msgspec.yaml.decode``) keeps the *last* of two equal keys without a word, so
``days: 3`` … ``days: 5`` runs five days and a second ``deadline:`` section silently replaces
the first; the service's JSON decoder refuses duplicate keys, and the files should too. And
``.inf`` / ``.nan`` (or ``1.0e+400``) pass every ``ge=`` bound of a Struct and then break the
arithmetic that uses them (a timer ``.inf`` days away), so they are refused here, naming the
field, before the decode. Both are read off the composed node tree, which keeps line numbers.

Every file kind that decodes YAML into Structs (scenarios, rulebooks, targets, sweep grids,
holiday files) calls :func:`yaml_problems` first; :func:`type_hint` adds the hint a YAML 1.1
reading needs to a msgspec "Expected …, got `str`" message.
"""

from __future__ import annotations

import math
import re
from datetime import date

import yaml

__all__ = ["date_problem", "impossible_date", "type_hint", "yaml_problems"]

_FLOAT_TAG = "tag:yaml.org,2002:float"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def yaml_problems(data: bytes | str) -> list[tuple[str, str]]:
    """``(field_path, reason)`` for each key given twice and each non-finite number.

    Malformed YAML gives no problem here: the typed decode that follows reports it.
    """
    try:
        root = yaml.compose(data, Loader=_Loader)
    except yaml.YAMLError:
        return []
    problems: list[tuple[str, str]] = []
    if root is not None:
        _walk(root, "$", problems)
    return problems


def _walk(node: yaml.Node, path: str, problems: list[tuple[str, str]]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            line = int(key.start_mark.line) + 1
            child = f"{path}.{name}"
            if name in seen:
                problems.append(
                    (child, f"given twice (lines {seen[name]} and {line}); remove one, or the last would win")
                )
            else:
                seen[name] = line
            _walk(value, child, problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, f"{path}[{i}]", problems)
    elif isinstance(node, yaml.ScalarNode) and node.tag == _FLOAT_TAG and not _finite(str(node.value)):
        line = int(node.start_mark.line) + 1
        problems.append((path, f"{node.value} (line {line}) is not a finite number"))


def _finite(text: str) -> bool:
    low = text.strip().lower()
    if "inf" in low or "nan" in low:
        return False
    try:
        return math.isfinite(float(low.replace("_", "")))
    except ValueError:  # YAML 1.1's sexagesimal 1:30.5 and the like: the decode judges them
        return True


_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def date_problem(data: bytes | str) -> tuple[str, str] | None:
    """``(field_path, reason)`` of the first date-shaped value that is no date (``2025-02-30``).

    PyYAML fails on it while constructing, without a line; a decoder calls this to say where.
    """
    try:
        found = impossible_date(yaml.compose(data, Loader=_Loader))
    except yaml.YAMLError:
        return None
    if found is None:
        return None
    path, line, text, reason = found
    return path, f"{text} (line {line}) is not a date ({reason})"


def impossible_date(root: yaml.Node | None) -> tuple[str, int, str, str] | None:
    """Path, 1-based line, text and reason of the first date-shaped value of a composed YAML tree
    that is no calendar date (``2012-02-30``), or None."""
    stack: list[tuple[yaml.Node, str]] = [(root, "$")] if root is not None else []
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            stack.extend((v, f"{path}.{k.value}") for k, v in reversed(node.value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(node.value))))
        elif node.tag == _TIMESTAMP_TAG and (m := _DATE.match(str(node.value))):
            try:
                date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError as exc:
                return path, int(node.start_mark.line) + 1, str(node.value), str(exc)
    return None


_NUMBER_AS_TEXT = re.compile(r"Expected `(?:float|int|number)[^`]*`.*got `str`", re.DOTALL)
_DATE_AS_TEXT = re.compile(r"Expected `date`.*got `str`", re.DOTALL)
_BOOL_AS_TEXT = re.compile(r"Expected `str`.*got `bool`", re.DOTALL)


def type_hint(reason: str) -> str:
    """``reason`` with the hint for the YAML 1.1 readings that make a value another type."""
    if _DATE_AS_TEXT.search(reason):
        return reason + " (write dates unquoted, as YYYY-MM-DD)"
    if _NUMBER_AS_TEXT.search(reason):
        return reason + " (unquoted; YAML reads 1e5 as text: write 1.0e+5)"
    if _BOOL_AS_TEXT.search(reason):
        return reason + " (YAML reads yes/no/on/off as true/false: quote the text)"
    return reason
