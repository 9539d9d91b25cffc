"""Attendance, disputes and the discipline card ladder.

* ``discipline.late_arrival`` / ``discipline.early_departure``: against the published roster,
  with a tolerance; late is known at ``shift_start + tolerance`` without a clock-in (the
  engine does not wait for the person to turn up), early at the clock-out itself.
* ``discipline.dispute``: ``dispute_min_alerts`` raised-voice detections of at least
  ``dispute_min_confidence`` at one window within ``dispute_window_minutes`` route the
  window for review (no verdict, no deduction: a human listens to the recording).
  One alert per burst: a new one needs ``dispute_cooldown_minutes`` of quiet.
* ``discipline.blue_card`` / ``yellow_card`` / ``red_card``: a ladder per staff member and
  calendar month, on the *n*-th violation (absence, late arrival, early departure). The
  blue rung is raised at level ``warning`` so that card boards rank it below yellow.

One module per rule; the imports below are the rules' registration order, which is their run order."""

from __future__ import annotations

# isort: off
from engine.rules.discipline.conduct.late_arrival import LateArrivalRule
from engine.rules.discipline.conduct.early_departure import EarlyDepartureRule
from engine.rules.discipline.conduct.dispute import DisputeRule
from engine.rules.discipline.conduct.blue_card import BlueCardRule
from engine.rules.discipline.conduct.yellow_card import YellowCardRule
from engine.rules.discipline.conduct.red_card import RedCardRule

# isort: on
from engine.rules.discipline.conduct.bases import VIOLATION_RULES, LadderCardRule

__all__ = [
    "VIOLATION_RULES",
    "BlueCardRule",
    "DisputeRule",
    "EarlyDepartureRule",
    "LadderCardRule",
    "LateArrivalRule",
    "RedCardRule",
    "YellowCardRule",
]
