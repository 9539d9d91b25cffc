"""Progress bars for long work, on standard error so that piped output stays clean.

A thin wrapper over tqdm: bars are shown on a terminal and silenced elsewhere (CI logs,
pipes), and the simulator's ``progress(done, total)`` callback maps onto ``update_to``.
"""

from __future__ import annotations

import sys
from types import TracebackType

from tqdm import tqdm

__all__ = ["Progress"]


class Progress:
    def __init__(self, desc: str, *, unit: str, total: int | None = None, enabled: bool = True) -> None:
        self._bar = tqdm(
            total=total,
            desc=desc,
            unit=unit,
            unit_scale=unit in ("event", "line"),  # 1.2M events reads well; 1.00/2.00 seeds does not
            file=sys.stderr,
            disable=None if enabled else True,  # None: only on a terminal
            dynamic_ncols=True,
            leave=False,
        )

    def update_to(self, done: int, total: int) -> None:
        """Callback form ``progress(done, total)``: move the bar to ``done`` of ``total``."""
        if self._bar.total != total:
            self._bar.total = total
        self._bar.update(done - self._bar.n)

    def advance(self, n: int) -> None:
        self._bar.update(n)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._bar.close()
