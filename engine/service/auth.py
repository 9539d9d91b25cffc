"""Tokens, roles and scopes of the live service.

Why per-source tokens with a scope: a supervision centre must be able to trust where an
event came from. A hall's window terminals can only speak for that hall's approval cases,
its cameras only for that hall's cameras, the trading platform only for tendering; a
compromised camera cannot forge an approval record. Reading alerts is for supervisors.

| role | may post | may read alerts, stats |
|---|---|---|
| ``window`` | its hall's approval family (1) | no |
| ``camera`` | ``camera.*`` events of its ``hall`` | no |
| ``trading`` | tendering events (2) and heartbeats without a hall | no |
| ``complaints`` | ``complaint.*``, ``inspection.*`` events and heartbeats of its ``hall`` | no |
| ``supervisor`` | nothing | yes |
| ``metrics`` | nothing | no; only ``GET /metrics`` (a Prometheus scraper) |
| ``admin`` | everything | yes, and the quarantine |

(1) case lifecycle, ``item.published``, ``staff.authorised``, ``staff.clock_in/out``,
``queue.ticket`` / ``queue.called`` (the queue-number machine) and ``source.heartbeat`` of that
hall. (2) ``tender.*``, ``bid.submitted``, ``bids.opened``, ``expert.scored``.

Tokens are looked up by their SHA-256 digest, so the table in memory holds no secrets and
lookup time does not depend on how much of a guess matches.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import yaml
from msgspec import Meta

from engine.contract import events as ev

__all__ = [
    "RESERVED_PREFIX",
    "ROLES",
    "AuthError",
    "Principal",
    "TokenSpec",
    "TokenTable",
    "check_specs",
    "load_tokens",
    "scope_error",
]

Role = Literal["window", "camera", "trading", "complaints", "supervisor", "metrics", "admin"]
ROLES: tuple[str, ...] = ("window", "camera", "trading", "complaints", "supervisor", "metrics", "admin")
#: Partition names of events without a hall (engine.service.halls); no hall may be called so.
RESERVED_PREFIX = "~"


class AuthError(ValueError):
    """A token file that cannot be used; the message names the file and the entry."""


class TokenSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One token of the configuration file; ``hall`` is required for window, camera and complaints roles."""

    token: Annotated[str, Meta(min_length=16)]
    role: Role
    hall: str | None = None
    name: str = ""


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is calling: role, scope and a display name (never the token)."""

    role: Role
    hall: str | None = None
    name: str = ""

    @property
    def can_read(self) -> bool:
        return self.role in ("supervisor", "admin")

    @property
    def can_post(self) -> bool:
        return self.role not in ("supervisor", "metrics")

    @property
    def can_scrape(self) -> bool:
        return self.role in ("supervisor", "metrics", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


_APPROVAL: tuple[type[ev.Event], ...] = (
    ev.CaseSubmitted,
    ev.CaseAccepted,
    ev.StepStarted,
    ev.StepCompleted,
    ev.CaseSuspended,
    ev.CaseResumed,
    ev.FeeCharged,
    ev.CaseDecided,
    ev.CertificateIssued,
    ev.CaseClosed,
    *ev.JOINT_REVIEW_EVENT_TYPES,
    ev.ItemPublished,
    ev.StaffAuthorised,
    ev.StaffClockIn,
    ev.StaffClockOut,
    ev.StaffRoster,
    ev.StaffBreak,
    ev.QueueTicket,  # the hall's queue-number machine: the load harness sends them as window traffic
    ev.QueueCalled,
    ev.SourceHeartbeat,
)
_CAMERA = (ev.PresenceDetected, ev.QueueCount, ev.CameraHeartbeat, ev.AudioAlert)
_TRADING = (ev.TenderPublished, ev.BidSubmitted, ev.BidsOpened, ev.ExpertScored, ev.TenderAwarded)
#: The complaints and inspection platform (the centre records its unannounced inspections there too).
_COMPLAINTS: tuple[type[ev.Event], ...] = (
    *ev.COMPLAINT_EVENT_TYPES,
    *ev.INSPECTION_EVENT_TYPES,
    ev.SourceHeartbeat,
)
#: Roles whose tokens speak for one hall only.
_HALL_ROLES = ("window", "camera", "complaints")


#: The families a hall-bound role may post, and how its refusals name the sender.
_HALL_SCOPES: dict[str, tuple[tuple[type[ev.Event], ...], str]] = {
    "window": (_APPROVAL, "a window terminal"),
    "camera": (_CAMERA, "a camera"),
    "complaints": (_COMPLAINTS, "a complaints platform"),
}


def scope_error(who: Principal, event: ev.Event) -> tuple[str, str] | None:
    """Why ``who`` may not post ``event`` (the field at fault and the reason), or None when it may."""
    role = who.role
    kind = type(event).__struct_config__.tag
    hall = getattr(event, "hall_id", None)
    if hall is not None and hall.startswith(RESERVED_PREFIX):
        return "$.hall_id", f"hall ids beginning with `{RESERVED_PREFIX}` are reserved (got {hall!r})"
    if role == "admin":
        return None
    if role in _HALL_SCOPES:
        allowed, who_is = _HALL_SCOPES[role]
        if not isinstance(event, allowed):
            return "$.kind", f"{who_is} may not post `{kind}` events"
        if hall is None:
            return "$.hall_id", f"{who_is} of hall {who.hall} must name its hall (`hall_id`)"
        if hall != who.hall:
            return "$.hall_id", f"{who_is} of hall {who.hall} may not post events of hall {hall}"
        return None
    if role == "trading":
        if isinstance(event, _TRADING) or (isinstance(event, ev.SourceHeartbeat) and hall is None):
            return None
        if isinstance(event, ev.SourceHeartbeat):
            return "$.hall_id", "a trading platform's heartbeats name no hall (it serves none)"
        return "$.kind", f"a trading platform may not post `{kind}` events"
    return "$.kind", f"a {role} token may not post events"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


class TokenTable:
    """Token digest → principal."""

    def __init__(self, specs: list[TokenSpec] | tuple[TokenSpec, ...] = ()) -> None:
        self._by_digest: dict[bytes, Principal] = {}
        for spec in specs:
            self.add(spec)

    def add(self, spec: TokenSpec) -> None:
        self._by_digest[_digest(spec.token)] = Principal(role=spec.role, hall=spec.hall, name=spec.name)

    def lookup(self, authorization: str | None) -> Principal | None:
        """The principal of an ``Authorization: Bearer <token>`` header, or None."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        return self._by_digest.get(_digest(token.strip()))

    def __len__(self) -> int:
        return len(self._by_digest)


def check_specs(specs: list[TokenSpec], where: str) -> None:
    seen: set[str] = set()
    for i, spec in enumerate(specs):
        if spec.role in _HALL_ROLES and not spec.hall:
            raise AuthError(f"{where}: `$.tokens[{i}].hall` - a {spec.role} token needs a hall")
        if spec.hall is not None and spec.hall.startswith(RESERVED_PREFIX):
            raise AuthError(f"{where}: `$.tokens[{i}].hall` - hall ids beginning with `~` are reserved")
        if spec.role not in _HALL_ROLES and spec.hall is not None:
            raise AuthError(f"{where}: `$.tokens[{i}].hall` - a {spec.role} token has no hall scope")
        if spec.token in seen:
            raise AuthError(f"{where}: `$.tokens[{i}].token` - the same token is listed twice")
        seen.add(spec.token)


class _TokenFile(msgspec.Struct, forbid_unknown_fields=True):
    tokens: list[TokenSpec]


def load_tokens(path: str | Path) -> list[TokenSpec]:
    """Read a ``tokens:`` YAML file (the service config may embed the same list)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        specs = msgspec.convert(data, _TokenFile).tokens
    except (yaml.YAMLError, msgspec.ValidationError) as exc:
        raise AuthError(f"{path}: {exc}") from None
    check_specs(specs, str(path))
    return specs
