"""``discipline.camera_offline``: no event at all from a camera for ``offline_minutes``.

The family's module docstring (``__init__``) says why the rule looks the way it does.
"""

from __future__ import annotations

from datetime import datetime

from engine.contract.calendar import CalendarRangeError
from engine.rules.discipline.floor import (
    CameraState,
)
from engine.rules.discipline.presence.bases import (
    DisciplineRule,
    OfflineMinutes,
)
from engine.rules.registry import register

__all__ = ["CameraOfflineRule"]


@register
class CameraOfflineRule(DisciplineRule):
    name = "discipline.camera_offline"
    level = "warning"

    def __init__(self, *, offline_minutes: OfflineMinutes = 5.0) -> None:
        self.offline_minutes = offline_minutes

    def camera_seen(self, cam: CameraState, when: datetime) -> None:
        if not self.book.pending(self.name, cam.camera_id):
            self._arm(cam, cam.last_seen)

    def _arm(self, cam: CameraState, base: float) -> None:
        due = datetime.fromtimestamp(base + 60.0 * self.offline_minutes, self.book.tz)
        self.book.schedule(self.name, cam.camera_id, due)

    def timer_fired(self, key: str, when: datetime) -> None:
        cam = self.book.cameras[key]
        silent = when.timestamp() - cam.last_seen
        if silent < 60.0 * self.offline_minutes - 1e-3:
            self._arm(cam, cam.last_seen)
            return
        cal = self.ctx.calendar
        try:
            working = cal.is_working_time(when)
            nxt = None if working else cal.next_working_start(when)
        except CalendarRangeError:
            return
        if nxt is not None:
            self._arm(cam, nxt.timestamp())
            return
        last = datetime.fromtimestamp(cam.last_seen, self.book.tz)
        self.emit_for(
            f"camera:{key}",
            when,
            None,
            {"camera_id": key, "hall_id": cam.hall_id, "last_seen": last.isoformat()},
            f"{key}:{int(cam.last_seen)}",
            hall_id=cam.hall_id,  # before: None, so `?hall=` and the hall's board never showed it
        )
