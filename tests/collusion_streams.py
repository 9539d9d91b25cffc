"""Hand-built tendering streams for the collusion rule tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from engine.contract import events as ev
from engine.contract.alerts import Alert
from engine.replay import detect
from engine.rules.rulebook import Rulebook

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def own(firm: str, **shared: str) -> ev.BidTraces:
    """Distinct traces for ``firm`` except the fields given in ``shared``."""
    base = {
        "ip": f"ip-{firm}",
        "mac": f"mac-{firm}",
        "cpu_serial": f"cpu-{firm}",
        "disk_serial": f"disk-{firm}",
        "file_creation_id": f"file-{firm}",
        "ca_serial": f"ca-{firm}",
        "dongle_serial": f"GLD-{firm}",
        "author": f"author-{firm}",
        "bond_account": f"acct-{firm}",
        "project_manager": f"pm-{firm}",
    }
    base.update(shared)
    return ev.BidTraces(**base)


def tender(
    tid: str,
    bids: Sequence[tuple[str, float, ev.BidTraces]],
    *,
    day: int = 0,
    agent: str = "A1",
    scores: dict[str, dict[str, float]] | None = None,
    winner: str | None = None,
    category: str = "construction",
) -> list[ev.Event]:
    t = T0 + timedelta(days=day)
    out: list[ev.Event] = [
        ev.TenderPublished(
            event_id=f"{tid}:pub",
            ts=t,
            tender_id=tid,
            category=category,  # type: ignore[arg-type]
            control_price=1_000_000.0,
            tenderer_id="T1",
            agent_id=agent,
        )
    ]
    for k, (firm, price, traces) in enumerate(bids):
        out.append(
            ev.BidSubmitted(
                event_id=f"{tid}:bid:{firm}",
                ts=t + timedelta(hours=1, minutes=k),
                tender_id=tid,
                bidder_id=firm,
                price=price,
                traces=traces,
            )
        )
    opened = t + timedelta(hours=5)
    out.append(ev.BidsOpened(event_id=f"{tid}:open", ts=opened, tender_id=tid, n_bids=len(bids)))
    for j, (expert, row) in enumerate(sorted((scores or {}).items())):
        for firm, s in sorted(row.items()):
            out.append(
                ev.ExpertScored(
                    event_id=f"{tid}:score:{expert}:{firm}",
                    ts=opened + timedelta(minutes=10 + j),
                    tender_id=tid,
                    expert_id=expert,
                    bidder_id=firm,
                    score=s,
                )
            )
    win = winner if winner is not None else min(bids, key=lambda b: b[1])[0]
    price = next(p for f, p, _ in bids if f == win)
    out.append(
        ev.TenderAwarded(
            event_id=f"{tid}:award", ts=opened + timedelta(hours=3), tender_id=tid, winner_id=win, price=price
        )
    )
    return out


def run(events: Sequence[ev.Event], *rules: str) -> list[Alert]:
    book = Rulebook.default().with_enabled(*rules) if rules else Rulebook.default()
    ordered = sorted(events, key=lambda e: (e.ts, e.event_id))
    return detect(ordered, book, reference=ordered[-1].ts).alerts


COMPETITIVE = (850_000.0, 880_000.0, 905_000.0, 930_000.0, 990_000.0)
