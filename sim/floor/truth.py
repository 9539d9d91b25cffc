"""Camera-world ground truth: absences, breaks, late/early, empty windows, outages, disputes.

Truth is labelled from what really happened (the conduct processes and the true queue),
never from the detections. Durations of absences are counted in *service time* (the
working periods of the calendar), because "leaving the post for 15 minutes during service
hours" is what the county rules punish: an absence across lunch counts only its service
minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
import numpy.typing as npt

from engine.contract.calendar import WorkingCalendar
from sim.common.sections.cameras import CameraTruthSpec
from sim.common.truth import Episode
from sim.floor.conduct import WindowDay

__all__ = ["DISCIPLINE_KINDS", "conduct_truth", "empty_window_truth", "interval_truth"]

#: Truth kinds of the camera world (``legit_break`` is the look-alike of ``post_absence``).
DISCIPLINE_KINDS: tuple[str, ...] = (
    "post_absence",
    "late_arrival",
    "early_departure",
    "empty_window",
    "capacity",
    "camera_outage",
    "dispute",
)

QueueFn = Callable[[npt.NDArray[np.float64]], npt.NDArray[np.int64]]


def _dt(x: float, cal: WorkingCalendar) -> datetime:
    return datetime.fromtimestamp(round(x, 3), cal.tz)


def conduct_truth(days: list[WindowDay], cal: WorkingCalendar) -> list[Episode]:
    """Absences (illegitimate and legitimate), late arrivals and early departures."""
    out: list[Episode] = []
    for wd in days:
        s = wd.seat
        base = f"{s.staff_id}-{wd.day:%Y%m%d}"
        for k, (start, end, reason) in enumerate(wd.away):
            if reason == "lunch":
                continue
            a, b = _dt(start, cal), _dt(end, cal)
            params: dict[str, str | int | float | bool | None] = {
                "window_id": s.window_id,
                "camera_id": s.camera_id,
                "service_s": round(cal.working_seconds(a, b), 3),
                "reason": reason,
            }
            legit = reason != "leave"
            out.append(
                Episode(
                    episode_id=f"{'brk' if legit else 'abs'}-{base}-{k}",
                    kind="legit_break" if legit else "post_absence",
                    subject=f"staff:{s.staff_id}",
                    onset=a,
                    end=b,
                    lookalike=legit,
                    confuses=("post_absence",) if legit else (),
                    cause="lookalike" if legit else "injected",
                    params=params,
                    hall_id=s.hall_id,
                    department_id=s.department_id,
                    staff_id=s.staff_id,
                )
            )
        for kind, a_s, b_s in (
            ("late_arrival", wd.shift_start, wd.arrive),
            ("early_departure", wd.depart, wd.shift_end),
        ):
            if b_s > a_s:
                out.append(
                    Episode(
                        episode_id=f"{kind}-{base}",
                        kind=kind,
                        subject=f"staff:{s.staff_id}",
                        onset=_dt(a_s, cal),
                        end=_dt(b_s, cal),
                        params={"window_id": s.window_id, "minutes": round((b_s - a_s) / 60.0, 2)},
                        hall_id=s.hall_id,
                        department_id=s.department_id,
                        staff_id=s.staff_id,
                    )
                )
    return out


def runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """``[start, end)`` index pairs of the True runs of ``mask``."""
    if mask.size == 0:
        return []
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[0::2], edges[1::2], strict=True)]


def empty_window_truth(
    wd: WindowDay,
    t: npt.NDArray[np.float64],
    present: npt.NDArray[np.bool_],
    queue: QueueFn,
    spec: CameraTruthSpec,
    cal: WorkingCalendar,
) -> list[Episode]:
    """Runs of (seat empty, in a working period, department queue >= threshold) of the minimum length."""
    in_service = np.zeros(t.size, dtype=np.bool_)
    for a, b in wd.periods:
        in_service |= (t >= a) & (t < b)
    empty = ~present & in_service & (queue(t) >= spec.queue_threshold)
    s = wd.seat
    out: list[Episode] = []
    for k, (i, j) in enumerate(runs(empty)):
        end = t[j] if j < t.size else t[-1]
        if end - t[i] < 60.0 * spec.empty_minutes:
            continue
        out.append(
            Episode(
                episode_id=f"empty-{s.window_id}-{wd.day:%Y%m%d}-{k}",
                kind="empty_window",
                subject=f"window:{s.window_id}",
                onset=_dt(float(t[i]), cal),
                end=_dt(float(end), cal),
                hall_id=s.hall_id,
                department_id=s.department_id,
                staff_id=s.staff_id,
                params={"window_id": s.window_id, "queue_threshold": spec.queue_threshold},
            )
        )
    return out


def interval_truth(
    kind: str, subject: str, prefix: str, spans: list[tuple[float, float]], cal: WorkingCalendar, **ids: str
) -> list[Episode]:
    """One episode per span (outages of a camera, disputes at a window)."""
    return [
        Episode(
            episode_id=f"{prefix}-{k}",
            kind=kind,
            subject=subject,
            onset=_dt(a, cal),
            end=_dt(b, cal),
            hall_id=ids.get("hall_id"),
            department_id=ids.get("department_id"),
            staff_id=ids.get("staff_id"),
            params={k2: v for k2, v in ids.items() if k2 not in ("hall_id", "department_id", "staff_id")},
        )
        for k, (a, b) in enumerate(spans)
    ]
