"""The camera layer: conduct + true queues + noisy analytics → camera events and their truth.

It runs after the hall model and reads only its output: the case events give the true
queue of each department (submitted at a window, not yet accepted) and the rejections at a
window that may turn into disputes. One presence camera watches each window's seat (it
also carries the window's audio analytics); one queue camera counts each department's
queue. What the cameras emit is what real analytics emit: presence *changes* with a
confidence, periodic heartbeats, queue counts, raised-voice alerts; with per-camera clock
offsets, outages (silence, no heartbeats), and duplicate deliveries. On reconnecting after
an outage a camera re-sends its current verdict, as real devices do. When the hall has a
queue-number system (``queue_system.enabled``), its ticket and call records come along
(:mod:`sim.floor.tickets`); they are hall devices too, on the hall's own clock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from engine.contract.calendar import WorkingCalendar
from engine.contract.events import (
    AudioAlert,
    CameraHeartbeat,
    CaseAccepted,
    CaseDecided,
    CaseSubmitted,
    Event,
    PresenceDetected,
    QueueCount,
    QueueTicket,
)
from sim.common.hall_model import HallModel
from sim.common.sections.cameras import Cameras, DetectorSpec
from sim.common.truth import Episode
from sim.floor.conduct import Seat, WindowDay, day_list, simulate_conduct
from sim.floor.detector import change_points, detect_frames
from sim.floor.tickets import queue_records
from sim.floor.truth import conduct_truth, empty_window_truth, interval_truth
from sim.floor.waits import capacity_truth, window_waits

__all__ = ["CameraWorld", "department_queues", "seats_of", "simulate_cameras"]

Spans = list[tuple[float, float]]
F64 = npt.NDArray[np.float64]


@dataclass(slots=True)
class CameraWorld:
    events: list[Event]
    truth: list[Episode]
    stats: dict[str, int] = field(default_factory=dict)


def seats_of(halls: Sequence[HallModel]) -> list[Seat]:
    """One seat per window staff member; the camera id is derived from the window id."""
    return [
        Seat(h.id, d.id, s.window_id, s.id, f"{s.window_id}-CAM")
        for h in halls
        for d in h.departments
        for s in d.window_staff
        if s.window_id is not None
    ]


class _Queue:
    """True queue length of one department: window submissions not yet accepted."""

    def __init__(self, subs: list[float], accs: list[float]) -> None:
        self.subs = np.sort(np.asarray(subs, dtype=np.float64))
        self.accs = np.sort(np.asarray(accs, dtype=np.float64))

    def __call__(self, t: F64) -> npt.NDArray[np.int64]:
        return (np.searchsorted(self.subs, t, "right") - np.searchsorted(self.accs, t, "right")).astype(
            np.int64
        )


def department_queues(events: Sequence[Event]) -> tuple[dict[str, _Queue], list[tuple[str, float]]]:
    """The true queue per department and the rejections at a window as ``(window_id, ts)``."""
    subs: dict[str, list[float]] = {}
    accs: dict[str, list[float]] = {}
    window_of: dict[str, str] = {}
    instant: set[str] = set()
    queued: set[str] = set()
    rejections: list[tuple[str, float]] = []
    for e in events:
        if isinstance(e, CaseSubmitted) and e.channel == "window":
            subs.setdefault(e.department_id, []).append(e.ts.timestamp())
            queued.add(e.case_id)
        elif isinstance(e, CaseAccepted) and e.window_id is not None:
            window_of[e.case_id] = e.window_id
            if e.case_type == "instant":
                instant.add(e.case_id)
            if e.case_id in queued:
                accs.setdefault(e.department_id, []).append(e.ts.timestamp())
        elif isinstance(e, CaseDecided) and e.decision == "reject" and e.case_id in instant:
            rejections.append((window_of[e.case_id], e.ts.timestamp()))
    queues = {d: _Queue(subs.get(d, []), accs.get(d, [])) for d in sorted(set(subs) | set(accs))}
    return queues, rejections


def _spans(
    rate: float, dist_median: float, sigma: float, lo: float, hi: float, rng: np.random.Generator
) -> Spans:
    n = int(rng.poisson(rate))
    starts = np.sort(rng.uniform(lo, hi, n))
    lengths = 60.0 * rng.lognormal(np.log(dist_median), sigma, n)
    out: Spans = []
    for a, ln in zip(starts.tolist(), lengths.tolist(), strict=True):
        if out and a < out[-1][1]:
            continue
        out.append((a, min(a + ln, hi)))
    return out


def _inside(t: F64, spans: Spans) -> npt.NDArray[np.bool_]:
    mask = np.zeros(t.size, dtype=np.bool_)
    for a, b in spans:
        mask |= (t >= a) & (t < b)
    return mask


def _presence(wd: WindowDay, t: F64) -> npt.NDArray[np.bool_]:
    present = (t >= wd.arrive) & (t < wd.depart)
    for a, b, _ in wd.away:
        present &= ~((t >= a) & (t < b))
    return present


class _Emitter:
    """Builds camera events with the camera's clock offset and drops what falls in an outage."""

    def __init__(self, cal: WorkingCalendar) -> None:
        self.cal = cal
        self.events: list[Event] = []

    def ts(self, x: float, skew: float) -> datetime:
        return datetime.fromtimestamp(round(x + skew, 3), self.cal.tz)


def _camera_day(
    em: _Emitter,
    wd: WindowDay,
    spec: DetectorSpec,
    lo: float,
    hi: float,
    outages: Spans,
    skew: float,
    rng: np.random.Generator,
) -> tuple[F64, npt.NDArray[np.bool_]]:
    """Presence events and heartbeats of one window camera for one day; returns (frame times, truth)."""
    s = wd.seat
    n = int((hi - lo) * spec.fps)
    t = lo + np.arange(n, dtype=np.float64) / spec.fps
    present = _presence(wd, t)
    detected, conf = detect_frames(present, spec, rng)
    down = _inside(t, outages)
    idx = set(change_points(detected).tolist())
    up = np.flatnonzero(down[:-1] & ~down[1:]) + 1  # first frame after each outage: re-send state
    idx.update(up.tolist())
    for i in sorted(idx):
        if down[i]:
            continue
        em.events.append(
            PresenceDetected(
                event_id=f"{s.camera_id}-p{int(t[i]):d}{i % 1000:03d}",
                ts=em.ts(float(t[i]), skew),
                hall_id=s.hall_id,
                camera_id=s.camera_id,
                zone="seat",
                present=bool(detected[i]),
                confidence=round(float(conf[i]), 3),
                window_id=s.window_id,
            )
        )
    _heartbeats(em, s.hall_id, s.camera_id, spec, lo, hi, outages, skew)
    return t, present


def _heartbeats(
    em: _Emitter,
    hall: str,
    camera: str,
    spec: DetectorSpec,
    lo: float,
    hi: float,
    outages: Spans,
    skew: float,
) -> None:
    hb = np.arange(lo, hi, spec.heartbeat_seconds)
    for x in hb[~_inside(hb, outages)].tolist():
        em.events.append(
            CameraHeartbeat(event_id=f"{camera}-h{int(x)}", ts=em.ts(x, skew), hall_id=hall, camera_id=camera)
        )


def simulate_cameras(
    spec: Cameras,
    halls: Sequence[HallModel],
    hall_events: Sequence[Event],
    cal: WorkingCalendar,
    start: datetime,
    end: datetime,
    rng: np.random.Generator,
) -> CameraWorld:
    """Conduct, cameras, queues and audio for every window and department of ``halls``."""
    # the eighth child is new: the first seven (and so every other stream) are unchanged
    r_conduct, r_detect, r_outage, r_queue, r_audio, r_dup, r_skew, r_tickets = rng.spawn(8)
    det = spec.detector
    days = day_list(start, end, cal)
    seats = seats_of(halls)
    window_days, events = simulate_conduct(seats, days, cal, spec.conduct, r_conduct)
    truth = conduct_truth(window_days, cal)
    queues, rejections = department_queues(hall_events)
    waits = window_waits(hall_events, {s.staff_id for s in seats})
    qn_events: list[Event] = []
    if spec.queue_system.enabled:
        qn = queue_records(waits, {s.staff_id: s.window_id for s in seats}, spec.queue_system, cal, r_tickets)
        qn_events, waits = qn.events, [*waits, *qn.abandoned]
    truth += capacity_truth(
        waits,
        cal,
        wait_minutes=spec.truth.capacity_wait_minutes,
        merge_minutes=spec.truth.capacity_merge_minutes,
    )
    margin = 60.0 * spec.margin_minutes
    em = _Emitter(cal)
    skews: dict[str, float] = {}

    def skew_of(camera: str) -> float:
        if camera not in skews:
            skews[camera] = float(r_skew.normal(0.0, det.skew_seconds)) if det.skew_seconds > 0 else 0.0
        return skews[camera]

    no_queue = _Queue([], [])
    disputes: dict[str, Spans] = {}
    for window, x in rejections:
        if r_audio.random() < spec.conduct.dispute_rate:
            ln = 60.0 * float(
                r_audio.lognormal(
                    np.log(spec.conduct.dispute_minutes.median), spec.conduct.dispute_minutes.sigma
                )
            )
            disputes.setdefault(window, []).append((x, x + ln))
    outages_all: dict[str, Spans] = {}
    for wd in window_days:
        s = wd.seat
        lo, hi = wd.shift_start - margin, wd.shift_end + margin
        outs = _spans(det.outage_rate, det.outage_minutes.median, det.outage_minutes.sigma, lo, hi, r_outage)
        outages_all.setdefault(s.camera_id, []).extend(outs)
        t, present = _camera_day(em, wd, det, lo, hi, outs, skew_of(s.camera_id), r_detect)
        truth += empty_window_truth(wd, t, present, queues.get(s.department_id, no_queue), spec.truth, cal)
        day_disputes = [d for d in disputes.get(s.window_id, []) if lo <= d[0] < hi]
        _audio(em, s, day_disputes, wd.periods, outs, skew_of(s.camera_id), det, r_audio)
    depts = sorted({(s.hall_id, s.department_id) for s in seats})
    for wd_day in days:
        proto = next((wd for wd in window_days if wd.day == wd_day), None)
        if proto is None:
            continue
        lo, hi = proto.shift_start - margin, proto.shift_end + margin
        for hall, dept in depts:
            camera = f"{dept}-Q"
            outs = _spans(
                det.outage_rate, det.outage_minutes.median, det.outage_minutes.sigma, lo, hi, r_outage
            )
            outages_all.setdefault(camera, []).extend(outs)
            _queue_day(
                em,
                hall,
                dept,
                camera,
                queues.get(dept, no_queue),
                lo,
                hi,
                outs,
                skew_of(camera),
                det,
                r_queue,
            )
    for camera in sorted(outages_all):
        hall = camera.split("-", 1)[0]
        truth += interval_truth(
            "camera_outage",
            f"camera:{camera}",
            f"outage-{camera}",
            outages_all[camera],
            cal,
            hall_id=hall,
            camera_id=camera,
        )
    by_window = {s.window_id: s for s in seats}
    for window in sorted(disputes):
        seat = by_window.get(window)
        if seat is not None:
            truth += interval_truth(
                "dispute",
                f"window:{window}",
                f"dispute-{window}",
                disputes[window],
                cal,
                hall_id=seat.hall_id,
                department_id=seat.department_id,
                staff_id=seat.staff_id,
                window_id=window,
            )
    cam_events = em.events
    dup = np.flatnonzero(r_dup.random(len(cam_events)) < det.duplicate_rate)
    events += cam_events
    events += [cam_events[i] for i in dup.tolist()]
    events += qn_events
    events.sort(key=lambda e: (e.ts, e.event_id))
    truth.sort(key=lambda ep: (ep.onset, ep.episode_id))
    stats = dict(Counter(f"camera_truth.{ep.kind}" for ep in truth))
    stats["camera_events"] = len(events)
    stats["camera_duplicates"] = int(dup.size)
    stats["queue_tickets"] = sum(isinstance(e, QueueTicket) for e in qn_events)
    return CameraWorld(events=events, truth=truth, stats=dict(sorted(stats.items())))


def _queue_day(
    em: _Emitter,
    hall: str,
    dept: str,
    camera: str,
    queue: _Queue,
    lo: float,
    hi: float,
    outs: Spans,
    skew: float,
    det: DetectorSpec,
    rng: np.random.Generator,
) -> None:
    t = np.arange(lo, hi, det.queue_interval_seconds)
    true = queue(t)
    noisy = np.maximum(0, np.rint(true + rng.normal(0.0, 1.0, t.size) * det.queue_noise * (true + 1))).astype(
        np.int64
    )
    keep = ~_inside(t, outs)
    for x, c in zip(t[keep].tolist(), noisy[keep].tolist(), strict=True):
        em.events.append(
            QueueCount(
                event_id=f"{camera}-q{int(x)}",
                ts=em.ts(x, skew),
                hall_id=hall,
                camera_id=camera,
                zone="queue",
                count=int(c),
                department_id=dept,
            )
        )
    _heartbeats(em, hall, camera, det, lo, hi, outs, skew)


def _audio(
    em: _Emitter,
    s: Seat,
    disputes: Spans,
    periods: list[tuple[float, float]],
    outs: Spans,
    skew: float,
    det: DetectorSpec,
    rng: np.random.Generator,
) -> None:
    hits: list[tuple[float, float]] = []
    for a, b in disputes:
        n = int(rng.poisson(det.audio_per_minute * (b - a) / 60.0))
        hits += [(x, float(rng.beta(6.0, 2.0))) for x in rng.uniform(a, b, n).tolist()]
    for a, b in periods:
        n = int(rng.poisson(det.audio_false_per_hour * (b - a) / 3600.0))
        hits += [(x, float(rng.beta(2.0, 3.0))) for x in rng.uniform(a, b, n).tolist()]
    for k, (x, c) in enumerate(sorted(hits)):
        if any(a <= x < b for a, b in outs):
            continue
        em.events.append(
            AudioAlert(
                event_id=f"{s.camera_id}-a{int(x)}{k:02d}",
                ts=em.ts(x, skew),
                hall_id=s.hall_id,
                camera_id=s.camera_id,
                sound="raised_voice",
                confidence=round(c, 3),
                window_id=s.window_id,
            )
        )
