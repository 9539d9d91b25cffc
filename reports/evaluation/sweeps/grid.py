"""Sweep grids: which rule parameters to vary, over which values, scored how, for which goal.

A grid file names parameters as ``<rule>.<parameter>`` (``deadline.warning.warning_lead_days``),
the same names the rule's ``get_params`` returns, so any rule can be swept. Values are a
list or a ``{start, stop, num}`` linear range; several parameters form their Cartesian
product in file order. Like scenarios and rulebooks, the file is decoded into frozen
Structs with unknown keys rejected, so a typo fails before a single seed is simulated.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated, Any

import msgspec
import numpy as np
from msgspec import Meta

from engine.rules import rule_class
from reports.evaluation.sweeps.score import Target

__all__ = ["Goal", "Grid", "GridError", "LinearRange", "Variant", "load_grid", "variants"]


class GridError(ValueError):
    """A grid file that cannot be used; the message names the file and the field."""


class LinearRange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    start: float
    stop: float
    num: Annotated[int, Meta(ge=1, le=100_000)]

    def values(self) -> list[float]:
        return [round(float(x), 9) for x in np.linspace(self.start, self.stop, self.num)]


class Goal(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Best recall subject to one constraint: ``min_precision`` or ``max_alerts_per_day``."""

    min_precision: Annotated[float, Meta(ge=0, le=1)] | None = None
    max_alerts_per_day: Annotated[float, Meta(ge=0)] | None = None

    def describe(self) -> str:
        if self.min_precision is not None:
            return f"best recall at precision >= {self.min_precision:g}"
        return f"best recall within {self.max_alerts_per_day:g} alerts per working day"


class Grid(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    params: Annotated[dict[str, list[float] | LinearRange], Meta(min_length=1)]
    score: dict[str, Target] = {}
    goal: Goal = Goal(min_precision=0.5)
    tolerance_s: Annotated[float, Meta(ge=0)] = 60.0

    def rules(self) -> tuple[str, ...]:
        """Swept rules, in first-mention order."""
        return tuple(dict.fromkeys(_split(name)[0] for name in self.params))


#: One variant: rule name -> parameters to set on it (only the swept ones).
Variant = dict[str, dict[str, Any]]


def _split(name: str) -> tuple[str, str]:
    rule, _, param = name.rpartition(".")
    return rule, param


def variants(grid: Grid) -> list[Variant]:
    """The Cartesian product of the grid's values, first parameter varying slowest."""
    names = list(grid.params)
    axes = [v.values() if isinstance(v, LinearRange) else [float(x) for x in v] for v in grid.params.values()]
    out: list[Variant] = []
    for combo in itertools.product(*axes):
        variant: Variant = {}
        for name, value in zip(names, combo, strict=True):
            rule, param = _split(name)
            variant.setdefault(rule, {})[param] = value
        out.append(variant)
    return out


def _check(grid: Grid, where: str) -> Grid:
    for name, values in grid.params.items():
        rule, param = _split(name)
        try:
            cls = rule_class(rule)
        except KeyError as exc:
            raise GridError(f"{where}: `$.params.{name}` - {exc.args[0]}") from None
        if param not in cls.param_names():
            valid = ", ".join(cls.param_names()) or "none"
            raise GridError(
                f"{where}: `$.params.{name}` - rule {rule!r} has no parameter {param!r} ({valid})"
            )
        if isinstance(values, list) and not values:
            raise GridError(f"{where}: `$.params.{name}` - no values")
    for rule, target in grid.score.items():
        if target.early not in ("bounded", "unbounded"):
            raise GridError(f"{where}: `$.score.{rule}.early` - must be 'bounded' or 'unbounded'")
    g = grid.goal
    if (g.min_precision is None) == (g.max_alerts_per_day is None):
        raise GridError(f"{where}: `$.goal` - give exactly one of min_precision, max_alerts_per_day")
    return grid


def decode_grid(data: bytes | str, *, where: str = "grid") -> Grid:
    try:
        grid = msgspec.yaml.decode(data, type=Grid)
    except msgspec.ValidationError as exc:
        raise GridError(f"{where}: {exc}") from None
    except msgspec.DecodeError as exc:
        raise GridError(f"{where}: `$` - malformed YAML ({exc})") from None
    return _check(grid, where)


def load_grid(path: str | Path) -> Grid:
    path = Path(path)
    return decode_grid(path.read_bytes(), where=str(path))
