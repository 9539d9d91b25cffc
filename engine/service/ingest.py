"""Decoding an ingest body into contract events, with errors that name index and field.

Duplicate keys are refused (why, and how it is made cheap: :mod:`engine.service.edge.duplicate_keys`):
a decoded body is first cleared by a count of its quotes against its events' encoding, the
exact scan runs only when that proves nothing, and once per event to name the key only when
the body has one. Deep nesting is answered 400 instead of reaching the parsers' recursion
limit as a 500.

Why two passes: the fast path decodes the whole array with the contract's one decoder (the
hot path of the service). Only when that fails is the body split into raw elements and each
decoded alone, so the client learns *every* bad event's index and field in one answer and
can fix its batch. A batch is all-or-nothing: one bad event rejects the batch and nothing
of it is stored.
"""

from __future__ import annotations

import json
import math
import re
from typing import NamedTuple

import msgspec

from engine.contract import events as ev
from engine.service.edge.duplicate_keys import cannot_repeat_a_key, first_duplicate_key, keys_repeated

__all__ = ["Batch", "IngestError", "decode_batch", "decode_body"]

_AT = re.compile(r"at `(\$[^`]*)`")
_PATH = re.compile(r"`(\$[^`]*)`")
_MISSING = re.compile(r"missing required field `([^`]*)`")
_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])
_ENCODER = msgspec.json.Encoder()


class Batch(NamedTuple):
    """A decoded body: its events, and each as the contract encodes it (what the log stores).

    Why the encodings travel with the events: the duplicate-key check needs them, and the
    writer would otherwise encode every event a second time on the same thread.
    """

    events: list[ev.Event]
    encoded: list[bytes]


def _without_duplicates(body: bytes, events: list[ev.Event], lines: list[bytes] | None = None) -> Batch:
    """The batch, or 422 naming every event that repeats a key; ``lines`` are an NDJSON body's events."""
    batch = Batch(events, [_ENCODER.encode(e) for e in events])
    if cannot_repeat_a_key(body, events, batch.encoded):
        return batch
    if lines is None:  # a JSON array: one exact scan, split only to name the key
        if first_duplicate_key(body) is None:
            return batch
        lines = [bytes(r) for r in _RAW_LIST.decode(body)]
    errors = keys_repeated(lines)
    if errors:
        raise IngestError(422, "duplicate keys in events; the batch was not applied", errors)
    return batch


class IngestError(Exception):
    """A rejected body: HTTP status and a JSON-able payload for the client."""

    def __init__(self, status: int, message: str, errors: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.payload: dict[str, object] = {"error": message}
        if errors is not None:
            self.payload["errors"] = errors


def _one_error(index: int, exc: Exception) -> dict[str, object]:
    text = str(exc)
    # decode_event prefixes "event: "; keep only the reason.
    reason = text.split(": ", 1)[1] if text.startswith("event") and ": " in text else text
    at = _AT.search(reason) or _PATH.search(reason)
    field = at.group(1) if at else "$"
    missing = _MISSING.search(reason)
    if missing:
        field = f"{field}.{missing.group(1)}"
    return {"index": index, "field": field, "message": reason}


def _decode_each(raws: list[bytes]) -> tuple[list[ev.Event], list[dict[str, object]]]:
    out: list[ev.Event] = []
    errors: list[dict[str, object]] = []
    for i, raw in enumerate(raws):
        try:
            out.append(ev.decode_event(raw))
        except ev.EventDecodeError as exc:
            errors.append(_one_error(i, exc))
    return out, errors


def _check_count(n: int, max_events: int) -> None:
    if n > max_events:  # a documented bound of the body (maxItems), so 422 like any other
        message = f"batch of {n} events exceeds the limit of {max_events}; split it"
        raise IngestError(422, message, [{"index": None, "field": "$", "message": message}])


def _integral(data: bytes) -> bytes | None:
    """``data`` with every integral float (``3.0``, ``1e3``) written as an integer, or None.

    Why: JSON Schema counts ``3.0`` as an integer, and the API document is JSON Schema; the
    contract's decoder does not. Only a body the decoder refused comes here, so the hot
    path pays nothing. Beyond 2**53 a float is not an exact integer and is left alone.
    """

    def number(text: str) -> int | float:
        value = float(text)
        if not math.isfinite(value):  # 1e400: left to the decoder, which names the field
            raise ValueError(text)
        return int(value) if value.is_integer() and abs(value) < 2**53 else value

    try:
        return json.dumps(json.loads(data, parse_float=number), ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError):
        return None


def decode_body(body: bytes, *, ndjson: bool, max_events: int) -> list[ev.Event]:
    """Events of a JSON array (or NDJSON) body, or :class:`IngestError` (400 or 422)."""
    return decode_batch(body, ndjson=ndjson, max_events=max_events).events


def decode_batch(body: bytes, *, ndjson: bool, max_events: int) -> Batch:
    """Events of a JSON array (or NDJSON) body with their encodings, or :class:`IngestError` (400 or 422)."""
    try:
        return _decode_body(body, ndjson=ndjson, max_events=max_events)
    except RecursionError:
        raise IngestError(400, "JSON nested too deeply") from None


def _decode_body(body: bytes, *, ndjson: bool, max_events: int) -> Batch:
    if ndjson:
        lines = [line for line in body.split(b"\n") if line.strip()]
        _check_count(len(lines), max_events)
        events, errors = _decode_each([_integral(line) or line for line in lines])
        if errors:
            raise IngestError(422, "invalid events; the batch was not applied", errors)
        return _without_duplicates(body, events, lines)
    try:
        events = ev.decode_events(body)
    except ev.EventDecodeError:
        pass
    else:
        _check_count(len(events), max_events)
        return _without_duplicates(body, events)
    try:  # shape and count first: the slow paths below must not run on a body refused anyway
        raws = _RAW_LIST.decode(body)
    except msgspec.ValidationError as exc:
        raise IngestError(422, f"the body must be a JSON array of events ({exc})") from None
    except msgspec.DecodeError as exc:
        raise IngestError(400, f"malformed JSON: {exc}") from None
    _check_count(len(raws), max_events)
    whole = _integral(body)
    if whole is not None and whole != body:
        try:
            events = ev.decode_events(whole)
        except ev.EventDecodeError:
            pass
        else:
            return _without_duplicates(body, events)
    events, errors = _decode_each([_integral(bytes(r)) or bytes(r) for r in raws])
    if not errors:  # cannot happen unless the whole-array decoder disagrees; be safe
        errors = [{"index": None, "field": "$", "message": "the batch could not be decoded"}]
    raise IngestError(422, "invalid events; the batch was not applied", errors)
