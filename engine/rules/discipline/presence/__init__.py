"""Hall discipline rules on camera streams: leaving the post, dead cameras, empty windows.

Why these rules look the way they do (docs/cameras.md has the measurements):

* ``discipline.absence`` (离岗/脱岗): the debounced seat has been empty for
  ``absence_minutes`` of *service time* while the staff member is clocked in. The absence
  starts at the first raw "absent" verdict of the run (see :mod:`engine.rules.discipline.floor`);
  scheduled rests from the roster and declared breaks (暂离) push the start to their end,
  so only the overstay counts. No alert while the window's camera is unhealthy: a silent
  camera proves nothing, and the equipment rule speaks instead.
* ``discipline.camera_offline``: no event at all (heartbeats included) from a camera for
  ``offline_minutes`` during working time. Outside working time the check waits for the
  next working period, since halls switch analytics off at night.
* ``discipline.empty_window`` (空岗): the seat is (debounced) empty while the department's
  queue camera counts at least ``queue_threshold`` people, continuously for
  ``empty_minutes``. The queue side is smoothed (running median of the last
  ``queue_window`` counts) and has hysteresis: on at the threshold, off only when the
  smoothed count falls ``queue_hysteresis`` below it and stays there for
  ``queue_off_seconds`` (a queue standing at the threshold reads one below it now and then
  through count noise, which used to restart the ``empty_minutes``).

The family (:class:`engine.rules.discipline.floor.DisciplineBook`) is attached to the engine by the
first discipline rule bound to it, so the runtime needs no knowledge of it.

One module per rule; the imports below are the rules' registration order, which is their run order."""

from __future__ import annotations

# isort: off
from engine.rules.discipline.presence.staff_presence import PresenceRule
from engine.rules.discipline.presence.absence import AbsenceRule
from engine.rules.discipline.presence.camera_offline import CameraOfflineRule
from engine.rules.discipline.presence.empty_window import EmptyWindowRule

# isort: on
from engine.rules.discipline.presence.bases import DisciplineRule, hook_names

__all__ = [
    "AbsenceRule",
    "CameraOfflineRule",
    "DisciplineRule",
    "EmptyWindowRule",
    "PresenceRule",
    "hook_names",
]
