"""The event contract: every event any source may send to a supervision engine.

Events are frozen, tagged :class:`msgspec.Struct` s. The tag field is ``kind`` and its
value names the family and the happening (``case.accepted``, ``bid.submitted``...). One
decoder, built once at import, turns JSON (one object, an array, or JSON Lines) into
typed events; nothing else in the project parses events.

Why the item catalogue travels in the stream: the rules need each item's promised limit,
workflow and fee standard, and who is authorised to decide it. Real supervision systems
receive that reference data from the approval platform (the *事项库*), so it is modelled as
``item.published`` and ``staff.authorised`` events. An export from a user's own system is
then self-contained and ``supsim detect`` needs nothing but the events and a rulebook.

The families live in small modules (:mod:`engine.contract.event_base` for what every event shares,
:mod:`engine.contract.events_tendering`, :mod:`engine.contract.events_floor` for cameras, attendance and queue
numbers, :mod:`engine.contract.events_complaints` for efficiency complaints,
:mod:`engine.contract.events_inspections` for unannounced inspections,
:mod:`engine.contract.events_joint_reviews` for joint reviews of a case,
:mod:`engine.contract.events_approvals` for approvals and the reference data they are judged by);
this module re-exports them all, builds the one union and owns decoding and stream IO, so
``from engine.contract import events as ev`` is all a user needs.

Timestamps are timezone-aware; on the wire they are ISO 8601 with offset (Asia/Shanghai,
``+08:00``, by default). Money is in yuan.

Why bounds on every value: the engine turns instants into working-time indices, limits into
timer positions and money into sums, and a value that decodes must not break it later (a
limit of 1e304 days becomes NaN in the timers; an offset of -23:59 in the year 9999
overflows). So decoding rejects, naming the field, any instant outside the local dates
2000-01-01..2100-12-31 or with an offset beyond ±14:00 (checked after decoding, as
``Meta`` cannot bound datetimes), working-day limits outside ``0..3650``, money outside
``0..1e12`` yuan, counts outside ``0..1,000,000``, confidences outside ``[0, 1]``, free
text over 1,024 characters and over-long lists (see ``docs/engine.md``, bounds).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO

import msgspec
import msgspec.inspect

__all__ = [
    "COMPLAINT_EVENT_TYPES",
    "EVENT_TYPES",
    "INSPECTION_EVENT_TYPES",
    "JOINT_REVIEW_EVENT_TYPES",
    "ApprovalEvent",
    "AudioAlert",
    "BadLine",
    "BidSubmitted",
    "BidTraces",
    "BidsOpened",
    "CameraEvent",
    "CameraHeartbeat",
    "CaseAccepted",
    "CaseClosed",
    "CaseDecided",
    "CaseResumed",
    "CaseSubmitted",
    "CaseSuspended",
    "CertificateIssued",
    "ComplaintAnswered",
    "ComplaintAssigned",
    "ComplaintClassified",
    "ComplaintClosed",
    "ComplaintEvent",
    "ComplaintExtended",
    "ComplaintFeedbackGiven",
    "ComplaintReceived",
    "ComplaintReopened",
    "DocumentMark",
    "Event",
    "EventDecodeError",
    "ExpertScored",
    "FeeCharged",
    "InspectionEvent",
    "InspectionFinding",
    "InspectionPerformed",
    "InspectionProblem",
    "ItemPublished",
    "JointReviewAbsent",
    "JointReviewConvened",
    "JointReviewEvent",
    "JointReviewOpinion",
    "PresenceDetected",
    "QueueCalled",
    "QueueCount",
    "QueueEvent",
    "QueueTicket",
    "RectificationIssued",
    "RectificationVerified",
    "SourceHeartbeat",
    "StaffAuthorised",
    "StaffBreak",
    "StaffClockIn",
    "StaffClockOut",
    "StaffRoster",
    "StepCompleted",
    "StepSpec",
    "StepStarted",
    "SupervisionSuggested",
    "TenderAwarded",
    "TenderPublished",
    "TenderingEvent",
    "TimeSpan",
    "decode_event",
    "decode_events",
    "encode_event",
    "event_json_schema",
    "iter_jsonl",
    "read_jsonl",
    "scan_jsonl",
    "write_jsonl",
]

from engine.contract.event_base import (
    EARLIEST,
    LATEST,
    Event,
    instant_error,
)
from engine.contract.events_approvals import (
    ApprovalEvent,
    CaseAccepted,
    CaseClosed,
    CaseDecided,
    CaseResumed,
    CaseSubmitted,
    CaseSuspended,
    CertificateIssued,
    FeeCharged,
    ItemPublished,
    SourceHeartbeat,
    StaffAuthorised,
    StepCompleted,
    StepSpec,
    StepStarted,
)
from engine.contract.events_complaints import (
    COMPLAINT_EVENT_TYPES,
    ComplaintAnswered,
    ComplaintAssigned,
    ComplaintClassified,
    ComplaintClosed,
    ComplaintEvent,
    ComplaintExtended,
    ComplaintFeedbackGiven,
    ComplaintReceived,
    ComplaintReopened,
)
from engine.contract.events_floor import (
    AudioAlert,
    CameraEvent,
    CameraHeartbeat,
    PresenceDetected,
    QueueCalled,
    QueueCount,
    QueueEvent,
    QueueTicket,
    StaffBreak,
    StaffClockIn,
    StaffClockOut,
    StaffRoster,
    TimeSpan,
)
from engine.contract.events_inspections import (
    INSPECTION_EVENT_TYPES,
    InspectionEvent,
    InspectionFinding,
    InspectionPerformed,
    InspectionProblem,
    RectificationIssued,
    RectificationVerified,
    SupervisionSuggested,
)
from engine.contract.events_joint_reviews import (
    JOINT_REVIEW_EVENT_TYPES,
    JointReviewAbsent,
    JointReviewConvened,
    JointReviewEvent,
    JointReviewOpinion,
)
from engine.contract.events_tendering import (
    BidsOpened,
    BidSubmitted,
    BidTraces,
    DocumentMark,
    ExpertScored,
    TenderAwarded,
    TenderingEvent,
    TenderPublished,
)

EVENT_TYPES: tuple[type[Event], ...] = (
    ItemPublished,
    StaffAuthorised,
    SourceHeartbeat,
    CaseSubmitted,
    CaseAccepted,
    StepStarted,
    StepCompleted,
    CaseSuspended,
    CaseResumed,
    FeeCharged,
    CaseDecided,
    CertificateIssued,
    CaseClosed,
    *JOINT_REVIEW_EVENT_TYPES,
    TenderPublished,
    BidSubmitted,
    BidsOpened,
    ExpertScored,
    TenderAwarded,
    PresenceDetected,
    QueueCount,
    CameraHeartbeat,
    AudioAlert,
    StaffClockIn,
    StaffClockOut,
    StaffRoster,
    StaffBreak,
    QueueTicket,
    QueueCalled,
    *COMPLAINT_EVENT_TYPES,
    *INSPECTION_EVENT_TYPES,
)

AnyEvent = (
    ItemPublished
    | StaffAuthorised
    | SourceHeartbeat
    | ApprovalEvent
    | JointReviewEvent
    | TenderingEvent
    | CameraEvent
    | StaffClockIn
    | StaffClockOut
    | StaffRoster
    | StaffBreak
    | QueueEvent
    | ComplaintEvent
    | InspectionEvent
)


class EventDecodeError(ValueError):
    """An event could not be decoded; the message names the source, line and field."""


_DECODER = msgspec.json.Decoder(AnyEvent)
_ARRAY_DECODER = msgspec.json.Decoder(list[AnyEvent])
_ENCODER = msgspec.json.Encoder()


def _unwrap(t: msgspec.inspect.Type) -> msgspec.inspect.Type:
    return t.type if isinstance(t, msgspec.inspect.Metadata) else t


def _instant_fields(cls: type) -> tuple[tuple[str, bool, str | None], ...]:
    """``(field, optional, nested field)`` of every instant a Struct carries besides ``ts``.

    Read from the Structs themselves (``msgspec.inspect``), so a new datetime field is
    checked without anyone remembering to list it. ``nested`` names the instant inside a
    tuple of Structs (``breaks[i].start``).
    """
    out: list[tuple[str, bool, str | None]] = []
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    for f in info.fields:
        t = _unwrap(f.type)
        optional = False
        if isinstance(t, msgspec.inspect.UnionType):
            rest = [_unwrap(x) for x in t.types if not isinstance(x, msgspec.inspect.NoneType)]
            t, optional = (rest[0], True) if len(rest) == 1 else (t, False)
        if isinstance(t, msgspec.inspect.DateTimeType) and f.name != "ts":
            out.append((f.name, optional, None))
        elif isinstance(t, msgspec.inspect.VarTupleType):
            item = t.item_type
            for inner in item.fields if isinstance(item, msgspec.inspect.StructType) else ():
                if isinstance(_unwrap(inner.type), msgspec.inspect.DateTimeType):
                    out.append((f.name, False, inner.name))
    return tuple(out)


#: Event type → its instants besides ``ts`` (most types have none: one dict lookup).
_INSTANTS: dict[type, tuple[tuple[str, bool, str | None], ...]] = {
    cls: fields for cls in EVENT_TYPES if (fields := _instant_fields(cls))
}


_Y0, _Y1 = EARLIEST.year, LATEST.year
#: tzinfos already seen with an offset within ±14 h (msgspec shares one per offset, so this
#: stays tiny): the common instant costs a year test and one dict lookup, not ``utcoffset``.
_GOOD_TZ: dict[object, bool] = {}


def _instant_ok(t: datetime, path: str, where: str, index: int | None) -> None:
    """Raise naming ``path`` unless ``t`` is plausible; remember a good offset."""
    if (why := instant_error(t)) is not None:
        at = where if index is None else f"{where}[{index}]"
        raise EventDecodeError(f"{at}: Expected a plausible instant ({why}) - at `{path}`")
    if len(_GOOD_TZ) < 256:
        _GOOD_TZ[t.tzinfo] = True


def _check_instants(event: Event, where: str, index: int | None = None) -> Event:
    """The post-decode check ``Meta`` cannot express: every instant in the window, offsets within ±14 h."""
    t = event.ts
    if not (_Y0 <= t.year <= _Y1 and t.tzinfo in _GOOD_TZ):
        _instant_ok(t, "$.ts", where, index)
    fields = _INSTANTS.get(event.__class__)
    if fields is not None:
        for name, _optional, nested in fields:
            value = getattr(event, name)
            if value is None:
                continue
            if nested is None:
                _instant_ok(value, f"$.{name}", where, index)
                continue
            for i, item in enumerate(value):
                _instant_ok(getattr(item, nested), f"$.{name}[{i}].{nested}", where, index)
    return event


def decode_event(data: bytes | str, *, where: str = "event") -> Event:
    """Decode one JSON object into its event type."""
    try:
        event: Event = _DECODER.decode(data)
    except msgspec.ValidationError as exc:
        raise EventDecodeError(f"{where}: {exc}") from None
    except msgspec.DecodeError as exc:
        raise EventDecodeError(f"{where}: malformed JSON ({exc})") from None
    return _check_instants(event, where)


def decode_events(data: bytes | str, *, where: str = "body") -> list[Event]:
    """Decode a JSON array of events."""
    try:
        events: list[Event] = list(_ARRAY_DECODER.decode(data))
    except msgspec.ValidationError as exc:
        raise EventDecodeError(f"{where}: {exc}") from None
    except msgspec.DecodeError as exc:
        raise EventDecodeError(f"{where}: malformed JSON ({exc})") from None
    for i, event in enumerate(events):
        _check_instants(event, where, i)
    return events


def encode_event(event: Event) -> bytes:
    """One event as compact JSON (no trailing newline)."""
    return _ENCODER.encode(event)


_BOM = b"\xef\xbb\xbf"


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """Numbered non-blank lines; a UTF-8 byte-order mark (Windows exports) is dropped from the first."""
    for lineno, line in enumerate(stream, start=1):
        if lineno == 1:
            line = line.removeprefix(_BOM)
        if line.strip():
            yield lineno, line


def iter_jsonl(stream: IO[bytes], *, name: str = "<stream>") -> Iterator[Event]:
    """Events from a JSON Lines byte stream; blank lines are skipped."""
    for lineno, line in _lines(stream):
        yield decode_event(line, where=f"{name}:{lineno}")


def read_jsonl(path: str | Path) -> Iterator[Event]:
    """Events from a JSON Lines file, decoded lazily; errors name the file and line."""
    path = Path(path)
    with path.open("rb") as fh:
        yield from iter_jsonl(fh, name=str(path))


class BadLine(msgspec.Struct, frozen=True, kw_only=True):
    """A line of an event file that is not a contract event: where, why, and the line as read."""

    line: int
    error: str
    text: str


def scan_jsonl(
    path: str | Path, *, progress: Callable[[int], None] | None = None
) -> tuple[list[Event], list[BadLine]]:
    """Every event of a JSON Lines file, and every line that is not one, instead of stopping at the first.

    Why: an export with a few bad lines should be fixed (or set aside) in one pass, not one
    line per attempt; and one hall's bad record must not hide another hall's events.
    ``progress(n)`` is called with every 50,000 lines read. A file holding one JSON array
    (the body ``/v1/events`` takes) is read whole: an array has no lines to set aside, so a
    bad element is an error naming its index.
    """
    path = Path(path)
    events: list[Event] = []
    bad: list[BadLine] = []
    with path.open("rb") as fh:
        head = fh.read(4096).removeprefix(_BOM).lstrip()
        fh.seek(0)
        if head.startswith(b"["):  # a JSON array (what /v1/events takes): all or an error naming `$[i]`
            return decode_events(fh.read().removeprefix(_BOM), where=str(path)), []
        for lineno, line in _lines(fh):
            if progress is not None and lineno % 50_000 == 0:
                progress(50_000)
            try:
                events.append(decode_event(line, where=f"{path}:{lineno}"))
            except EventDecodeError as exc:
                text = line.decode("utf-8", errors="replace").rstrip("\r\n")
                bad.append(BadLine(line=lineno, error=str(exc), text=text))
    return events, bad


def write_jsonl(events: Iterable[Event], path: str | Path) -> int:
    """Write events as JSON Lines; returns how many were written."""
    n = 0
    buf = bytearray()
    with Path(path).open("wb") as fh:
        for event in events:
            _ENCODER.encode_into(event, buf, len(buf))
            buf.extend(b"\n")
            n += 1
            if len(buf) > 1 << 20:
                fh.write(buf)
                buf.clear()
        fh.write(buf)
    return n


def event_json_schema() -> dict[str, object]:
    """JSON Schema of the whole contract, generated from the Structs."""
    return msgspec.json.schema(AnyEvent)
