"""The tree of units above the halls, read off the hall ids (and named by a network file).

Why the ids: a network scenario builds a hall id as its unit path, ``{parent}_{code}{index}``
(``GD_C07_K03_T12``: a township of county 3 of city 7 of the province ``GD``), so the tree is
in every event's ``hall_id`` and a service needs no registry to aggregate by unit. A hall
whose id has no such tail (``H1``) sits directly under the network root (``""``).

Why a network file may still be given (``supsim serve --network FILE.yaml``): the ids carry
no names or level labels, and a hall that has never sent anything is in no id the service
has seen; with the file the centre names units, labels levels, and reports a hall that was
never heard from as silent. The file's tree must be the one its ids encode (the layout
builds them so); :class:`UnitTree` refuses a directory where it is not, naming the unit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["ROOT", "UnitInfo", "UnitTree", "inferred_parent"]

#: The network root: every top-level unit's parent.
ROOT = ""
_TAIL = re.compile(r"([A-Za-z]{1,8})\d{1,6}")


def inferred_parent(unit: str) -> str:
    """The parent the id encodes: ``GD_C07`` → ``GD``; an id without a ``_{code}{index}`` tail → root."""
    head, sep, last = unit.rpartition("_")
    return head if sep and head and _TAIL.fullmatch(last) else ROOT


@dataclass(frozen=True, slots=True)
class UnitInfo:
    """What a network file says about a unit: its name, its level, and whether it has a hall."""

    name: str
    level: str
    parent: str = ROOT
    hall: bool = True


class UnitTree:
    """Ancestors, names and levels of units; ``units`` from a network file, else nothing but ids."""

    def __init__(self, units: Mapping[str, UnitInfo] | None = None, *, name: str = "network") -> None:
        self.units = dict(units or {})
        self.name = name
        for unit, info in self.units.items():
            if info.parent != inferred_parent(unit):
                raise ValueError(
                    f"network unit {unit!r}: its parent is {info.parent!r} but its id encodes "
                    f"{inferred_parent(unit)!r}; the centre aggregates by the ids"
                )
        self._chains: dict[str, tuple[str, ...]] = {ROOT: (ROOT,)}

    def ancestors(self, unit: str) -> tuple[str, ...]:
        """The root, every unit above ``unit``, and ``unit`` itself, top down (cached)."""
        chain = self._chains.get(unit)
        if chain is None:
            chain = self._chains[unit] = (*self.ancestors(inferred_parent(unit)), unit)
        return chain

    def path(self, unit: str) -> tuple[str, ...]:
        """As :meth:`ancestors`, without caching (for a unit a client named, maybe no unit at all)."""
        chain = self._chains.get(unit)
        if chain is not None:
            return chain
        up = [unit]
        while up[-1] != ROOT:
            up.append(inferred_parent(up[-1]))
        return tuple(reversed(up))

    def halls(self) -> Iterable[str]:
        """The halls the network file lists (none without one)."""
        return (u for u, info in self.units.items() if info.hall)

    def label(self, unit: str) -> tuple[str, str]:
        """(name, level) of a unit: from the network file, else the id and its level code."""
        if unit == ROOT:
            return self.name, "network"
        info = self.units.get(unit)
        if info is not None:
            return info.name, info.level
        tail = _TAIL.fullmatch(unit.rpartition("_")[2])
        return unit, tail.group(1) if tail and inferred_parent(unit) != ROOT else "top"
