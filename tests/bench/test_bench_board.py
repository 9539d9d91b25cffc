"""A commit's board upkeep against rebuilding the whole board, with many halls that have had alerts.

After every group commit the writer publishes the alerts-by-hall board and the open board
(``/v1/stats``). The baseline is what each commit used to do: sort every (hall, department,
level) cell that ever had an alert into nested dicts. :class:`engine.service.board.CellCounts`
rebuilds only the halls the commit changed. The board here is a long-running service's:
1,536 halls × 12 departments × 3 levels, each commit adding alerts in 8 halls.
"""

from __future__ import annotations

import random
import time
from collections import Counter

import pytest

from engine.service.board import CellCounts

pytestmark = pytest.mark.bench

HALLS, DEPTS, LEVELS = 1_536, 12, ("red", "warning", "yellow")
COMMITS = 200
TOUCHED = 8


def _rebuild(cells: Counter[tuple[str, str, str]]) -> dict[str, dict[str, dict[str, int]]]:
    out: dict[str, dict[str, dict[str, int]]] = {}
    for (hall, dept, level), n in sorted(cells.items()):
        out.setdefault(hall, {}).setdefault(dept, {})[level] = n
    return out


def test_board_upkeep_per_commit(benchmark) -> None:
    rng = random.Random(1)
    cells = [(f"H{h:04d}", f"D{d:02d}", lv) for h in range(HALLS) for d in range(DEPTS) for lv in LEVELS]
    commits = [
        [
            (f"H{rng.randrange(HALLS):04d}", f"D{rng.randrange(DEPTS):02d}", rng.choice(LEVELS))
            for _ in range(TOUCHED)
        ]
        for _ in range(COMMITS)
    ]
    counts, naive = CellCounts(), Counter(cells)
    for cell in cells:
        counts.add(cell)
    assert counts.view() == _rebuild(naive)

    def incremental() -> None:
        for commit in commits:
            for cell in commit:
                counts.add(cell)
            counts.view()

    t0 = time.perf_counter()
    for commit in commits:
        naive.update(commit)
        _rebuild(naive)
    base = (time.perf_counter() - t0) / COMMITS
    benchmark.pedantic(incremental, rounds=1, iterations=1)
    t0 = time.perf_counter()
    incremental()
    this = (time.perf_counter() - t0) / COMMITS
    assert counts.view() == _rebuild(naive + Counter(c for commit in commits for c in commit))
    benchmark.extra_info.update(
        {
            "cells": len(cells),
            "per_commit_us": round(this * 1e6, 1),
            "full_rebuild_per_commit_us": round(base * 1e6, 1),
            "rebuild_over_incremental": round(base / this, 1),
        }
    )
    print(benchmark.extra_info)
