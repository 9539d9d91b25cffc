"""Every false alarm and miss of an impaired run gets one cause, by comparison with the clean run."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from engine.contract.alerts import Alert
from reports.evaluation.attribution import attribute, clock_shifts
from sim.common.truth import Episode
from sim.quality.records import Impairment

T = datetime(2025, 3, 3, 10, tzinfo=ZoneInfo("Asia/Shanghai"))


def alert(rule: str, case: str, minutes: int = 0) -> Alert:
    return Alert(
        alert_id=f"{rule}:{case}:{minutes}",
        rule=rule,
        level="warning",
        subject=f"case:{case}",
        ts=T + timedelta(minutes=minutes),
    )


def episode(kind: str, case: str, *, lookalike: bool = False) -> Episode:
    return Episode(
        episode_id=f"{kind}:{case}", kind=kind, subject=f"case:{case}", onset=T, end=T, lookalike=lookalike
    )


def impaired(case: str, *kinds: str) -> list[Impairment]:
    return [
        Impairment(
            event_id=f"{case}.01",
            impairment=k,
            system="s",
            event_kind="case.accepted",
            hall_id="H1",
            department_id="H1-D01",
            case_id=case,
            ts=T,
            stated=T,
            arrival=T,
            amount_s=60.0,
        )  # type: ignore[arg-type]
        for k in kinds
    ]


def test_each_error_gets_its_cause() -> None:
    truth = [
        episode("skipped_step", "C1"),  # found by both runs
        episode("backdated", "C2"),  # missed only when impaired: C2's records were delayed
        episode("backdated", "C3"),  # missed only when impaired: C3 untouched, its records set aside
        episode("backdated", "C4"),  # missed by both: the rule's own miss
        episode("excess_fee", "C5"),  # missed only when impaired, no explanation at hand
    ]
    clean = [
        alert("logic.skipped_step", "C1"),
        alert("logic.backdated", "C2"),
        alert("logic.backdated", "C3"),
        alert("logic.excess_fee", "C5"),
        alert("logic.skipped_step", "C6"),
        alert("logic.skipped_step", "C4"),
    ]
    messy = [
        alert("logic.skipped_step", "C1"),
        alert("logic.skipped_step", "C6"),  # a false alarm in both runs, C6 has no violation: the rule
        alert("logic.skipped_step", "C4"),  # a false alarm in both runs on a case with misconduct
        alert("logic.decision_before_acceptance", "C2"),  # new, C2 impaired
    ]
    a = attribute(
        messy,
        clean,
        truth,
        [*impaired("C2", "clock_skew", "sync_delay", "duplicate")],
        set_aside={"case:C3"},
        n_cases=1000,
    )
    assert a.false_alarms == {"impairment:duplicate": 1, "misconduct": 1, "rule": 1}
    assert a.misses == {
        "impairment:duplicate": 1,
        "impairment:watermark": 1,
        "rule": 1,
        "unexplained": 1,
    }
    assert a.combinations == {"duplicate+sync_delay+clock_skew": 2}
    assert a.data_false_alarms_per_1000_cases == 1.0
    by_rule = {r.rule: r for r in a.rules}
    backdated = by_rule["logic.backdated"]
    assert (backdated.clean.tp, backdated.clean.fn, backdated.impaired.tp, backdated.impaired.fn) == (
        2,
        1,
        0,
        3,
    )
    assert backdated.impaired.recall == 0.0 and backdated.clean.recall == round(2 / 3, 4)
    assert by_rule["logic.skipped_step"].false_alarms == {"misconduct": 1, "rule": 1}


def test_on_the_source_clock_an_alert_stamped_by_a_skewed_clock_finds_its_violation() -> None:
    # C7's system runs 5 minutes ahead: its alert comes stamped 300 s after the true onset.
    truth = [episode("backdated", "C7")]
    skewed = [
        Impairment(
            event_id=f"C7.0{k}", impairment="clock_skew", system="s", event_kind="case.accepted",
            hall_id="H1", department_id="H1-D01", case_id="C7", ts=T, stated=T + timedelta(seconds=shift),
            arrival=T, amount_s=shift,
        )
        for k, shift in enumerate((299.0, 300.0, 302.0))
    ]  # fmt: skip
    alerts = [alert("logic.backdated", "C7", minutes=5)]
    clean = [alert("logic.backdated", "C7")]
    on_true = attribute(alerts, clean, truth, skewed, set_aside=(), n_cases=100)
    assert on_true.false_alarms == {"impairment:clock_skew": 1}
    assert on_true.misses == {"impairment:clock_skew": 1}
    on_source = attribute(alerts, clean, truth, skewed, set_aside=(), n_cases=100, on_source_clock=True)
    assert on_source.false_alarms == {} and on_source.misses == {}
    by_rule = {r.rule: r for r in on_source.rules}
    assert by_rule["logic.backdated"].impaired.tp == 1
    assert clock_shifts(skewed) == {"case:C7": 300.0}  # the median of the case's records
    # a shift read back the wrong way does not match: the window stays ±60 s around the onset
    assert attribute(
        [alert("logic.backdated", "C7", minutes=-5)], clean, truth, skewed, set_aside=(), n_cases=100,
        on_source_clock=True,
    ).misses == {"impairment:clock_skew": 1}  # fmt: skip
