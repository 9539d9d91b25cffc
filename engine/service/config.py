"""Configuration of the live service: one YAML file, decoded and checked before anything starts.

Why bounds everywhere: a service that accepts unbounded bodies, batches or queues fails
under peak load by running out of memory instead of saying "slow down". Each bound here
maps to one answer the client can act on: 413 (split the batch), 429 + ``Retry-After``
(back off and resend; ingestion is idempotent on ``event_id``).

Example (every field but ``tokens`` has a default)::

    db: runs/service/supsim.db
    rulebook: scenarios/rulebooks/default.yaml
    max_batch_events: 1000
    max_body_bytes: 4194304
    queue_bound_events: 50000
    group_max_events: 5000
    max_requests_per_token: 128     # requests of one token in flight at once; more: 429
    max_connections: 800            # open connections; the oldest idle/slow one makes room
    head_timeout_s: 10              # request line and headers complete within this, else closed
    body_timeout_s: 30              # request body complete within this after the headers
    keep_alive_s: 5                 # an idle keep-alive connection is closed after this
    max_head_bytes: 65536           # bigger request head: 431
    calendar:                       # optional: added to the rulebook's calendar
      holidays: [holidays/]         # holiday files or directories, relative to this file
      beyond_range: error           # or weekdays; default: the rulebook's choice
    tokens:
      - {token: "...", role: window, hall: H1, name: "H1 window terminals"}
      - {token: "...", role: supervisor, name: "supervision centre"}
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import yaml
from msgspec import Meta

from engine.contract.holidays import CalendarOverride
from engine.contract.yaml_checks import yaml_problems
from engine.service.auth import AuthError, TokenSpec, check_specs

__all__ = ["ServiceCalendar", "ServiceConfig", "demo_config", "load_config", "write_tokens"]

Positive = Annotated[int, Meta(ge=1)]
PositiveSeconds = Annotated[float, Meta(gt=0, le=3600)]


class ServiceCalendar(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Holiday files and the fallback of a deployment, on top of its rulebook's calendar.

    Why here and not only in the rulebook: the next year's arrangement is an operational
    matter (published each November) that a deployment adds without touching the thresholds.
    """

    holidays: list[Annotated[str, Meta(min_length=1)]] = msgspec.field(default_factory=list)
    beyond_range: Literal["error", "weekdays"] | None = None

    def override(self) -> CalendarOverride:
        return CalendarOverride(holidays=tuple(self.holidays), beyond_range=self.beyond_range)


class ServiceConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    db: str = "runs/service/supsim.db"
    rulebook: str | None = None
    max_batch_events: Positive = 1000
    max_body_bytes: Positive = 4 * 1024 * 1024
    queue_bound_events: Positive = 50_000
    group_max_events: Positive = 5000
    retry_after_s: Positive = 1
    parse_only_route: bool = False
    # Connection limits (engine.service.edge.protocol) and the per-token cap of requests in flight.
    max_requests_per_token: Positive = 128
    max_connections: Positive = 800
    head_timeout_s: PositiveSeconds = 10.0
    body_timeout_s: PositiveSeconds = 30.0
    keep_alive_s: PositiveSeconds = 5.0
    max_head_bytes: Positive = 65536
    # After this long without a batch the writer collects the whole heap once (engine.service.upkeep.heap).
    heap_tidy_idle_s: PositiveSeconds | None = 300.0
    calendar: ServiceCalendar = ServiceCalendar()
    tokens: list[TokenSpec] = msgspec.field(default_factory=list)


def load_config(path: str | Path) -> ServiceConfig:
    """Decode and check a config file; errors name the file and the field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        if problems := yaml_problems(text):  # a token or limit given twice: the last would win silently
            raise AuthError("\n".join(f"{path}: `{field}` - {reason}" for field, reason in problems))
        data = yaml.safe_load(text) or {}
        config = msgspec.convert(data, ServiceConfig)
    except (yaml.YAMLError, msgspec.ValidationError) as exc:
        raise AuthError(f"{path}: {exc}") from None
    check_specs(config.tokens, str(path))
    if config.rulebook is not None and not Path(config.rulebook).is_absolute():
        config = msgspec.structs.replace(config, rulebook=str(path.parent / config.rulebook))
    if config.calendar.holidays:  # holiday files are named relative to the config file
        files = [p if Path(p).is_absolute() else str(path.parent / p) for p in config.calendar.holidays]
        config = msgspec.structs.replace(
            config, calendar=msgspec.structs.replace(config.calendar, holidays=files)
        )
    return config


def demo_config(tokens_path: Path, db: str) -> ServiceConfig:
    """Config for ``supsim serve`` without ``--config``: admin and supervisor tokens.

    The tokens are kept in ``tokens_path`` (created once, random) so that a restarted demo
    keeps its tokens and ``supsim loadtest`` can find them without being told.
    """
    if tokens_path.exists():
        from engine.service.auth import load_tokens

        specs = load_tokens(tokens_path)
    else:
        specs = [
            TokenSpec(token=secrets.token_urlsafe(24), role="admin", name="demo admin"),
            TokenSpec(token=secrets.token_urlsafe(24), role="supervisor", name="demo supervisor"),
        ]
        write_tokens(specs, tokens_path)
    return ServiceConfig(db=db, tokens=specs)


def write_tokens(specs: list[TokenSpec], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"tokens": msgspec.to_builtins(specs)}
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    path.chmod(0o600)
