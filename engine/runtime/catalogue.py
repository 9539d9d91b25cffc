"""Reference data the rules check records against: the item catalogue and staff authority.

Both arrive in the stream (``item.published``, ``staff.authorised``) because a real
approval platform owns them (the 事项库 and the authorisation table); keeping them as
state built from events makes a replay self-contained. A later publication replaces the
earlier one, as a catalogue revision would.
"""

from __future__ import annotations

from engine.contract.events import ItemPublished, StaffAuthorised

__all__ = ["Catalogue", "ItemInfo", "StaffInfo"]


class ItemInfo:
    """One approval item with its workflow indexed for the per-event checks."""

    __slots__ = (
        "department_id",
        "fee_standard",
        "item_id",
        "promised_days",
        "step_limit_days",
        "step_names",
        "step_pos",
    )

    def __init__(self, ev: ItemPublished) -> None:
        self.item_id = ev.item_id
        self.department_id = ev.department_id
        self.promised_days = ev.promised_days
        self.fee_standard = ev.fee_standard
        self.step_names: tuple[str, ...] = tuple(s.name for s in ev.steps)
        #: Position of each step in the fixed flow (流程固化): out-of-order checks compare these.
        self.step_pos: dict[str, int] = {s.name: i for i, s in enumerate(ev.steps)}
        self.step_limit_days: dict[str, float] = {s.name: s.limit_days for s in ev.steps}


class StaffInfo:
    """A staff member's posts and the items they may decide."""

    __slots__ = ("department_id", "may_decide", "posts", "staff_id")

    def __init__(self, ev: StaffAuthorised) -> None:
        self.staff_id = ev.staff_id
        self.department_id = ev.department_id
        self.posts = frozenset(ev.posts)
        self.may_decide = frozenset(ev.may_decide)


class Catalogue:
    """Items and staff seen so far in the stream."""

    __slots__ = ("items", "staff")

    def __init__(self) -> None:
        self.items: dict[str, ItemInfo] = {}
        self.staff: dict[str, StaffInfo] = {}

    def publish_item(self, ev: ItemPublished) -> None:
        self.items[ev.item_id] = ItemInfo(ev)

    def authorise_staff(self, ev: StaffAuthorised) -> None:
        self.staff[ev.staff_id] = StaffInfo(ev)

    def may_decide(self, staff_id: str, item_id: str) -> bool:
        """Whether ``staff_id`` holds decision authority for ``item_id``.

        Someone with no authorisation record has no authority: an approval system that
        lets an unregistered account decide is exactly what 越权审批 checks are for.
        """
        info = self.staff.get(staff_id)
        return info is not None and item_id in info.may_decide
