"""The replay plan: which source sends which events, in which batch, at which instant.

Why a precomputed plan: Locust processes (local ``--processes`` or workers on other
machines) must replay exactly the same requests, and the harness must later know which
events each acknowledged request carried. So the stream is cut up once, before Locust
starts, into per-source lists of ready-to-send JSON bodies with their intended send
offsets, and written to one file every process reads.

* **Sources.** Each hall's approval events (case lifecycle, catalogue, attendance, its
  heartbeats) come from its window terminals, its camera events from its cameras, its
  ``complaint.*`` events from its supervision centre's complaints platform (a ``complaints``
  token of the hall); tendering from the trading platform. A source keeps the stream's order.
* **Halls.** ``halls > 1`` replays copies of the scenario's halls; copy ``r`` renames every
  id (``H1`` → ``H1~r1``) so the copies are distinct halls to the deployment. With
  ``same_ids`` only the hall id is renamed: every copy keeps the case, event, staff and
  department ids of the original, the way real halls number their cases independently,
  so the deployment must keep halls apart by hall, not by id (events without a hall, the
  trading platform's, are still renamed: there is one platform).
* **Schedule.** Event time is mapped to wall time by a *compression* factor, with idle
  gaps (nights, weekends) capped at ``gap_cap_s`` of wall time; a source flushes the events
  that fall in one ``tick_s`` as one batch at the end of the tick (as a terminal's forwarder
  does), the sources' ticks staggered over the tick. The load therefore follows the
  scenario's hourly profile (the hall-day shape).
  :func:`step_offsets` instead spaces events evenly at stepped rates (the knee finder).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import msgspec

from engine.contract import events as ev

__all__ = [
    "RENAMED_FIELDS",
    "Plan",
    "Send",
    "SourcePlan",
    "busiest_hour",
    "compressed_offsets",
    "from_busiest_hour",
    "hall_scale_peak",
    "load_plan",
    "make_plan",
    "replicate",
    "source_of",
    "step_offsets",
    "unordered_halls",
    "write_plan",
]

Role = Literal["window", "camera", "complaints", "trading"]
RENAMED_FIELDS = frozenset(
    {
        "event_id", "hall_id", "case_id", "department_id", "staff_id", "approver_id", "window_id",
        "camera_id", "source_id", "tender_id", "bidder_id", "expert_id", "winner_id", "tenderer_id",
        "agent_id", "certificate_no", "notice_id", "complaint_id", "inspection_id", "finding_id",
        "rectification_id", "review_id", "invitee", "invited", "suggestion_id", "finding_ids",
    }
)  # fmt: skip
_CAMERA = (ev.PresenceDetected, ev.QueueCount, ev.CameraHeartbeat, ev.AudioAlert)
_TRADING = (ev.TenderPublished, ev.BidSubmitted, ev.BidsOpened, ev.ExpertScored, ev.TenderAwarded)
_ENC = msgspec.json.Encoder()
_WARMUP_S = 3.0


class Send(msgspec.Struct, frozen=True, array_like=True):
    """One request: intended offset (s from the start), number of events, JSON array body."""

    at: float
    n: int
    body: bytes


class SourcePlan(msgspec.Struct, frozen=True):
    source: str
    role: Role
    hall: str | None
    sends: list[Send]
    event_ids: list[str]


class Plan(msgspec.Struct, frozen=True):
    scenario: str
    shape: Literal["hall_day", "step_ramp"]
    duration_s: float
    halls: int
    compression: float
    peak_rate: float
    hall_peak_rate: float
    events: int
    sources: list[SourcePlan]
    rate_profile: list[tuple[float, float]]
    warmup_s: float = 0.0  # sends before this offset (reference data) are not judged
    same_ids: bool = False  # hall copies keep the original's ids (only hall_id renamed)

    def offered_rate(self) -> float:
        """Mean planned events/s over the planned duration."""
        return self.events / self.duration_s if self.duration_s > 0 else 0.0


def source_of(event: ev.Event) -> tuple[str, Role, str | None]:
    """(source name, role, hall) of the system that sends ``event``."""
    hall = getattr(event, "hall_id", None)
    if isinstance(event, _CAMERA):
        return f"{hall}/camera", "camera", hall
    if isinstance(event, (*ev.COMPLAINT_EVENT_TYPES, *ev.INSPECTION_EVENT_TYPES)):  # one platform, both
        return f"{hall}/complaints", "complaints", hall
    if isinstance(event, _TRADING) or hall is None:
        return "trading", "trading", None
    return f"{hall}/window", "window", hall


def unordered_halls(plan: Plan, tick_s: float, lateness_s: float) -> list[str]:
    """Halls whose sources' relative order the plan cannot fix: the live comparison may differ for them.

    Why: a hall with two sources (window terminals and cameras or the complaints platform) has
    one engine at the service, and its sources' requests race. When one tick of a source spans
    more than ``lateness_s`` of event time (``tick_s × compression``; a step ramp maps no event
    time at all), an event of one source can arrive more than the allowed lateness behind the
    other's and be late at the service but not in the in-process reference, or the other way
    round. One source per hall is always exact.
    """
    sources: dict[str, int] = {}
    for src in plan.sources:
        if src.hall is not None and src.sends:
            sources[src.hall] = sources.get(src.hall, 0) + 1
    if plan.compression > 0 and tick_s * plan.compression <= lateness_s:
        return []
    return sorted(h for h, n in sources.items() if n > 1)


_RENAMED_BY_TYPE: dict[type, tuple[str, ...]] = {}


def _renamed_fields(kind: type) -> tuple[str, ...]:
    names = _RENAMED_BY_TYPE.get(kind)
    if names is None:
        fields: tuple[str, ...] = kind.__struct_fields__  # type: ignore[attr-defined]
        names = _RENAMED_BY_TYPE[kind] = tuple(f for f in fields if f in RENAMED_FIELDS)
    return names


def replicate(events: Sequence[ev.Event], copy: int, *, same_ids: bool = False) -> list[ev.Event]:
    """Copy ``copy`` of the stream with every id renamed; copy 0 is the stream itself.

    ``same_ids``: an event of a hall has only its ``hall_id`` renamed (ids collide across
    copies, as between real halls); an event without a hall is renamed in full.

    Why ``structs.replace`` and not a JSON round trip: only string ids change, so the copy
    needs no validation, and re-decoding every event made a plan of many city halls take
    minutes (about 20× slower than replacing the fields).
    """
    if copy == 0:
        return list(events)
    suffix = f"~r{copy}"
    out: list[ev.Event] = []
    replace = msgspec.structs.replace
    for event in events:
        if same_ids and getattr(event, "hall_id", None):
            out.append(replace(event, hall_id=event.hall_id + suffix))  # type: ignore[attr-defined]
            continue
        changes: dict[str, str | tuple[str, ...]] = {}
        for name in _renamed_fields(type(event)):
            value = getattr(event, name)
            if isinstance(value, str):
                changes[name] = value + suffix
            elif isinstance(value, tuple):  # ids of departments invited to a joint review
                changes[name] = tuple(v + suffix for v in value)
        out.append(replace(event, **changes))
    return out


def _hour_counts(events: Sequence[ev.Event]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for event in events:
        if isinstance(event, ev.ItemPublished | ev.StaffAuthorised):
            continue
        hour = int(event.ts.timestamp() // 3600)
        counts[hour] = counts.get(hour, 0) + 1
    return counts


def busiest_hour(events: Sequence[ev.Event]) -> int:
    """Events in the busiest clock hour of the stream (reference data excluded)."""
    return max(_hour_counts(events).values(), default=0)


def from_busiest_hour(events: Sequence[ev.Event], *, lateness_s: float | None = None) -> list[ev.Event]:
    """The stream from the start of its busiest hour on, reference data of before kept first.

    Why: at a hall's own pace a bounded run replays only the first minutes of the stream,
    which are quiet; a capacity run must hold the *peak* rate. The catalogue and staff
    authorisations published earlier are kept (sent first) because the rules need them;
    cases opened before the window are unknown to the deployment and to the in-process
    reference alike, so the comparison stays exact (accuracy against the truth is then
    not meaningful and is not the point of such a run).

    ``lateness_s`` (the rulebook's allowed lateness) also *settles* the reference data
    before the window: see :func:`_settled`.
    """
    head, window = _split_busiest(events, lateness_s)
    return head + window


def _split_busiest(
    events: Sequence[ev.Event], lateness_s: float | None = None
) -> tuple[list[ev.Event], list[ev.Event]]:
    counts = _hour_counts(events)
    if not counts:
        return [], list(events)
    start = max(counts, key=lambda h: (counts[h], -h)) * 3600
    head: list[ev.Event] = [
        e for e in events if e.ts.timestamp() < start and isinstance(e, ev.ItemPublished | ev.StaffAuthorised)
    ]
    window = [e for e in events if e.ts.timestamp() >= start]
    if lateness_s is not None and head and window:
        head = _settled(head, [e for e in events if e.ts.timestamp() < start], window[0].ts, lateness_s)
    return head, window


def _settled(
    head: list[ev.Event], before: Sequence[ev.Event], start: datetime, lateness_s: float
) -> list[ev.Event]:
    """The reference data moved to just before the window, and the hall's clock moved past it.

    Why: the reference data is stamped when it was published (days before the busiest
    hour), and the engine holds an event until event time has passed it by the allowed
    lateness. Replayed as it was, every hall's catalogue stayed held through the warm-up
    and was applied by the first events of the judged window, all halls in the same second
    (787 events a ``city_hall``; with 384 halls about a second of one core): the judged
    window measured the warm-up. In the hall's real day the hours cut out before the window
    moved event time on. Here the reference data is stamped ``2 × lateness + 2 s`` before
    the window (still published before every case of it), and each hall's last source
    heartbeat before the window follows it, stamped ``lateness + 1 s`` before the window:
    it moves the hall's watermark past the reference data during the warm-up, and is older
    than every judged event by more than the lateness, so it changes nothing the window's
    events are judged on. A hall whose stream has no source heartbeat is left as it was.
    Live and in-process runs replay the same events, so their comparison stays exact.
    """
    published = start - timedelta(seconds=2 * lateness_s + 2)
    moved: list[ev.Event] = [msgspec.structs.replace(e, ts=published) for e in head]
    last: dict[tuple[str | None, str], ev.SourceHeartbeat] = {}
    for e in before:
        if isinstance(e, ev.SourceHeartbeat):
            last[(e.hall_id, e.source_id)] = e
    beat = start - timedelta(seconds=lateness_s + 1)
    moved += [msgspec.structs.replace(e, ts=beat) for _, e in sorted(last.items(), key=lambda kv: str(kv[0]))]
    return moved


def hall_scale_peak(events: Sequence[ev.Event], *, halls: int = 1, peak_factor: float = 2.0) -> float:
    """Hall-scale peak in events/s: busiest hour of one hall, all sources, times the peak factor.

    The peak factor covers bursts inside the busiest hour (the morning opening rush); 2 by
    default (see ``docs/deployment.md``).
    """
    return busiest_hour(events) / max(halls, 1) / 3600.0 * peak_factor


def compressed_offsets(ts: Sequence[float], compression: float, gap_cap_s: float) -> list[float]:
    """Wall offsets of sorted event times: ``Δts / compression``, each gap capped."""
    out: list[float] = []
    at = 0.0
    prev = ts[0] if ts else 0.0
    for t in ts:
        at += min(max(t - prev, 0.0) / compression, gap_cap_s)
        prev = t
        out.append(at)
    return out


def step_offsets(n: int, rates: Sequence[float], step_s: float) -> list[float]:
    """Offsets that send ``n`` events evenly at ``rates[k]`` events/s during step ``k``."""
    out: list[float] = []
    for step, rate in enumerate(rates):
        per_step = round(rate * step_s)
        for j in range(per_step):
            if len(out) >= n:
                return out
            out.append(step * step_s + j / rate)
    return out


def _fit(ts: Sequence[float], target_s: float, gap_cap_s: float) -> float:
    """The compression that replays ``ts`` (gaps capped) in ``target_s``: bisection on log c."""
    lo, hi = 0.0, 9.0  # 10**0 .. 10**9
    for _ in range(60):
        mid = (lo + hi) / 2
        total = compressed_offsets(ts, 10**mid, gap_cap_s)[-1] if ts else 0.0
        lo, hi = (lo, mid) if total <= target_s else (mid, hi)
    return float(10**hi)


def _batches(
    offsets: Sequence[float],
    events: Sequence[ev.Event],
    tick_s: float,
    max_batch: int,
    horizon: float,
    phase: float = 0.0,
) -> tuple[list[Send], list[str]]:
    """A source's sends: the events of one tick flushed at its end, ticks shifted by ``-phase``."""
    sends: list[Send] = []
    ids: list[str] = []
    cur: list[bytes] = []
    cur_slot = -1
    cur_at = 0.0

    def flush() -> None:
        if cur:
            sends.append(Send(at=cur_at, n=len(cur), body=b"[" + b",".join(cur) + b"]"))
            cur.clear()

    for at, event in zip(offsets, events, strict=True):
        if at > horizon:
            break
        slot = math.floor((at + phase) / tick_s) if tick_s > 0 else len(ids)
        if slot != cur_slot or len(cur) >= max_batch:
            flush()
            cur_slot = slot
            cur_at = (slot + 1) * tick_s - phase if tick_s > 0 else at
        cur.append(ev.encode_event(event))
        ids.append(event.event_id)
    flush()
    return sends, ids


def make_plan(
    events: Sequence[ev.Event],
    *,
    scenario: str,
    duration_s: float,
    halls: int = 1,
    peak: float | None = None,
    peak_factor: float = 2.0,
    tick_s: float = 1.0,
    gap_cap_s: float = 0.5,
    max_batch: int = 1000,
    ramp: Sequence[float] | None = None,
    from_busiest: bool = False,
    stagger: bool = True,
    same_ids: bool = False,
    lateness_s: float | None = None,
) -> Plan:
    """Cut the stream into per-source sends.

    ``peak`` (in hall-scale peaks, all halls together) fixes the compression so that the
    busiest hour plays at ``peak`` × the hall-scale peak; without it the whole stream is
    fitted into ``duration_s``. ``ramp`` (events/s per step) selects the step-ramp shape.
    ``from_busiest`` starts the replay at the busiest hour (:func:`from_busiest_hour`; with
    ``lateness_s``, the rulebook's allowed lateness, the reference data is settled before the
    window, :func:`_settled`).
    ``stagger`` shifts source ``k`` of ``n`` by ``k/n`` of a tick: independent terminals do not
    flush in the same millisecond, and phase-locked sources turn a steady rate into one burst
    of ``n`` requests a tick, which measures the burst rather than the rate.
    Only the part of the stream that fits in ``duration_s`` is copied for the halls.
    """
    hall_peak = hall_scale_peak(events, peak_factor=peak_factor)
    busiest = busiest_hour(events) / 3600.0
    n_head = 0
    if from_busiest:
        head, window = _split_busiest(events, lateness_s)
        events, n_head = head + window, len(head)
    ts = [e.ts.timestamp() for e in events]
    if ramp:
        step_s = duration_s / len(ramp)
        offsets = step_offsets(len(events) * halls, [r for r in ramp], step_s)
        compression = 0.0
    else:
        if peak is not None:
            compression = peak * hall_peak / (busiest * halls) if busiest > 0 else 1.0
        else:
            compression = _fit(ts, duration_s * 0.9, gap_cap_s)
        offsets = compressed_offsets(ts, compression, gap_cap_s)
        if n_head:  # reference data first, the judged window after a warm-up
            offsets = [0.0] * n_head + [o + _WARMUP_S for o in offsets[n_head:]]
        keep = bisect.bisect_right(offsets, duration_s)
        events, offsets = events[:keep], offsets[:keep]
    per_source: dict[str, tuple[Role, str | None, list[float], list[ev.Event]]] = {}
    for copy in range(halls):
        stream = replicate(events, copy, same_ids=same_ids)
        for i, event in enumerate(stream):
            k = copy * len(events) + i if ramp else i
            if k >= len(offsets):
                break
            name, role, hall = source_of(event)
            slot = per_source.setdefault(name, (role, hall, [], []))
            slot[2].append(offsets[k])
            slot[3].append(event)
    sources = []
    planned = 0
    names = sorted(per_source)
    for k, name in enumerate(names):
        role, hall, offs, evs = per_source[name]
        phase = tick_s * k / len(names) if stagger else 0.0
        sends, ids = _batches(offs, evs, tick_s, max_batch, duration_s, phase)
        planned += len(ids)
        sources.append(SourcePlan(source=name, role=role, hall=hall, sends=sends, event_ids=ids))
    profile = [(float(i), float(r)) for i, r in enumerate(ramp)] if ramp else []
    return Plan(
        scenario=scenario,
        shape="step_ramp" if ramp else "hall_day",
        duration_s=duration_s,
        halls=halls,
        compression=compression,
        peak_rate=(busiest * halls * compression) if not ramp else max(ramp),
        hall_peak_rate=hall_peak,
        events=planned,
        sources=sources,
        rate_profile=profile,
        warmup_s=_WARMUP_S if n_head else 0.0,
        same_ids=same_ids,
    )


def write_plan(plan: Plan, path: str | Path) -> None:
    Path(path).write_bytes(msgspec.msgpack.encode(plan))


def load_plan(path: str | Path) -> Plan:
    return msgspec.msgpack.decode(Path(path).read_bytes(), type=Plan)
