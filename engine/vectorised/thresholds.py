"""Vectorised evaluation of the case-clock rules over many parameter values in one pass.

Why: a rule designer sweeping ``warning_lead_days`` over a hundred values would otherwise
run the streaming engine a hundred times over the same stream. For the case-clock rules
(``deadline.warning``, ``deadline.overdue``, ``deadline.severe``) a parameter only moves
the timer's due index, so with the arms recorded once (:mod:`engine.vectorised.trace`) every
value is one column of a numpy matrix: ``due = base + threshold × day`` and the arm
raises an alert iff ``due < block``; a case's alert is its first alerting arm (the
engine raises each alert once). The result is exactly the streaming engine's alerts for
those rules, down to the evidence (tested in ``tests/test_batch_*.py``).

Rules outside :data:`BATCH_RULES` have no batch path; sweeps run the streaming engine for
them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.contract.alerts import Alert, alert_id
from engine.rules.builtin import RULE_NAMES
from engine.rules.registry import rule_class
from engine.vectorised.trace import ClockTrace

__all__ = ["BATCH_RULES", "BatchAlerts", "batch_alerts", "materialise", "thresholds"]

#: Shipped rules with a vectorised path (a ``thresholds_many`` method), by name.
BATCH_RULES: tuple[str, ...] = tuple(n for n in RULE_NAMES if hasattr(rule_class(n), "thresholds_many"))


def thresholds(
    rule: str, params: Sequence[Mapping[str, Any]], trace: ClockTrace
) -> tuple[np.ndarray, np.ndarray]:
    """Threshold and limit in working days per (arm, variant); ``nan`` where no timer is set.

    Each column is the rule's own ``thresholds_many`` for one parameter set; the parameters
    are validated by building (and validating) the rule as the engine would.
    """
    cls = rule_class(rule)
    cols: list[np.ndarray] = []
    limits: list[np.ndarray] = []
    for p in params:
        inst = cls(**p)
        inst.validate()
        many = getattr(inst, "thresholds_many", None)
        if many is None:
            raise ValueError(f"rule {rule!r} has no batch path (batch rules: {', '.join(BATCH_RULES)})")
        col, lim = many(trace.arm_limit, trace.arm_promised)
        cols.append(col)
        limits.append(lim)
    if not cols:
        empty = np.zeros((trace.n_arms, 0))
        return empty, empty
    return np.stack(cols, axis=1), np.stack(limits, axis=1)


@dataclass(frozen=True, slots=True)
class BatchAlerts:
    """Alerts of one rule for every variant: ``variant[k]`` raised an alert on case
    ``case[k]`` from arm ``arm[k]`` at calendar index ``due[k]`` (threshold ``days[k]``)."""

    rule: str
    n_variants: int
    variant: np.ndarray
    case: np.ndarray
    arm: np.ndarray
    due: np.ndarray
    days: np.ndarray
    limit: np.ndarray

    def of(self, v: int) -> np.ndarray:
        """Row positions of variant ``v``."""
        return np.flatnonzero(self.variant == v)


def batch_alerts(rule: str, params: Sequence[Mapping[str, Any]], trace: ClockTrace) -> BatchAlerts:
    """Every variant's alerts of ``rule`` in one numpy pass over the trace's arms."""
    days, limits = thresholds(rule, params, trace)
    with np.errstate(invalid="ignore"):
        due = trace.arm_base[:, None] + days * trace.day_seconds
        fires = due < trace.arm_block[:, None]  # nan compares False: no timer, no alert
    arm_idx, var_idx = np.nonzero(fires)
    # First alerting arm per (variant, case): arms are in (case, time) order.
    cases = trace.arm_case[arm_idx]
    order = np.lexsort((arm_idx, cases, var_idx))
    arm_idx, var_idx, cases = arm_idx[order], var_idx[order], cases[order]
    first = np.ones(arm_idx.size, dtype=bool)
    first[1:] = (var_idx[1:] != var_idx[:-1]) | (cases[1:] != cases[:-1])
    arm_idx, var_idx, cases = arm_idx[first], var_idx[first], cases[first]
    return BatchAlerts(
        rule=rule,
        n_variants=len(params),
        variant=var_idx,
        case=cases,
        arm=arm_idx,
        due=due[arm_idx, var_idx],
        days=days[arm_idx, var_idx],
        limit=limits[arm_idx, var_idx],
    )


def materialise(batch: BatchAlerts, v: int, trace: ClockTrace) -> list[Alert]:
    """The full :class:`Alert` records of variant ``v``, as the streaming engine writes them,
    sorted by ``(ts, alert_id)``."""
    cls = rule_class(batch.rule)
    cal = trace.calendar
    day = trace.day_seconds
    out: list[Alert] = []
    for k in batch.of(v).tolist():
        c = int(batch.case[k])
        a = int(batch.arm[k])
        due = float(batch.due[k])
        threshold = float(batch.days[k])
        limit_days = float(batch.limit[k])
        holder, open_steps = trace.state_at(c, due)
        subject = f"case:{trace.case_ids[c]}"
        out.append(
            Alert(
                alert_id=alert_id(cls.name, cls.level, subject, ""),
                rule=cls.name,
                level=cls.level,
                subject=subject,
                ts=cal.from_index(due, latest=True),
                hall_id=trace.hall_ids[c],
                department_id=trace.department_ids[c],
                staff_id=holder,
                evidence={
                    "accepted_at": trace.accepted_at[c],
                    "case_type": trace.case_types[c],
                    "limit_days": limit_days,
                    "threshold_days": threshold,
                    "paused_days": round(float(trace.arm_paused[a]) / day, 6),
                    "open_steps": list(open_steps),
                    "score": round(threshold / limit_days, 6),
                },
            )
        )
    out.sort(key=lambda al: (al.ts, al.alert_id))
    return out
