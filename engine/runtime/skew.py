"""Skew tolerance: a deadline is judged only once the source's clock error cannot save the case.

Why: department servers' clocks are off by minutes (no time synchronisation). A case closed
two minutes before its deadline on the true clock reads as closed two minutes after it on a
clock running four minutes ahead: one record's stamp, not the official, decides the verdict.
With a skew tolerance ``τ`` for the case's source (``dept:<hall>/<department>``, by
source-name pattern, first match wins), a case-state timer (the deadline and step-limit
rules) due at index ``d`` fires at ``d + τ`` working seconds instead, so a closing or a
step completion stamped up to ``τ`` after the limit still cancels it; an alert that does
come is stamped at the limit ``d``, as without the tolerance. The price: the alert comes
``τ`` later, and a real violation by less than ``τ`` is not raised.

Logic rules are not shifted: each compares records of one case, all stamped by the same
department system, so a constant skew cancels; ``logic.backdated`` compares a person's
stated time with the server's stamp and has its own tolerance (30 minutes by default, above
the skews assumed in docs/data_quality.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fnmatch import fnmatchcase
from typing import Any

__all__ = ["SkewTolerance"]

TimerKey = tuple[str, str, str]


class SkewTolerance:
    """Shifts case timers by their source's tolerance, and remembers the shift to undo it."""

    __slots__ = ("_case_of", "_of", "_patterns", "_schedule")

    def __init__(
        self,
        patterns: Mapping[str, float],
        case_of: Callable[[TimerKey], Any],
        schedule: Callable[[TimerKey, float, list[TimerKey] | None], None],
    ) -> None:
        """``case_of(key)``: the open case a timer is about (None for other states' timers)."""
        self._patterns = dict(patterns)
        self._case_of = case_of
        self._schedule = schedule
        self._of: dict[str, float] = {}

    def tolerance_of(self, source: str) -> float:
        """The tolerance of ``source``: its first matching pattern, else 0."""
        tol = self._of.get(source)
        if tol is None:
            tol = self._of[source] = next(
                (float(v) for p, v in self._patterns.items() if fnmatchcase(source, p)), 0.0
            )
        return tol

    def of_timer(self, key: TimerKey) -> float:
        """The tolerance a timer is armed with: its case's source's, 0 for other states' timers.

        Asked again when the timer fires (the case's department never changes), so nothing
        is kept per timer.
        """
        case = self._case_of(key)
        return 0.0 if case is None else self.tolerance_of(f"dept:{case.hall_id}/{case.department_id}")

    def schedule(self, key: TimerKey, index: float, group: list[TimerKey] | None = None) -> None:
        """RuleContext.schedule, armed the timer's tolerance later."""
        self._schedule(key, index + self.of_timer(key), group)
