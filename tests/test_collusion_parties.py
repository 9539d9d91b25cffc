"""Experts, agents, cards and debarment on hand-built tenders."""

from __future__ import annotations

from tests.collusion_streams import COMPETITIVE, own, run, tender


def _panel(firms: list[str], *, rogue: dict[str, float] | None = None) -> dict[str, dict[str, float]]:
    scores = {f"E{k}": {f: 80.0 + k for f in firms} for k in range(1, 5)}
    scores["E9"] = {f: 80.0 for f in firms} | (rogue or {})
    return scores


def _bids(prices: tuple[float, ...] = COMPETITIVE) -> list:
    return [(f"F{k}", p, own(f"F{k}")) for k, p in enumerate(prices, start=1)]


def test_expert_deviation_at_thirty_percent() -> None:
    firms = ["F1", "F2", "F3", "F4", "F5"]
    # panel median for F2 is 82; 57 is 30.5 % below, 58 only 29.3 %
    flagged = run(
        tender("Z1", _bids(), scores=_panel(firms, rogue={"F2": 57.0})), "collusion.expert_deviation"
    )
    assert [(a.subject, a.evidence["bidder_id"]) for a in flagged] == [("expert:E9", "F2")]
    assert flagged[0].evidence["deviation"] < -0.30
    assert (
        run(tender("Z1", _bids(), scores=_panel(firms, rogue={"F2": 58.0})), "collusion.expert_deviation")
        == []
    )


def test_expert_pairing_from_the_third_favour() -> None:
    events = []
    for k in range(3):
        events += tender(
            f"Z{k}", _bids(), day=k, scores=_panel(["F1", "F2", "F3", "F4", "F5"], rogue={"F3": 95.0})
        )
    alerts = run(events, "collusion.expert_pairing")
    assert [(a.subject, a.evidence["tenders"]) for a in alerts] == [("expert:E9", ["Z0", "Z1", "Z2"])]


def test_agent_pairing_needs_repeated_hairline_wins() -> None:
    close = (900_000.0, 901_000.0, 950_000.0, 990_000.0)  # winner 0.11 % under the runner-up
    events = []
    for k in range(3):
        events += tender(f"Z{k}", _bids(close), day=k, agent="A7")
    alerts = run(events, "collusion.agent_pairing")
    assert [(a.subject, a.evidence["bidder_id"]) for a in alerts] == [("agent:A7", "F1")]
    # the same wins through different agents, or by a clear margin, are no pattern
    spread = [e for k in range(3) for e in tender(f"Z{k}", _bids(close), day=k, agent=f"A{k}")]
    assert run(spread, "collusion.agent_pairing") == []
    wide = [e for k in range(3) for e in tender(f"Z{k}", _bids(), day=k, agent="A7")]
    assert run(wide, "collusion.agent_pairing") == []


def test_card_debars_and_a_debarred_bidder_bidding_again_is_an_alert() -> None:
    rigged = [
        ("F1", 900_000.0, own("F1", bond_account="ACC")),
        ("F2", 950_000.0, own("F2", bond_account="ACC")),
        ("F3", 990_000.0, own("F3")),
    ]
    later = tender("Z2", _bids(), day=30)
    much_later = tender("Z3", _bids(), day=400)
    rules = ("collusion.art40", "collusion.card", "collusion.debarred_party")
    alerts = run(tender("Z1", rigged) + later + much_later, *rules)
    cards = sorted(a.subject for a in alerts if a.rule == "collusion.card")
    assert cards == ["bidder:F1", "bidder:F2"]
    again = [(a.subject, a.evidence["tender_id"]) for a in alerts if a.rule == "collusion.debarred_party"]
    assert again == [("bidder:F1", "Z2"), ("bidder:F2", "Z2")]  # debarment over by day 400


def test_debarred_expert_evaluating_again() -> None:
    firms = ["F1", "F2", "F3", "F4", "F5"]
    events = []
    for k in range(3):
        events += tender(f"Z{k}", _bids(), day=k, scores=_panel(firms, rogue={"F2": 40.0}))
    alerts = run(events, "collusion.expert_deviation", "collusion.card", "collusion.debarred_party")
    assert [a.subject for a in alerts if a.rule == "collusion.card"] == ["expert:E9"]
    again = {a.evidence["tender_id"] for a in alerts if a.rule == "collusion.debarred_party"}
    assert again == {"Z2"}
