"""When complaints come in: per channel, office channels in working time, the others by the hour.

Why two shapes: a hotline or a desk takes complaints only while staffed (the calendar's
working periods), whereas web forms, SMS and e-mail arrive at any hour of any day, with a
daily rhythm (``hourly_profile``). A channel's ``per_month`` is its mean over the run: an
office channel's monthly volume is spread over the run's working days, an any-hour
channel's over all its days.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from sim.common.clock import SimClock
from sim.common.sections.complaints import Complaints

__all__ = ["DAYS_PER_MONTH", "draw_arrivals"]

#: Mean calendar days per month (365.25 / 12).
DAYS_PER_MONTH = 30.4375
_DAY = 86400


def draw_arrivals(
    spec: Complaints, clock: SimClock, days: int, rng: np.random.Generator
) -> list[tuple[int, str]]:
    """``(SimPy second, channel)`` of one hall's complaints over ``days`` days, in time order.

    Channels are drawn in the section's order from one generator, so a channel's rate
    changes only the draws of the channels after it.
    """
    cal = clock.calendar
    day0 = clock.start.date()
    working = [k for k in range(days) if cal.is_working_day(day0 + timedelta(days=k))]
    profile = np.asarray(spec.hourly_profile, dtype=np.float64)
    weights = profile / profile.sum() if profile.sum() > 0 else profile
    out: list[tuple[int, str]] = []
    for name, channel in spec.channels.items():
        total = channel.per_month * days / DAYS_PER_MONTH
        if channel.hours == "office":
            if not working:
                continue
            counts = rng.poisson(total / len(working), size=len(working))
            for k, n in zip(working, counts.tolist(), strict=True):
                if n == 0:
                    continue
                base = clock.index(k * _DAY)
                offsets = np.sort(rng.uniform(0.0, clock.day_seconds, size=n))
                out.extend((k * _DAY + clock.until_index(k * _DAY, base + float(u)), name) for u in offsets)
        else:
            counts = rng.poisson(total / days * weights, size=(days, 24))
            for k, h in zip(*np.nonzero(counts), strict=True):
                n = int(counts[k, h])
                secs = np.sort(rng.integers(0, 3600, size=n))
                out.extend((int(k) * _DAY + int(h) * 3600 + int(s), name) for s in secs)
    out.sort()
    return out
