"""Every sweep grid shipped in scenarios/grids decodes and expands to the product of its value lists.

The docs quote these grids' commands; a grid that no longer decodes (a renamed parameter family, a
goal key that moved) would fail only when a reader runs it.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from reports.evaluation.sweeps.grid import LinearRange, load_grid, variants

GRIDS = sorted((Path(__file__).resolve().parents[1] / "scenarios" / "grids").glob("*.yaml"))


def test_the_grids_folder_is_found() -> None:
    assert len(GRIDS) >= 7


@pytest.mark.parametrize("path", GRIDS, ids=lambda p: p.stem)
def test_a_shipped_grid_decodes_and_expands(path: Path) -> None:
    grid = load_grid(path)
    sizes = [v.num if isinstance(v, LinearRange) else len(v) for v in grid.params.values()]
    assert len(variants(grid)) == math.prod(sizes) >= 2
