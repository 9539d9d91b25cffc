"""Calendar speed against a plain-Python baseline measured in the same run.

The baseline walks working periods one by one from an anchor (what a calendar without a
cumulative index has to do); the ratio baseline / indexed is recorded in ``extra_info``.
Each benchmark also checks that both give the same answers, so a fast wrong calendar
cannot look good here.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pytest

from engine.contract.calendar import SHANGHAI, WorkingCalendar

pytestmark = pytest.mark.bench

CAL = WorkingCalendar.china()
ANCHOR = datetime(2025, 1, 1, tzinfo=SHANGHAI)
N = 2000


def _periods(t: datetime) -> Iterator[tuple[datetime, datetime]]:
    d = t.astimezone(SHANGHAI).date()
    while True:
        if CAL.is_working_day(d):
            for a, b in CAL.periods:
                lo, hi = datetime.combine(d, a, tzinfo=SHANGHAI), datetime.combine(d, b, tzinfo=SHANGHAI)
                if hi > t:
                    yield lo, hi
        d += timedelta(days=1)


def baseline_to_index(t: datetime) -> float:
    """Working seconds from ANCHOR to ``t`` by walking every period in between."""
    total = 0.0
    for lo, hi in _periods(ANCHOR):
        if lo >= t:
            return total
        total += (min(hi, t) - lo).total_seconds()
    raise AssertionError("unreachable")


def baseline_deadline(t: datetime, s: float) -> datetime:
    for lo, hi in _periods(t):
        cur = max(lo, t)
        avail = (hi - cur).total_seconds()
        if s < avail:
            return cur + timedelta(seconds=s)
        s -= avail
    raise AssertionError("unreachable")


def _instants(n: int, seed: int) -> list[datetime]:
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 360, n)
    secs = rng.integers(0, 86400, n)
    base = datetime.combine(date(2025, 1, 1), time(), tzinfo=SHANGHAI)
    return [base + timedelta(days=int(d), seconds=int(s)) for d, s in zip(days, secs, strict=True)]


def _per_call(fn: Callable[[], object], n: int, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = clock.perf_counter()
        fn()
        best = min(best, clock.perf_counter() - t0)
    return best / n


def _report(benchmark: Any, batch: Callable[[], object], n: int, baseline_s: float) -> None:
    benchmark(batch)
    per = benchmark.stats.stats.mean / n if benchmark.stats else _per_call(batch, n)
    benchmark.extra_info.update(
        per_call_ns=round(per * 1e9, 1),
        baseline_per_call_ns=round(baseline_s * 1e9, 1),
        ratio_baseline_over_indexed=round(baseline_s / per, 1),
    )


def test_bench_to_index(benchmark: Any) -> None:
    ts = _instants(N, seed=1)
    sample: Sequence[datetime] = ts[:100]
    zero = CAL.to_index(ANCHOR)
    assert [CAL.to_index(t) - zero for t in sample] == [baseline_to_index(t) for t in sample]
    baseline = _per_call(lambda: [baseline_to_index(t) for t in sample], len(sample), repeat=1)
    to_index = CAL.to_index
    _report(benchmark, lambda: [to_index(t) for t in ts], N, baseline)


def test_bench_deadline(benchmark: Any) -> None:
    ts = _instants(N, seed=2)
    amounts = [float(k * CAL.day_seconds) for k in np.random.default_rng(3).integers(1, 21, N)]
    pairs = list(zip(ts, amounts, strict=True))
    sample = pairs[:200]
    assert [CAL.deadline(t, s) for t, s in sample] == [baseline_deadline(t, s) for t, s in sample]
    baseline = _per_call(lambda: [baseline_deadline(t, s) for t, s in sample], len(sample))
    deadline = CAL.deadline
    _report(benchmark, lambda: [deadline(t, s) for t, s in pairs], N, baseline)


def test_bench_to_index_many(benchmark: Any) -> None:
    """The batch path against the scalar one (the baseline here is ``to_index`` in a loop)."""
    ts = _instants(N, seed=4)
    epoch = np.array([t.timestamp() for t in ts])
    scalar = [CAL.to_index(t) for t in ts]
    np.testing.assert_array_equal(CAL.to_index_many(epoch), scalar)
    baseline = _per_call(lambda: [CAL.to_index(t) for t in ts], N)
    _report(benchmark, lambda: CAL.to_index_many(epoch), N, baseline)


def test_bench_to_index_with_fallback(benchmark: Any) -> None:
    """``beyond_range="weekdays"`` against the plain calendar (the baseline), same instants.

    The fallback only widens the day array and moves the covered-range check's bounds, so the
    ratio should stay near 1; the answers inside the covered years are the same differences.
    """
    fallback = WorkingCalendar.china(beyond_range="weekdays")
    ts = _instants(N, seed=5)
    zero, zero_fb = CAL.to_index(ANCHOR), fallback.to_index(ANCHOR)
    assert [fallback.to_index(t) - zero_fb for t in ts] == [CAL.to_index(t) - zero for t in ts]
    assert fallback.years_assumed == ()
    plain = CAL.to_index
    baseline = min(_per_call(lambda: [plain(t) for t in ts], N) for _ in range(3))
    to_index = fallback.to_index
    _report(benchmark, lambda: [to_index(t) for t in ts], N, baseline)
