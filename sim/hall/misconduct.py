"""Which cases get an injected violation or a look-alike, and which ones can.

Each case draws once from one categorical distribution over "clean", the violation kinds
and the look-alike kinds, so a case carries at most one of them: every truth episode is
then clean and single-kind. A kind only applies to cases whose item can show it without
creating a second violation by accident (a decision before acceptance on an item with
steps would also skip its steps); for the others its probability mass goes to "clean".
The rates in the scenario are therefore per *eligible* case.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

import numpy as np
import numpy.typing as npt

from sim.common.hall_model import DeptModel, ItemModel
from sim.common.scenario import Scenario
from sim.common.scenario_types import Lookalikes, Misconduct

__all__ = ["LOOKALIKES", "LOOKALIKE_CONFUSES", "VIOLATIONS", "KindTable", "eligible"]

#: Injected violation kinds in schema order (``slow_walking`` shows up as deadline episodes).
VIOLATIONS: tuple[str, ...] = tuple(Misconduct.__struct_fields__)
#: Look-alike kinds in schema order.
LOOKALIKES: tuple[str, ...] = tuple(Lookalikes.__struct_fields__)

#: The violation kinds each look-alike resembles (and must not be flagged as).
LOOKALIKE_CONFUSES: dict[str, tuple[str, ...]] = {
    "legal_suspension": ("illegal_suspension",),
    "fee_on_fee_item": ("excess_fee",),
    "closed_just_before_deadline": ("overdue",),
    "authorised_reassignment": ("unauthorised_approval",),
    "stated_time_within_tolerance": ("backdated",),
}


def eligible(kind: str, item: ItemModel, dept: DeptModel) -> bool:
    """Whether a case of ``item`` can carry ``kind`` as its only irregularity."""
    promised = not item.instant
    steps = len(item.steps)
    match kind:
        case "slow_walking" | "skipped_step":
            return promised and steps >= 1
        case "steps_out_of_order":
            return promised and steps >= 2
        case "decision_before_acceptance":
            return item.instant
        case "certificate_without_approval":
            return item.issues_certificate
        case "unauthorised_approval":
            return promised and bool(dept.back_office)
        case "same_person_accept_approve":
            return promised and bool(dept.approvers)
        case "authorised_reassignment":
            return promised and bool(dept.leaders)
        case "illegal_suspension" | "legal_suspension" | "closed_just_before_deadline":
            return promised
        case "fee_on_fee_item":
            return item.fee_standard > 0
        case _:  # excess_fee, backdated, stated_time_within_tolerance
            return True


class KindTable:
    """Per-item cumulative tables for the one categorical draw per case."""

    def __init__(self, scenario: Scenario, items: list[ItemModel], depts: dict[str, DeptModel]) -> None:
        rates = {k: getattr(scenario.misconduct, k) for k in VIOLATIONS}
        rates.update({k: getattr(scenario.lookalikes, k) for k in LOOKALIKES})
        cache: dict[tuple[str, ...], tuple[tuple[str, ...], list[float]]] = {}
        self._tables: list[tuple[tuple[str, ...], list[float]]] = []
        table_ids: dict[tuple[str, ...], int] = {}
        for item in items:
            dept = depts[item.department_id]
            kinds = tuple(k for k, p in rates.items() if p > 0 and eligible(k, item, dept))
            if kinds not in cache:
                cache[kinds] = (kinds, list(accumulate(rates[k] for k in kinds)))
                table_ids[kinds] = len(table_ids)
            self._tables.append(cache[kinds])
        #: per item, which distinct table it uses (for :meth:`draw_many`)
        self._table_of = np.array([table_ids[kinds] for kinds, _ in self._tables], dtype=np.int64)
        self._distinct = list(cache.values())

    def draw(self, item_index: int, u: float) -> str | None:
        """The kind for a case of item ``item_index`` given a uniform ``u`` in [0, 1)."""
        kinds, cum = self._tables[item_index]
        k = bisect_right(cum, u)
        return kinds[k] if k < len(kinds) else None

    def draw_many(self, items: npt.ArrayLike, u: npt.ArrayLike) -> list[str | None]:
        """:meth:`draw` for every case at once (same results): one ``searchsorted`` per
        distinct table instead of one bisect per case, for year-long demand."""
        item_arr = np.asarray(items, dtype=np.int64)
        u_arr = np.asarray(u, dtype=np.float64)
        out = np.full(item_arr.size, None, dtype=object)
        if item_arr.size == 0:
            return []
        table = self._table_of[item_arr]
        for t, (kinds, cum) in enumerate(self._distinct):
            sel = np.flatnonzero(table == t)
            if sel.size == 0 or not kinds:
                continue
            k = np.searchsorted(np.array(cum, dtype=np.float64), u_arr[sel], side="right")
            names = np.array([*kinds, None], dtype=object)
            out[sel] = names[k]
        result: list[str | None] = out.tolist()
        return result
