"""Content errors of an exchange: item codes of an older catalogue, status codes mapped wrongly.

Why they matter: a platform judges a case by its catalogue item (the promised limit, who may
decide) and by its status codes (approved or rejected). A department system still on the
previous catalogue version (目录版本不一致) sends item codes the platform does not know, so the
deadline rules cannot time the case and an authority check finds no authority; an exchange that
maps a status field wrongly (字段映射错误) turns an approval into a rejection, so a certificate
then looks issued without approval. Neither changes when a record arrives, only what it says.
"""

from __future__ import annotations

from typing import Any

import msgspec

from engine.contract.events import Event

__all__ = ["FLIPPED", "ITEM_KINDS", "STATUS_KINDS", "with_old_item", "with_wrong_status"]

#: Event kinds whose record names the catalogue item.
ITEM_KINDS = frozenset({"case.submitted", "case.accepted"})
#: Event kind -> (status field, the code each value is mapped to by a wrong mapping table).
FLIPPED: dict[str, tuple[str, dict[str, str]]] = {
    "case.decided": ("decision", {"approve": "reject", "reject": "approve"}),
    "case.closed": ("outcome", {"approved": "rejected", "rejected": "approved"}),
}
STATUS_KINDS = frozenset(FLIPPED)


def with_old_item(event: Event, suffix: str) -> Event:
    """``event`` naming its item by the older catalogue's code (``<item><suffix>``)."""
    x: Any = event
    return msgspec.structs.replace(event, item_id=f"{x.item_id}{suffix}")


def with_wrong_status(event: Event) -> Event | None:
    """``event`` with its status code mapped to the opposite one; None when it has no such code
    (a withdrawal has no opposite)."""
    field, table = FLIPPED[type(event).__struct_config__.tag]  # type: ignore[index]
    wrong = table.get(getattr(event, field))
    return None if wrong is None else msgspec.structs.replace(event, **{field: wrong})
