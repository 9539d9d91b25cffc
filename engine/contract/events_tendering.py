"""Public-resource trading events: tenders, bids with their electronic traces, expert scores, awards.

Part of the event contract; :mod:`engine.contract.events` re-exports every name here and decodes them.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from engine.contract.event_base import Count, Event, Id, Instant, Text, Yuan

__all__ = [
    "BidSubmitted",
    "BidTraces",
    "BidsOpened",
    "DocumentMark",
    "ExpertScored",
    "TenderAwarded",
    "TenderPublished",
    "TenderingEvent",
]

# --- public-resource trading ------------------------------------------------------------


class DocumentMark(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Another party's identity found inside a bid's documents: a name, a seal, a file's owner.

    Why: 实施条例 Art. 40 (五) deems bids collusive when their documents are mixed up
    (相互混装) — a page, seal or embedded file of one bidder inside another's bid, the trace
    of one hand preparing both. A platform that parses bid files (text, seal images, file
    metadata) reports each foreign identity it finds; only a *bidder of the same tender* is
    evidence, since a consortium partner's or a manufacturer's authorisation is legitimate."""

    kind: Literal["name", "seal", "file"]
    party_id: Id
    #: Which document of the bid carries it (e.g. 报价单, 资格证明); free text.
    document: Text = ""


class BidTraces(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Electronic traces a trading platform records with each bid file (all optional).

    ``bid_agent`` is the unit or person the bidder entrusted with handling its bid (投标代理,
    标书代写; ``None`` when it handled the bid itself) — not the tender's own agent
    (招标代理, ``TenderPublished.agent_id``). ``marks`` are the foreign identities found in
    the bid's documents (the bidder's own are not listed). Both default to empty, so streams
    written before they existed still decode."""

    ip: Text | None = None
    mac: Text | None = None
    cpu_serial: Text | None = None
    disk_serial: Text | None = None
    file_creation_id: Text | None = None
    ca_serial: Text | None = None
    dongle_serial: Text | None = None
    author: Text | None = None
    bond_account: Text | None = None
    project_manager: Text | None = None
    bid_agent: Text | None = None
    marks: Annotated[tuple[DocumentMark, ...], Meta(max_length=1000)] = ()


class TenderPublished(Event, frozen=True, tag="tender.published"):
    tender_id: Id
    category: Literal["construction", "procurement", "land", "property"]
    control_price: Yuan
    tenderer_id: Id
    agent_id: Id | None = None
    region: Text = ""
    bid_deadline: Instant | None = None


class BidSubmitted(Event, frozen=True, tag="bid.submitted"):
    tender_id: Id
    bidder_id: Id
    price: Yuan
    traces: BidTraces = BidTraces()


class BidsOpened(Event, frozen=True, tag="bids.opened"):
    tender_id: Id
    n_bids: Count


class ExpertScored(Event, frozen=True, tag="expert.scored"):
    tender_id: Id
    expert_id: Id
    bidder_id: Id
    score: Annotated[float, Meta(ge=0, le=100)]


class TenderAwarded(Event, frozen=True, tag="tender.awarded"):
    tender_id: Id
    winner_id: Id
    price: Yuan


TenderingEvent = TenderPublished | BidSubmitted | BidsOpened | ExpertScored | TenderAwarded
