"""Precision / recall / F1, latency in working hours and the cluster bootstrap."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import msgspec
import numpy as np
import pytest

from engine.contract.alerts import Alert
from engine.contract.calendar import SHANGHAI, WorkingCalendar
from engine.contract.events import CaseSubmitted, Event
from reports import evaluate
from reports.evaluation.accuracy import latency_summary, prf, working_latency_h
from reports.evaluation.bootstrap import ratio_interval, resample_sums
from sim.common.truth import Episode

CAL = WorkingCalendar(first=date(2024, 1, 1), last=date(2024, 12, 31))
MON = datetime(2024, 3, 4, 10, 0, tzinfo=SHANGHAI)  # Monday 10:00


def at(day: int, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    """2024-03-<day> hh:mm:ss in Shanghai (4 = Monday, 8 = Friday, 11 = next Monday)."""
    return datetime(2024, 3, day, hh, mm, ss, tzinfo=SHANGHAI)


def submitted(case: str) -> CaseSubmitted:
    return CaseSubmitted(
        event_id=f"sub-{case}",
        ts=MON - timedelta(days=1),
        hall_id="h1",
        case_id=case,
        department_id="d1",
        item_id="i1",
        channel="window",
        case_type="promised",
    )


def alert(rule: str, case: str, ts: datetime = MON, level: str = "warning") -> Alert:
    return Alert(
        alert_id=f"{rule}:{case}:{ts.isoformat()}", rule=rule, level=level, subject=f"case:{case}", ts=ts
    )


def episode(kind: str, case: str, onset: datetime = MON) -> Episode:
    return Episode(episode_id=f"{kind}:{case}", kind=kind, subject=f"case:{case}", onset=onset)


# --- metric arithmetic ------------------------------------------------------------------


def test_prf_values_and_empty_cases() -> None:
    assert prf(8, 2, 2) == pytest.approx((0.8, 0.8, 0.8))
    assert prf(3, 1, 5) == pytest.approx((0.75, 0.375, 0.5))
    assert prf(0, 0, 0) == (None, None, None)  # nothing to find, nothing flagged
    assert prf(0, 3, 0) == (0.0, None, 0.0)  # false alarms only
    assert prf(0, 0, 4) == (None, 0.0, 0.0)  # all missed, nothing flagged


def _population(n_cases: int, rng: np.random.Generator) -> tuple[list[Event], list[Alert], list[Episode]]:
    """Cases with overdue episodes; most found, some missed, some false alarms."""
    events: list[Event] = []
    alerts: list[Alert] = []
    truth: list[Episode] = []
    for k in range(n_cases):
        case = f"c{k:04d}"
        events.append(submitted(case))
        u = rng.random()
        if u < 0.3:
            truth.append(episode("overdue", case))
            alerts.append(alert("deadline.overdue", case, MON + timedelta(seconds=5)))
        elif u < 0.4:
            truth.append(episode("overdue", case))
        elif u < 0.45:
            alerts.append(alert("deadline.overdue", case, level="yellow"))
    return events, alerts, truth


def test_evaluate_scores_rules_families_and_empty_rows() -> None:
    events, alerts, truth = _population(400, np.random.default_rng(1))
    ev = evaluate(events, alerts, truth, calendar=CAL, bootstrap=300, seed=7)
    rule = {s.name: s for s in ev.rules}
    od = rule["deadline.overdue"]
    tp, fn, fp = od.tp, od.fn, od.fp
    assert tp > 0 and fn > 0 and fp > 0
    assert od.episodes == tp + fn == len(truth)
    assert od.alerts == tp + fp == len(alerts)
    assert od.precision == pytest.approx(tp / (tp + fp), abs=1e-6)
    assert od.recall == pytest.approx(tp / (tp + fn), abs=1e-6)
    assert od.prevalence == pytest.approx(len(truth) / 400, abs=1e-6)
    assert (
        od.latency is not None
        and od.latency.n == tp
        and od.latency.p50_h == pytest.approx(5 / 3600, abs=1e-6)
    )
    for value, ci in ((od.precision, od.precision_ci), (od.recall, od.recall_ci), (od.f1, od.f1_ci)):
        assert ci is not None and value is not None
        assert ci[0] <= value <= ci[1]
        assert ci[0] < ci[1]
    # a rule with nothing to find and nothing flagged reports null, not a perfect score
    empty = rule["logic.backdated"]
    assert (empty.tp, empty.fp, empty.fn, empty.precision, empty.recall, empty.f1) == (
        0,
        0,
        0,
        None,
        None,
        None,
    )
    assert empty.precision_ci is None and empty.latency is None
    assert b'"precision":null' in msgspec.json.encode(empty)
    fam = {s.name: s for s in ev.families}
    assert [s.name for s in ev.families] == ["deadline", "step", "logic"]
    assert (fam["deadline"].tp, fam["deadline"].fp, fam["deadline"].fn) == (tp, fp, fn)
    assert fam["logic"].f1 is None
    assert (ev.overall.tp, ev.overall.fp, ev.overall.fn) == (tp, fp, fn)
    assert ev.overall.precision_ci == od.precision_ci  # same counts, same clusters, same draws


def test_bootstrap_is_reproducible_by_seed() -> None:
    events, alerts, truth = _population(300, np.random.default_rng(2))
    a = evaluate(events, alerts, truth, calendar=CAL, bootstrap=200, seed=11)
    b = evaluate(events[::-1], alerts[::-1], truth[::-1], calendar=CAL, bootstrap=200, seed=11)
    c = evaluate(events, alerts, truth, calendar=CAL, bootstrap=200, seed=12)
    assert msgspec.json.encode(a) == msgspec.json.encode(b)
    assert a.rules[1].recall_ci != c.rules[1].recall_ci
    assert a.rules[1].recall == c.rules[1].recall
    none = evaluate(events, alerts, truth, calendar=CAL, bootstrap=0)
    assert none.rules[1].recall_ci is None and none.rules[1].recall == a.rules[1].recall


def test_resample_sums_is_the_multinomial_bootstrap() -> None:
    rng = np.random.default_rng(3)
    # every cluster holds a count: the total count of draws is always n
    ones = np.ones((50, 1))
    assert np.all(resample_sums(ones, 50, n_resamples=20, rng=rng) == 50)
    # K nonzero clusters out of n: mean = total, variance = n * population variance
    n, k = 200, 40
    values = rng.poisson(2.0, size=(k, 2)).astype(float) + 1.0
    sums = resample_sums(values, n, n_resamples=4000, rng=rng, max_cells=1000)  # many small chunks
    pop = np.vstack([values, np.zeros((n - k, 2))])
    assert sums.shape == (4000, 2)
    assert np.allclose(sums.mean(axis=0), pop.sum(axis=0), rtol=0.02)
    assert np.allclose(sums.var(axis=0), n * pop.var(axis=0), rtol=0.1)
    again = resample_sums(values, n, n_resamples=30, rng=np.random.default_rng(9))
    assert np.array_equal(again, resample_sums(values, n, n_resamples=30, rng=np.random.default_rng(9)))
    with pytest.raises(ValueError, match="nonzero clusters"):
        resample_sums(values, k - 1, n_resamples=1, rng=rng)


def test_ratio_interval_skips_undefined_replicates() -> None:
    assert ratio_interval(np.zeros(5), np.zeros(5)) is None
    num = np.array([0.0, 1.0, 1.0, 3.0])
    den = np.array([0.0, 2.0, 2.0, 4.0])  # 0/0 dropped -> ratios 0.5, 0.5, 0.75
    lo, hi = ratio_interval(num, den, level=0.5) or (None, None)
    assert (lo, hi) == pytest.approx((0.5, 0.625))  # counted as 0 it would start at 0.375


# --- latency on the working calendar -------------------------------------------------------


def test_latency_counts_working_hours_across_lunch_and_weekend() -> None:
    assert working_latency_h(at(4, 13, 40), at(4, 11, 50), CAL) == pytest.approx(20 / 60)  # lunch skipped
    assert working_latency_h(at(11, 9, 30), at(8, 11, 30), CAL) == pytest.approx(5.0)  # Fri -> Mon
    assert working_latency_h(at(4, 12, 0, 30), at(4, 12, 0), CAL) == 0.0  # lunch: no working time passed
    assert working_latency_h(at(4, 11, 59, 30), at(4, 13, 30), CAL) == pytest.approx(-30 / 3600)  # early
    lat = latency_summary([1.0, 5.0, 2.0])
    assert lat is not None and (lat.n, lat.p50_h, lat.max_h, lat.min_h) == (3, 2.0, 5.0, 1.0)
    assert lat.p95_h == pytest.approx(4.7)
    assert latency_summary([]) is None


def test_evaluate_latency_in_working_hours() -> None:
    events: list[Event] = [submitted(c) for c in ("a", "b", "c")]
    truth = [episode("overdue", "a", at(8, 11, 30)), episode("overdue", "b", at(4, 11, 50))]
    truth.append(episode("overdue", "c", at(4, 13, 30)))
    alerts = [
        alert("deadline.overdue", "a", at(11, 9, 30)),  # 5 working hours over the weekend
        alert("deadline.overdue", "b", at(4, 13, 40)),  # 20 working minutes over lunch
        alert("deadline.overdue", "c", at(4, 11, 59, 30)),  # 30 working seconds early
    ]
    wide = evaluate(events, alerts, truth, calendar=CAL, tolerance_s=4 * 86400, bootstrap=0)
    od = wide.rules[1]
    assert od.name == "deadline.overdue" and od.tp == 3
    assert od.latency is not None
    assert od.latency.max_h == pytest.approx(5.0)
    assert od.latency.min_h == pytest.approx(-30 / 3600, abs=1e-6)
    assert od.latency.p50_h == pytest.approx(20 / 60, abs=1e-6)
    # with the default one-minute tolerance none of these is a detection
    strict = evaluate(events, alerts, truth, calendar=CAL, bootstrap=0).rules[1]
    assert (strict.tp, strict.fp, strict.fn, strict.latency) == (0, 3, 3, None)


def test_evaluate_rejects_ambiguous_mapping() -> None:
    with pytest.raises(ValueError, match="same truth kind"):
        evaluate([], [], [], calendar=CAL, rule_to_truth={"a.x": "overdue", "b.y": "overdue"})
