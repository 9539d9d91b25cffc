"""Refusing JSON objects that carry the same key twice, at a small fraction of a decode.

Why duplicate keys are refused: a JSON object with the same key twice means whatever the
parser decides (msgspec keeps the last, other parsers the first), so a hall's record and the
supervision centre's reading of it could disagree about one event.

Why two checks: the exact one, the standard library's C scanner with a hook on every object,
costs about twice the contract decode it guards. Most bodies can be cleared far more cheaply
once the contract's decoder has turned them into typed events, by counting quote bytes:

* in a body with no backslash every ``"`` delimits a string, so the body holds
  ``2 × (R + V)`` quotes, R its keys (at any depth, duplicates included) and V its string
  values;
* the same events re-encoded hold ``2 × (E + W)``: E keys, W string values (a decoded string
  holds no quote, since the body had no escape). Every key encoded was in the body, because an
  absent field takes its default and a default is not encoded, so E ≤ D ≤ R with D the
  distinct keys of the body; every string encoded was a string in the body, so W ≤ V.

Equal counts then force R = E, so R = D: no object of the body repeats a key. Unequal counts
prove nothing (a field sent with its default value, a ``null``, an escape in a string) and
the exact check runs, so the answer is the same either way and only its cost differs.

This holds only for event types that encode no field the body may have left out: every
struct in them omits its defaults (or has none) and is not encoded as an array.
:data:`COUNTABLE` holds those; a batch with any other event (the tendering events with bid
traces) goes to the exact check.
"""

from __future__ import annotations

import json

import msgspec.inspect as mi

from engine.contract import events as ev

__all__ = ["COUNTABLE", "DuplicateKeyError", "cannot_repeat_a_key", "first_duplicate_key", "keys_repeated"]


class DuplicateKeyError(ValueError):
    """The key found twice in one object."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, object]]) -> None:
    if len(pairs) > 1:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(key)
            seen.add(key)


_STRICT = json.JSONDecoder(object_pairs_hook=_no_duplicates)


def first_duplicate_key(text: bytes) -> str | None:
    """The first key found twice in one object of ``text`` (valid JSON), or None: the exact check."""
    try:
        _STRICT.decode(text.decode("utf-8"))
    except DuplicateKeyError as exc:
        return exc.key
    return None


def _structs(t: mi.Type, out: dict[type, mi.StructType]) -> None:
    """Every struct type reachable from ``t`` (fields, unions, tuples, lists...)."""
    if isinstance(t, mi.StructType):
        if t.cls in out:
            return
        out[t.cls] = t
        for f in t.fields:
            _structs(f.type, out)
        return
    for name in t.__struct_fields__:
        value = getattr(t, name)
        for inner in value if isinstance(value, tuple) else (value,):
            if isinstance(inner, mi.Type):
                _structs(inner, out)


def _omits_what_it_defaults(t: mi.StructType) -> bool:
    config = t.cls.__struct_config__
    return not t.array_like and (config.omit_defaults or all(f.required for f in t.fields))


def _countable(cls: type) -> bool:
    found: dict[type, mi.StructType] = {}
    _structs(mi.type_info(cls), found)
    return all(_omits_what_it_defaults(t) for t in found.values())


#: Event types whose encoding holds no key and no string the body did not (see the module doc).
COUNTABLE: frozenset[type] = frozenset(cls for cls in ev.EVENT_TYPES if _countable(cls))


def cannot_repeat_a_key(body: bytes, events: list[ev.Event], encoded: list[bytes]) -> bool:
    """True when ``body``, which decoded to ``events``, provably has no object with a key twice.

    ``encoded`` holds each event as the contract's encoder writes it. False means "not
    proven" (the exact check must run), never "has a duplicate".
    """
    if b"\\" in body or not COUNTABLE.issuperset(map(type, events)):
        return False
    return body.count(b'"') == b"".join(encoded).count(b'"')  # one count beats one per event


def keys_repeated(raws: list[bytes]) -> list[dict[str, object]]:
    """One error per raw event that repeats a key, naming its index and the key."""
    errors: list[dict[str, object]] = []
    for i, raw in enumerate(raws):
        key = first_duplicate_key(raw)
        if key is not None:
            errors.append({"index": i, "field": f"$.{key}", "message": f"duplicate key `{key}`"})
    return errors
