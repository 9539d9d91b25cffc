"""Matching alerts to truth: tolerance edges, subjects, steps, duplicates, look-alikes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.contract.alerts import Alert
from engine.contract.calendar import SHANGHAI
from reports.evaluation.matching import RULE_TO_TRUTH, family_of, lookalike_hits, match_alerts
from sim.common.truth import VIOLATION_KINDS, Episode

T0 = datetime(2024, 3, 4, 10, 0, tzinfo=SHANGHAI)  # a Monday, inside working hours


def alert(
    rule: str, subject: str, dt_s: float = 0.0, *, step: str | None = None, level: str = "warning"
) -> Alert:
    evidence: dict[str, str | int | float | bool | list[str] | None] = {} if step is None else {"step": step}
    tail = f":{step}" if step else ""
    return Alert(
        alert_id=f"{rule}:{level}:{subject}{tail}:{dt_s:g}",
        rule=rule,
        level=level,
        subject=subject,
        ts=T0 + timedelta(seconds=dt_s),
        evidence=evidence,
    )


def episode(
    kind: str,
    subject: str,
    *,
    step: str | None = None,
    lookalike: bool = False,
    confuses: tuple[str, ...] = (),
) -> Episode:
    return Episode(
        episode_id=f"{kind}:{subject}:{step or ''}",
        kind=kind,
        subject=subject,
        onset=T0,
        lookalike=lookalike,
        confuses=confuses,
        cause="lookalike" if lookalike else "injected",
        params={} if step is None else {"step": step},
    )


def test_rule_to_truth_covers_the_vocabulary() -> None:
    assert RULE_TO_TRUTH["deadline.warning"] == "deadline_at_risk"
    assert RULE_TO_TRUTH["deadline.overdue"] == "overdue"
    assert RULE_TO_TRUTH["deadline.severe"] == "severely_overdue"
    assert RULE_TO_TRUTH["step.overdue"] == "step_overdue"
    assert RULE_TO_TRUTH["logic.backdated"] == "backdated"
    assert sorted(RULE_TO_TRUTH.values()) == sorted(VIOLATION_KINDS)
    assert "deadline.department_repeat" not in RULE_TO_TRUTH
    assert [family_of(r) for r in ("deadline.severe", "step.overdue", "logic.excess_fee")] == [
        "deadline",
        "step",
        "logic",
    ]


@pytest.mark.parametrize(
    ("dt_s", "hit"),
    [(0.0, True), (60.0, True), (-60.0, True), (60.5, False), (-60.5, False), (3600.0, False)],
)
def test_tolerance_edges_are_inclusive(dt_s: float, hit: bool) -> None:
    m = match_alerts(
        [alert("deadline.overdue", "case:1", dt_s)], [episode("overdue", "case:1")], tolerance_s=60
    )
    assert (m.pairs == ((0, 0),)) is hit
    assert m.false_alarms == (() if hit else (0,))
    assert m.missed == (() if hit else (0,))


def test_tolerance_is_configurable_and_open_ended_kinds_have_no_upper_bound() -> None:
    alerts = [alert("deadline.overdue", "case:1", 90.0)]
    truth = [episode("overdue", "case:1")]
    assert match_alerts(alerts, truth, tolerance_s=60).pairs == ()
    assert match_alerts(alerts, truth, tolerance_s=120).pairs == ((0, 0),)
    late = [alert("deadline.overdue", "case:1", 86400.0)]
    assert match_alerts(late, truth, tolerance_s=60, bounded_kinds=()).pairs == ((0, 0),)
    early = [alert("deadline.overdue", "case:1", -90.0)]
    assert match_alerts(early, truth, tolerance_s=60, bounded_kinds=()).pairs == ()
    with pytest.raises(ValueError, match="tolerance_s"):
        match_alerts(alerts, truth, tolerance_s=-1)


def test_crafted_set_counts() -> None:
    alerts = [
        alert("deadline.overdue", "case:1", 30.0),  # 0 TP
        alert("deadline.overdue", "case:1", 45.0),  # 1 duplicate -> FP
        alert("deadline.overdue", "case:6"),  # 2 wrong subject (episode is on case:7) -> FP
        alert("step.overdue", "case:8", step="review"),  # 3 wrong step -> FP
        alert("step.overdue", "case:8", step="check"),  # 4 right step -> TP
        alert("logic.excess_fee", "case:9"),  # 5 no episode at all -> FP
        alert("logic.illegal_suspension", "case:10"),  # 6 on a look-alike -> FP, look-alike flagged
        alert("logic.illegal_suspension", "case:12"),  # 7 TP (a look-alike also sits on case:12)
        alert("deadline.department_repeat", "department:d1", level="red"),  # 8 unscored
    ]
    truth = [
        episode("overdue", "case:1"),  # 0 found by alert 0
        episode("overdue", "case:7"),  # 1 missed
        episode("step_overdue", "case:8", step="check"),  # 2 found by alert 4
        episode("step_overdue", "case:8", step="approve"),  # 3 missed
        episode("legal_suspension", "case:10", lookalike=True, confuses=("illegal_suspension",)),  # 4
        episode("fee_on_fee_item", "case:11", lookalike=True, confuses=("excess_fee",)),  # 5 no alert
        episode("illegal_suspension", "case:12"),  # 6 found by alert 7
        episode("legal_suspension", "case:12", lookalike=True, confuses=("illegal_suspension",)),  # 7
        episode("fee_on_fee_item", "case:9", lookalike=True, confuses=("excess_fee",)),  # 8 flagged by 5
    ]
    m = match_alerts(alerts, truth)
    assert m.pairs == ((0, 0), (4, 2), (7, 6))
    assert m.false_alarms == (1, 2, 3, 5, 6)
    assert m.unscored == (8,)
    assert m.missed == (1, 3)
    # case:9's alert also hits the look-alike planted on case:9; case:12's alert was explained
    assert lookalike_hits(alerts, truth, m) == (4, 8)


def test_greedy_prefers_the_closest_alert_whatever_the_input_order() -> None:
    truth = [episode("overdue", "case:1")]
    far, near = alert("deadline.overdue", "case:1", -50.0), alert("deadline.overdue", "case:1", 10.0)
    assert match_alerts([far, near], truth).pairs == ((1, 0),)
    assert match_alerts([near, far], truth).pairs == ((0, 0),)
    # equal distances: the earlier alert wins, deterministically
    before, after = alert("deadline.overdue", "case:1", -20.0), alert("deadline.overdue", "case:1", 20.0)
    assert match_alerts([after, before], truth).pairs == ((1, 0),)
    assert match_alerts([before, after], truth).pairs == ((0, 0),)


def test_one_to_one_between_two_episodes_and_two_alerts() -> None:
    # two episodes of one key (unusual, but matching must stay one-to-one and optimal-greedy)
    e_a = episode("overdue", "case:1")
    e_b = Episode(episode_id="late", kind="overdue", subject="case:1", onset=T0 + timedelta(seconds=100))
    alerts = [alert("deadline.overdue", "case:1", 55.0), alert("deadline.overdue", "case:1", 101.0)]
    m = match_alerts(alerts, [e_a, e_b], tolerance_s=60)
    assert m.pairs == ((0, 0), (1, 1))


def test_lookalike_not_flagged_by_alert_of_unrelated_kind() -> None:
    truth = [episode("legal_suspension", "case:3", lookalike=True, confuses=("illegal_suspension",))]
    alerts = [alert("logic.excess_fee", "case:3"), alert("logic.illegal_suspension", "case:4")]
    m = match_alerts(alerts, truth)
    assert m.false_alarms == (0, 1)
    assert lookalike_hits(alerts, truth, m) == ()
