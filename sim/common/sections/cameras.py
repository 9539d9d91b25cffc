"""The optional ``cameras:`` section of a hall scenario: staff conduct and the detector model.

Why its own section: the camera world is a layer on top of the hall model (it reads the
hall's case events for the queues and the rejections that start disputes), so a hall
scenario without the section runs exactly as before, and one with it only adds events and
truth. Every number has a default that gives a plausible hall; rates are per staff-day
or per camera-day unless the field says otherwise.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from sim.common.scenario_types import LogNormal, Range

__all__ = ["CameraTruthSpec", "Cameras", "ConductSpec", "DetectorSpec", "QueueSystemSpec"]

Prob = Annotated[float, Meta(ge=0, le=1)]
NonNeg = Annotated[float, Meta(ge=0)]
Positive = Annotated[float, Meta(gt=0)]


class _Spec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class ConductSpec(_Spec, frozen=True):
    """How window staff behave: arrival, rests, legitimate and illegitimate leaves, disputes."""

    #: On-time staff arrive this many minutes before the shift starts.
    arrive_early_minutes: Range = Range(min=0, max=15)
    #: Probability that a staff member arrives late on a day, and by how much (minutes).
    late_rate: Prob = 0.04
    late_minutes: Range = Range(min=10, max=60)
    #: Probability of leaving before the end of the shift, and how early (minutes).
    early_rate: Prob = 0.03
    early_minutes: Range = Range(min=10, max=60)
    #: Illegitimate leaves of the post (离岗/脱岗) per staff-day (Poisson) and their length.
    leave_rate: NonNeg = 0.4
    leave_minutes: LogNormal = LogNormal(median=16, sigma=0.6)
    #: One scheduled afternoon rest per day, published in the roster (minutes).
    rest_minutes: Range = Range(min=10, max=15)
    #: Declared leaves to escort an applicant (暂离, announced at the terminal) per staff-day.
    escort_rate: NonNeg = 0.3
    escort_minutes: LogNormal = LogNormal(median=8, sigma=0.4)
    #: Probability that a rejection at a window turns into a dispute, and its length.
    dispute_rate: Prob = 0.3
    dispute_minutes: LogNormal = LogNormal(median=4, sigma=0.5)


class DetectorSpec(_Spec, frozen=True):
    """The video/audio analytics: error processes, outages, clocks and delivery faults."""

    #: Frames per second the presence detector evaluates.
    fps: Positive = 1.0
    #: Long-run share of frames in which a present person is detected (flicker aside from occlusions).
    tpr: Prob = 0.9
    #: Long-run share of frames in which an empty seat is reported occupied.
    fpr: Prob = 0.02
    #: Mean length of one flicker burst (two-state Markov error process), seconds.
    burst_seconds: Positive = 8.0
    #: Long occlusions (someone standing in front of the camera) per camera-hour, and their length.
    occlusion_rate: NonNeg = 0.3
    occlusion_seconds: LogNormal = LogNormal(median=60, sigma=0.8)
    #: Heartbeat period of every camera while the hall is open, seconds.
    heartbeat_seconds: Positive = 60.0
    #: Outages (no events, no heartbeats) per camera-day, and their length.
    outage_rate: NonNeg = 0.05
    outage_minutes: LogNormal = LogNormal(median=30, sigma=0.6)
    #: Standard deviation of each camera's clock offset, seconds.
    skew_seconds: NonNeg = 5.0
    #: Share of camera events delivered twice (same ``event_id``).
    duplicate_rate: Prob = 0.01
    #: Queue cameras report a count this often, with this relative noise (sd of count / (true+1)).
    queue_interval_seconds: Positive = 30.0
    queue_noise: NonNeg = 0.15
    #: Raised-voice detections per minute of a real dispute, and false ones per window-hour.
    audio_per_minute: NonNeg = 1.5
    audio_false_per_hour: NonNeg = 0.2


class CameraTruthSpec(_Spec, frozen=True):
    """How the camera truth is labelled (not what the engine uses: that is the rulebook)."""

    #: An empty window counts while at least this many people queue for its department ...
    queue_threshold: Annotated[int, Meta(ge=1)] = 3
    #: ... for at least this many minutes.
    empty_minutes: Positive = 5.0
    #: A capacity episode: some walk-in applicant has waited longer than this (working minutes) ...
    capacity_wait_minutes: Positive = 20.0
    #: ... and episodes less than this apart (working minutes) are one.
    capacity_merge_minutes: NonNeg = 5.0


class QueueSystemSpec(_Spec, frozen=True):
    """The hall's queue-number system (排队叫号): tickets on arrival, calls from the windows.

    Most service halls have one, so it is on by default; switch it off to measure what the
    rules can do without it. Abandoned tickets (过号): someone takes a number and leaves
    before it is called (wrong papers, tired of waiting, stepped out and missed the call);
    the system passes the number over, and only answered calls are exported.
    """

    enabled: bool = True
    #: Abandoned tickets per walk-in ticket (extra people, not cases of the hall model).
    abandon_rate: Prob = 0.03
    #: How long a ticket holder who gives up stays before leaving (minutes, working time);
    #: one who would stay past the turn leaves at the turn (misses the call).
    patience_minutes: LogNormal = LogNormal(median=15, sigma=0.6)


class Cameras(_Spec, frozen=True):
    """One presence camera per window (seat zone, with audio) and one queue camera per department."""

    conduct: ConductSpec = ConductSpec()
    detector: DetectorSpec = DetectorSpec()
    truth: CameraTruthSpec = CameraTruthSpec()
    queue_system: QueueSystemSpec = QueueSystemSpec()
    #: Minutes the cameras run before the first and after the last working period.
    margin_minutes: Annotated[float, Meta(ge=0, le=120)] = 30.0
