"""Clock skew and drift of a source system: how far its stamps are from the true time.

Why linear drift from the start of the run: an unsynchronised server clock gains or loses
a roughly constant amount per day, on top of whatever offset it had when last set.
"""

from __future__ import annotations

from datetime import datetime

from sim.common.sections.quality import ClockSpec

__all__ = ["clock_shift_s"]


def clock_shift_s(spec: ClockSpec | None, ts: datetime, origin: datetime) -> float:
    """Seconds the system's clock is off at true instant ``ts`` (``origin``: start of the run)."""
    if spec is None:
        return 0.0
    days = (ts - origin).total_seconds() / 86400
    return spec.skew_minutes * 60 + spec.drift_seconds_per_day * days
