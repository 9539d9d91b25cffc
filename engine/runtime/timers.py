"""Event-time timers: a bucketed timer queue with lazy cancellation.

Deadline rules need one timer per (rule, case[, step]) and a hall produces thousands of
cases a day, most of which close long before their timers are due. Two choices keep that
cheap:

* **Buckets.** A timer goes into the bucket of its due time (``width`` seconds, one hour
  by default); only the bucket *keys* sit in a heap. When the watermark enters a bucket,
  its entries move to a small "near" heap that is popped in exact ``(due, key)`` order.
  Most timers are cancelled while their bucket is still far away, so they never reach a
  heap: scheduling is an ``append``.
* **Lazy cancellation.** Every :meth:`TimerWheel.schedule` takes a fresh generation number
  and records it for its key; cancelling forgets the key. A popped entry fires only if its
  generation is still the current one for its key, so rescheduling a key (a legally
  suspended case resumes and its deadline moves) needs no search and removal. Dead entries
  are dropped when their bucket opens and whenever one reaches the top of the near heap,
  so that :attr:`TimerWheel.horizon` is the earliest *live* due time (or a bucket's lower
  bound): otherwise the runtime would wake the wheel for timers of long-closed cases.

The queue is unit-agnostic: ``due`` is any ordered float. The runtime uses *working-calendar
index* units (``WorkingCalendar.to_index``): a clock rule's threshold is an index, so arming
a timer needs no calendar lookup at all, and "the instant of index ``x`` is before ``t``"
is exactly ``x < to_index(t)`` (see :mod:`engine.release`). The instant is only computed
for the few timers that fire.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime, time, timedelta

from engine.contract.calendar import CalendarRangeError, WorkingCalendar

__all__ = ["CalendarTimers", "TimerCallback", "TimerKey", "TimerWheel"]

TimerKey = tuple[str, str, str]
"""``(rule name, case id, step or "")``: orderable, so ties on ``due`` fire deterministically."""

TimerCallback = Callable[[TimerKey, float], None]

_Entry = tuple[float, TimerKey, int]


class TimerWheel:
    """Timers keyed by :data:`TimerKey`; at most one live timer per key."""

    __slots__ = (
        "_bucket_heap",
        "_buckets",
        "_gen",
        "_near",
        "_open_until",
        "_seq",
        "_width",
        "fired",
        "horizon",
    )

    def __init__(self, *, width: float = 3600.0) -> None:
        """``width``: bucket size in the units of ``due`` (one working hour for the runtime)."""
        if width <= 0:
            raise ValueError("bucket width must be positive")
        self._width = width
        self._buckets: dict[int, list[_Entry]] = {}
        self._bucket_heap: list[int] = []
        self._near: list[_Entry] = []
        self._open_until = -math.inf
        self._gen: dict[Hashable, int] = {}
        self._seq = 0
        self.fired = 0
        #: A lower bound of the earliest pending due time (``inf`` when nothing is pending).
        #: The runtime compares event times with it before calling :meth:`fire_until`, so
        #: the common case (no timer due yet) costs one float comparison.
        self.horizon = math.inf

    def __len__(self) -> int:
        """Live (scheduled, not cancelled, not fired) timers."""
        return len(self._gen)

    def schedule(self, key: TimerKey, due: float, group: list[TimerKey] | None = None) -> None:
        """Arm ``key`` for ``due``; a previous timer of the same key is superseded.

        ``group``: a list the key is appended to, so that a set of timers (a case's) can be
        cancelled at once with :meth:`cancel_many`.
        """
        if group is not None:
            group.append(key)
        self._seq = gen = self._seq + 1
        self._gen[key] = gen
        entry = (due, key, gen)
        if due < self._open_until:
            heapq.heappush(self._near, entry)
        else:
            b = int(due // self._width)
            bucket = self._buckets.get(b)
            if bucket is None:
                self._buckets[b] = [entry]
                heapq.heappush(self._bucket_heap, b)
            else:
                bucket.append(entry)
        if due < self.horizon:
            self.horizon = due
            self._horizon_lowered()

    def _horizon_lowered(self) -> None:
        """Hook: a new timer is the earliest pending one (a subclass keeping a copy of
        :attr:`horizon` in other units converts it here, rarely: most timers are later)."""

    def cancel(self, key: TimerKey) -> None:
        """Forget ``key``; its pending entry is dropped when it is popped."""
        self._gen.pop(key, None)

    def cancel_many(self, keys: Iterable[TimerKey]) -> None:
        """Cancel every key (a closed case's timers) in one call."""
        pop = self._gen.pop
        for key in keys:
            pop(key, None)

    def is_armed(self, key: TimerKey) -> bool:
        return key in self._gen

    def fire_until(self, limit: float, callback: TimerCallback) -> int:
        """Fire every live timer with ``due < limit`` in ``(due, key)`` order.

        Callbacks may schedule new timers; those due before ``limit`` fire in the same
        call, in order. Returns how many fired.
        """
        near = self._near
        bucket_heap = self._bucket_heap
        width = self._width
        gen_of = self._gen
        fired = 0
        while True:
            while bucket_heap and bucket_heap[0] * width < limit:
                b = heapq.heappop(bucket_heap)
                for entry in self._buckets.pop(b):
                    if gen_of.get(entry[1]) == entry[2]:  # cancelled ones never reach the heap
                        heapq.heappush(near, entry)
                self._open_until = max(self._open_until, (b + 1) * width)
            if not near or near[0][0] >= limit:
                break
            due, key, gen = heapq.heappop(near)
            if gen_of.get(key) == gen:
                del gen_of[key]
                fired += 1
                callback(key, due)
        while near and gen_of.get(near[0][1]) != near[0][2]:  # a dead head would pin the horizon
            heapq.heappop(near)
        self.horizon = min(
            near[0][0] if near else math.inf,
            bucket_heap[0] * width if bucket_heap else math.inf,
        )
        self.fired += fired
        return fired


class CalendarTimers(TimerWheel):
    """Timers on the working calendar: armed by calendar index, fired by instants.

    A timer at index ``x`` stands for the *latest* instant with that index (the
    ``WorkingCalendar.deadline`` instant). The index never decreases with time, so that
    instant is before ``t`` exactly when ``x < to_index(t)``: arming needs no calendar
    lookup (it is the wheel's :meth:`~TimerWheel.schedule`, with ``due`` an index), and
    firing converts one instant per call plus one per timer that fires.
    """

    __slots__ = ("_cal", "_end", "on_range_error", "range_errors", "wake_at")

    def __init__(self, calendar: WorkingCalendar, *, width: float = 3600.0) -> None:
        super().__init__(width=width)
        self._cal = calendar
        #: :attr:`horizon` as a POSIX time, bounding every pending due instant from below
        #: (``inf`` when none): the runtime's per-event "may a timer be due?" test is one
        #: float comparison.
        self.wake_at = math.inf
        self.range_errors = 0
        #: Called with ``(key, instant, message)`` for a timer whose instant lies beyond the
        #: calendar once the watermark has passed the calendar's end: it can never be
        #: judged, and it must not vanish unreported.
        self.on_range_error: Callable[[TimerKey, datetime, str], None] | None = None
        try:
            self._end = datetime.combine(
                calendar.last + timedelta(days=1), time(0), tzinfo=calendar.tz
            ).timestamp()
        except (OverflowError, ValueError):
            self._end = math.inf

    def _horizon_lowered(self) -> None:
        self.wake_at = self._instant_of(self.horizon)

    def fire_before(self, t: datetime, callback: Callable[[TimerKey, datetime], None]) -> None:
        """Fire, in order, every timer whose instant is before ``t``; ``callback`` gets the instant."""
        cal = self._cal
        try:
            limit = cal.to_index(t)
        except CalendarRangeError:
            limit = math.inf if t.date() > cal.last else -math.inf

        def fire(key: TimerKey, index: float) -> None:
            try:
                when = cal.from_index(index, latest=True)
            except CalendarRangeError as exc:
                self.range_errors += 1
                if self.on_range_error is not None:
                    self.on_range_error(key, t, str(exc))
                return
            callback(key, when)

        self.fire_until(limit, fire)
        self.wake_at = self._instant_of(self.horizon)

    def _instant_of(self, index: float) -> float:
        if index == math.inf:
            return math.inf
        try:
            return self._cal.from_index(index, latest=True).timestamp()
        except CalendarRangeError:
            # Beyond the calendar: wake once the watermark leaves the covered range, so the
            # timer is reported (``on_range_error``) instead of waiting for ever.
            return self._end if index > 0 else -math.inf
