"""Time-limit rules: deadline warning, overdue (yellow), severely overdue (red), step overdue.

All four are timers on a working-time clock (see :mod:`engine.runtime.cases`). A rule arms its
timer when the clock starts (``case.accepted`` / ``step.started``) and re-arms it when a
legally suspended case resumes, because the pause moved the deadline. A timer that fires
while the case is legally suspended does nothing: the resume will arm it again at the
right instant. A closed case is dropped by the engine, which cancels its timers, so a case
closed at or before its deadline never gets the alert.

The alert ``ts`` is the threshold instant itself (``WorkingCalendar.deadline`` semantics:
the *latest* instant at which the elapsed working time equals the threshold), which is
exactly when a supervisor watching the clock could first know.

One module per rule; the imports below are the rules' registration order, which is their run order."""

from __future__ import annotations

# isort: off
from engine.rules.approvals.deadline.warning import DeadlineWarning
from engine.rules.approvals.deadline.overdue import DeadlineOverdue
from engine.rules.approvals.deadline.severe import DeadlineSevere
from engine.rules.approvals.deadline.step_overdue import StepOverdue

# isort: on
from engine.rules.approvals.deadline.case_clock import InstantLimit, case_limit

__all__ = [
    "DeadlineOverdue",
    "DeadlineSevere",
    "DeadlineWarning",
    "InstantLimit",
    "StepOverdue",
    "case_limit",
]
