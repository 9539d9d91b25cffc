"""Cross-field checks of the ``data_quality:`` section: references and overlaps.

A source system names halls and departments by id, so a typo would silently impair
nothing; and a department sent through two systems would have two clocks at once. Both are
reported with the JSON path of the field to fix, like every other scenario check.
"""

from __future__ import annotations

from sim.common.scenario_types import Hall
from sim.common.sections.quality import DataQuality

__all__ = ["check_data_quality"]

Problems = list[tuple[str, str]]


def check_data_quality(section: DataQuality, halls: list[Hall]) -> Problems:
    """Problems of ``section`` against the scenario's ``halls`` (empty when consistent)."""
    problems: Problems = []
    depts = {h.id: {d.id for d in h.departments} for h in halls}
    names: set[str] = set()
    owner: dict[tuple[str, str], str] = {}
    for i, system in enumerate(section.systems):
        at = f"$.data_quality.systems[{i}]"
        if system.name in names:
            problems.append((f"{at}.name", f"duplicate source-system name {system.name!r}"))
        names.add(system.name)
        if system.hall is not None and system.hall not in depts:
            problems.append((f"{at}.hall", f"unknown hall {system.hall!r}"))
            continue
        scope = [system.hall] if system.hall is not None else list(depts)
        for j, dept in enumerate(system.departments):
            found = [h for h in scope if dept in depts[h]]
            if not found:
                where = f"hall {system.hall!r}" if system.hall is not None else "any hall"
                problems.append((f"{at}.departments[{j}]", f"unknown department {dept!r} (not in {where})"))
            for hall in found:
                other = owner.setdefault((hall, dept), system.name)
                if other != system.name or system.departments.index(dept) != j:
                    problems.append(
                        (
                            f"{at}.departments[{j}]",
                            f"department {dept!r} of hall {hall!r} is already sent through system {other!r}",
                        )
                    )
    return problems
