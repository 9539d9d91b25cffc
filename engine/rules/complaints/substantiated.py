"""Substantiated complaint (一次投诉查实待岗): a complaint naming an official was found substantiated.

The rules in force suspend an official from the post after one substantiated complaint, so
the supervision centre must know at once: the alert is raised at the answer that finds it
substantiated (not partly), about the complaint, naming the official the complaint named.
A unit's substantiated complaint without a named official suspends nobody and raises nothing.
The level is ``red``: suspension is the heaviest consequence a single complaint has.
"""

from __future__ import annotations

from typing import Any

from engine.rules.complaints.clock import ComplaintRule
from engine.rules.registry import register

__all__ = ["SubstantiatedComplaint"]


@register
class SubstantiatedComplaint(ComplaintRule):
    """A substantiated finding on a complaint that names an official: the official is to be suspended."""

    name = "complaint.substantiated"
    level = "red"
    section = None  # no thresholds: a substantiated finding is a fact, not a measurement
    kinds = ("complaint.answered",)

    def check_one(self, event: Any, state: Any) -> None:
        if event.finding != "substantiated" or state.staff_id is None:
            return
        self.emit_complaint(
            state,
            event.ts,
            staff_id=state.staff_id,
            evidence={"finding": event.finding, "answered_by": event.staff_id, "round": state.round},
        )
