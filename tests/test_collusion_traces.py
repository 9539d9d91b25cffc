"""Trace rules as the regulations state them, and the look-alikes they must ignore."""

from __future__ import annotations

import msgspec
import pytest

from engine.contract import events as ev
from engine.replay import detect
from engine.rules.rulebook import Rulebook
from tests.collusion_streams import COMPETITIVE, own, run, tender

TRACE = ("collusion.art40", "collusion.fujian", "collusion.daqing", "collusion.same_ip")


def _two_sharing(**shared: str) -> list:
    bids = [
        ("F1", COMPETITIVE[0], own("F1", **shared)),
        ("F2", COMPETITIVE[1], own("F2", **shared)),
        ("F3", COMPETITIVE[2], own("F3")),
        ("F4", COMPETITIVE[3], own("F4")),
    ]
    return tender("Z1", bids)


def _fired(alerts: list, rule: str) -> list:
    return [a for a in alerts if a.rule == rule]


@pytest.mark.parametrize(
    ("field", "clause"),
    [
        ("author", "art40.1 same preparer"),
        ("bid_agent", "art40.2 same bid agent"),
        ("ca_serial", "art40.2 same handler"),
        ("project_manager", "art40.3 same project member"),
        ("file_creation_id", "art40.4 identical documents"),
        ("bond_account", "art40.6 same bond account"),
    ],
)
def test_art40_each_clause_names_its_evidence(field: str, clause: str) -> None:
    alerts = _fired(run(_two_sharing(**{field: "SHARED"}), *TRACE), "collusion.art40")
    assert len(alerts) == 1
    ev = alerts[0].evidence
    assert (alerts[0].subject, alerts[0].level) == ("tender:Z1", "red")
    assert ev["clause"] == clause and ev["fields"] == [field] and ev["value"] == "SHARED"
    assert ev["bidders"] == ["F1", "F2"] and ev["bid_events"] == ["Z1:bid:F1", "Z1:bid:F2"]


def test_fujian_needs_mac_cpu_and_disk_together() -> None:
    two_of_three = run(_two_sharing(mac="M", cpu_serial="C"), *TRACE)
    assert _fired(two_of_three, "collusion.fujian") == []
    assert [a.evidence["clause"] for a in _fired(two_of_three, "collusion.daqing")] == [
        "daqing cpu",
        "daqing mac",
    ]
    all_three = run(_two_sharing(mac="M", cpu_serial="C", disk_serial="D"), *TRACE)
    fujian = _fired(all_three, "collusion.fujian")
    assert [a.evidence["clause"] for a in fujian] == ["fujian mac+cpu+disk"]
    assert fujian[0].evidence["value"] == "M|C|D"


@pytest.mark.parametrize("field", ["dongle_serial", "file_creation_id"])
def test_fujian_and_daqing_on_one_dongle_or_file_id(field: str) -> None:
    alerts = run(_two_sharing(**{field: "X"}), *TRACE)
    assert len(_fired(alerts, "collusion.fujian")) == 1
    assert len(_fired(alerts, "collusion.daqing")) == 1


@pytest.mark.parametrize("field", ["mac", "cpu_serial", "disk_serial"])
def test_daqing_any_one_machine_code(field: str) -> None:
    alerts = run(_two_sharing(**{field: "X"}), *TRACE)
    assert len(_fired(alerts, "collusion.daqing")) == 1
    assert _fired(alerts, "collusion.fujian") == [] and _fired(alerts, "collusion.art40") == []


def test_business_park_ip_is_only_a_weak_signal() -> None:
    alerts = run(_two_sharing(ip="61.1.1.1"), *TRACE)
    assert [(a.rule, a.level) for a in alerts] == [("collusion.same_ip", "warning")]
    cards = run(_two_sharing(ip="61.1.1.1"), *TRACE, "collusion.card")
    assert not [a for a in cards if a.rule == "collusion.card"]


def test_popular_vendor_consortium_and_honest_firms_raise_nothing() -> None:
    # One vendor: same serial prefix, different serials. A consortium: one bid for two firms.
    bids = [
        ("F1", COMPETITIVE[0], own("F1", dongle_serial="GLD-10001")),
        ("F2", COMPETITIVE[1], own("F2", dongle_serial="GLD-10002")),
        ("C1", COMPETITIVE[2], own("C1", bond_account="acct-F9", project_manager="pm-F9")),
        ("F4", COMPETITIVE[3], own("F4", dongle_serial="GLD-10004")),
    ]
    assert run(tender("Z1", bids), *TRACE) == []


def test_traces_shared_across_tenders_are_not_same_tender_evidence() -> None:
    a = tender("Z1", [("F1", 900.0, own("F1")), ("F2", 950.0, own("F2"))])
    b = tender("Z2", [("F1", 900.0, own("F1")), ("F3", 960.0, own("F3", author="author-F2"))], day=1)
    assert run(a + b, *TRACE) == []


def test_missing_traces_never_match() -> None:
    from engine.contract.events import BidTraces

    bids = [("F1", 900.0, BidTraces()), ("F2", 910.0, BidTraces()), ("F3", 990.0, BidTraces())]
    assert run(tender("Z1", bids), *TRACE) == []


def test_screens_need_the_winner_set_apart_not_only_tight_bids() -> None:
    # Tight, evenly spaced honest bids: low CV and SPD, but the lowest is not apart (RD < 1.25).
    tight = [(f"T{i}", 950_000.0 + 8_000.0 * i, own(f"T{i}")) for i in range(6)]
    # Cover bidding: the same tight covers, and a designated winner 5 % below them.
    covered = [("W", 900_000.0, own("W"))] + [
        (f"C{i}", 950_000.0 + 3_000.0 * i, own(f"C{i}")) for i in range(5)
    ]
    alerts = run(tender("Z1", tight) + tender("Z2", covered, day=1), "collusion.screens")
    assert [a.evidence["tender_id"] for a in alerts] == ["Z2"]
    assert alerts[0].evidence["RD"] >= 1.25


def test_one_bid_agency_across_tenders_is_normal_business() -> None:
    # BA01 serves F1 in Z1 and F3 in Z2, and F2 handles its own bid: no Art. 40 (二).
    a = tender("Z1", [("F1", 900.0, own("F1", bid_agent="BA01")), ("F2", 950.0, own("F2"))])
    b = tender("Z2", [("F3", 900.0, own("F3", bid_agent="BA01")), ("F4", 960.0, own("F4"))], day=1)
    assert run(a + b, *TRACE) == []


def _marked(firm: str, *marks: ev.DocumentMark) -> ev.BidTraces:
    return msgspec.structs.replace(own(firm), marks=marks)


def test_mixed_up_documents_name_the_bid_and_the_rival_whose_document_it_carries() -> None:
    seal = ev.DocumentMark(kind="seal", party_id="F1", document="报价单")
    bids = [
        ("F1", COMPETITIVE[0], own("F1")),
        ("F2", COMPETITIVE[1], _marked("F2", seal)),
        ("F3", COMPETITIVE[2], own("F3")),
    ]
    alerts = _fired(run(tender("Z1", bids), *TRACE), "collusion.art40")
    assert len(alerts) == 1
    e = alerts[0].evidence
    assert e["clause"] == "art40.5 mixed-up documents" and e["fields"] == ["marks"]
    assert e["value"] == "F1" and e["marks"] == ["seal@报价单"]
    assert e["bidders"] == ["F1", "F2"] and e["bid_events"] == ["Z1:bid:F1", "Z1:bid:F2"]


def test_foreign_marks_of_non_rivals_raise_nothing() -> None:
    # A consortium partner's seal, a manufacturer's authorisation, the bidder's own name, and a
    # firm that bids in another tender: none names a rival bidder of the same tender.
    partner = ev.DocumentMark(kind="seal", party_id="F9", document="联合体协议")
    maker = ev.DocumentMark(kind="name", party_id="F8", document="厂家授权书")
    self_mark = ev.DocumentMark(kind="file", party_id="F2")
    elsewhere = ev.DocumentMark(kind="name", party_id="F5", document="业绩证明")
    a = tender(
        "Z1",
        [
            ("C1", COMPETITIVE[0], _marked("C1", partner)),
            ("F2", COMPETITIVE[1], _marked("F2", maker, self_mark, elsewhere)),
            ("F3", COMPETITIVE[2], own("F3")),
        ],
    )
    b = tender("Z2", [("F5", 900.0, own("F5")), ("F6", 950.0, own("F6"))], day=1)
    assert run(a + b, *TRACE) == []


def test_bid_traces_without_the_new_fields_still_decode() -> None:
    old = b'{"ip":"1.2.3.4","author":"x"}'
    t = msgspec.json.decode(old, type=ev.BidTraces)
    assert (t.bid_agent, t.marks, t.author) == (None, (), "x")
    again = msgspec.json.decode(
        msgspec.json.encode(_marked("F1", ev.DocumentMark(kind="seal", party_id="F2")))
    )
    assert again["marks"] == [{"kind": "seal", "party_id": "F2", "document": ""}]


def test_min_rd_comes_from_the_rulebook() -> None:
    tight = [(f"T{i}", 950_000.0 + 8_000.0 * i, own(f"T{i}")) for i in range(6)]
    stream = sorted(tender("Z1", tight), key=lambda e: (e.ts, e.event_id))
    book = Rulebook.default().with_enabled("collusion.screens")
    assert book.rules.collusion.min_rd == 1.25
    assert detect(stream, book, reference=max(e.ts for e in stream)).alerts == []
    loose = msgspec.structs.replace(
        book,
        rules=msgspec.structs.replace(
            book.rules, collusion=msgspec.structs.replace(book.rules.collusion, min_rd=0.0)
        ),
    )
    alerts = detect(stream, loose, reference=max(e.ts for e in stream)).alerts
    assert [a.evidence["tender_id"] for a in alerts] == ["Z1"]


def test_price_pattern_names_the_bidders_of_the_run_not_the_outsiders() -> None:
    # W and three covers on a 1 % step, priced to the fen; honest outsiders far below and
    # above the run. (The same bids rounded to the thousand yuan would not be significant:
    # see tests/test_price_lattice.py.)
    bids = [
        ("H1", 800_417.33, own("H1")),
        ("W", 900_123.17, own("W")),
        ("C1", 909_124.40, own("C1")),
        ("C2", 918_125.63, own("C2")),
        ("C3", 927_126.86, own("C3")),
        ("H2", 990_871.09, own("H2")),
    ]
    alerts = run(tender("Z1", bids), "collusion.price_pattern")
    assert len(alerts) == 1
    e = alerts[0].evidence
    assert e["bidders"] == ["C1", "C2", "C3", "W"] and e["run_length"] == 4
    assert e["tender_bidders"] == ["C1", "C2", "C3", "H1", "H2", "W"]
