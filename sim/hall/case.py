"""A case in flight and the staff pools it queues at.

Staff are pooled per department behind ``simpy.Resource`` s: the windows (capacity = the
number of windows) and each back-office post (capacity = its staff). SimPy does the
queueing; a deque beside each resource names the person who serves (the resource grants a
request only when someone is free, so the deque is never empty when popped).
"""

from __future__ import annotations

from collections import deque

import simpy

from sim.common.hall_model import DeptModel, ItemModel, StaffModel
from sim.common.scenario_types import Range
from sim.hall.recorder import CaseRef

__all__ = ["Case", "DeptDesks", "Desk", "lerp", "pick"]


def lerp(r: Range, u: float) -> float:
    """The point at fraction ``u`` of the range (``u`` uniform gives a uniform draw)."""
    return r.min + u * (r.max - r.min)


def pick(seq: list[StaffModel], u: float) -> StaffModel:
    """The member of ``seq`` at fraction ``u`` (``u`` uniform gives a uniform choice)."""
    return seq[min(int(u * len(seq)), len(seq) - 1)]


class Desk:
    """A pool of interchangeable staff: SimPy queues the cases, the deque names who serves."""

    __slots__ = ("free", "resource")

    def __init__(self, env: simpy.Environment, staff: list[StaffModel]) -> None:
        self.resource = simpy.Resource(env, capacity=len(staff))
        self.free: deque[StaffModel] = deque(staff)


class DeptDesks:
    """A department's window desk and one desk per back-office post."""

    __slots__ = ("dept", "posts", "windows")

    def __init__(self, env: simpy.Environment, dept: DeptModel) -> None:
        self.dept = dept
        self.windows = Desk(env, dept.window_staff)
        self.posts = {post: Desk(env, staff) for post, staff in dept.posts.items()}


class Case(CaseRef):
    """One application: who, what, and the draws that decide how it goes."""

    __slots__ = (
        "applicant",
        "clerk",
        "desks",
        "i",
        "item",
        "kind",
        "online",
        "prefix",
        "seq",
        "skipped",
        "stated_target",
    )

    def __init__(
        self,
        case_id: str,
        hall_id: str,
        item: ItemModel,
        desks: DeptDesks,
        i: int,
        online: bool,
        kind: str | None,
    ) -> None:
        super().__init__(case_id, hall_id, desks.dept.id, item.id)
        self.item = item
        self.desks = desks
        self.i = i
        self.online = online
        self.kind = kind
        self.applicant = ""
        self.clerk: StaffModel | None = None
        self.stated_target = ""
        self.seq = 0
        self.prefix = case_id + "."  # of the case's event ids (``sim.hall.case_events``)
        self.skipped = ""  # the catalogue step left out (``skipped_step``)
