"""The network's units and halls: the tree a network scenario describes, and each hall's seed.

Why seeds keyed by the hall's path: a network runs in partitions on any number of workers,
possibly only on a sample of its halls. If a hall's seed came from a running generator, it
would depend on which halls came before it; here it comes from the network seed and a
stable hash of the hall id (``numpy.random.SeedSequence`` with that hash as its spawn key),
so a hall simulates the same whatever the partitioning, the worker count, the sample or
the order the halls are run in. Hall ids are unit paths (``GD_C07_K03_T12``), unique in
the network by construction.

The tree itself (how many counties each city has, how many townships each county) is drawn
once, in level order, from a generator keyed the same way, in the process that plans the
run; it is small (one record per hall) and the only part of the network held whole.
"""

from __future__ import annotations

import hashlib

import msgspec
import numpy as np

from sim.network.scenario_types import LevelSpec, NetworkScenario

__all__ = [
    "MAX_HALL_ID",
    "HallSpec",
    "hall_rng",
    "hall_seed",
    "layout_halls",
    "longest_hall_id",
    "sample_halls",
    "stable_hash",
]

#: The hall scenario's limit on a hall id (and so on a unit path).
MAX_HALL_ID = 40


class HallSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One hall of the network: where it sits, what it is made from, its seed.

    ``city`` is the id of the hall's unit on the second level (the prefecture city of a
    province) — the hall itself for a city hall — and ``None`` for the root's hall.
    """

    hall_id: str
    unit: str
    name: str
    level: str
    depth: int
    parent: str | None
    city: str | None
    template: str
    seed: int


def stable_hash(text: str) -> int:
    """A 64-bit hash of ``text`` that is the same on every machine and Python run."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def _sequence(seed: int, key: str) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(stable_hash(key),))


def hall_seed(seed: int, hall_id: str) -> int:
    """The simulation seed of hall ``hall_id`` in a network with seed ``seed``."""
    state = _sequence(seed, f"hall:{hall_id}").generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))  # a scenario seed is below 2**63


def hall_rng(seed: int, hall_id: str) -> np.random.Generator:
    """The generator the hall's shape (departments, windows, load, cameras) is drawn from.

    Separate from the simulation seed, so drawing one more number for the shape never
    changes a hall's traffic.
    """
    return np.random.default_rng(_sequence(seed, f"shape:{hall_id}"))


def _spread(total: int, parents: int, rng: np.random.Generator) -> list[int]:
    """``total`` children over ``parents`` units: one each, the rest drawn uniformly."""
    extra = rng.multinomial(total - parents, np.full(parents, 1.0 / parents))
    return [1 + int(x) for x in extra]


def layout_halls(net: NetworkScenario) -> list[HallSpec]:
    """Every hall of the network, in network order (depth first: a unit, then its children).

    Assumes a checked scenario (:func:`sim.network.scenario.check_network`): the first
    level has one unit and no level has fewer units than the one above it.
    """
    levels = net.network.levels
    rng = np.random.default_rng(_sequence(net.seed, "layout"))
    # per level: (unit id, unit name, parent id, city id) in network order within the level
    rows: list[list[tuple[str, str, str | None, str | None]]] = [
        [(net.network.id, net.network.name, None, None)]
    ]
    for depth in range(1, len(levels)):
        level, above = levels[depth], rows[depth - 1]
        counts = _spread(level.count, len(above), rng)
        width = max(2, len(str(max(counts))))
        row: list[tuple[str, str, str | None, str | None]] = []
        for (parent_id, _, _, parent_city), n in zip(above, counts, strict=True):
            for j in range(1, n + 1):
                unit_id = f"{parent_id}_{level.code}{j:0{width}d}"
                city = unit_id if depth == 1 else parent_city
                row.append((unit_id, _unit_name(level, len(row)), parent_id, city))
        rows.append(row)
    by_parent: dict[str | None, list[tuple[int, tuple[str, str, str | None, str | None]]]] = {}
    for depth, row in enumerate(rows):
        for unit in row:
            by_parent.setdefault(unit[2], []).append((depth, unit))
    out: list[HallSpec] = []
    stack = list(reversed(by_parent[None]))
    while stack:
        depth, (unit_id, unit_name, parent, city) = stack.pop()
        level = levels[depth]
        template = net.templates[level.template]
        out.append(
            HallSpec(
                hall_id=unit_id,
                unit=unit_name,
                name=template.name.format(unit=unit_name),
                level=level.level,
                depth=depth,
                parent=parent,
                city=city,
                template=level.template,
                seed=hall_seed(net.seed, unit_id),
            )
        )
        stack.extend(reversed(by_parent.get(unit_id, [])))
    return out


def _unit_name(level: LevelSpec, index: int) -> str:
    return level.names[index] if index < len(level.names) else f"{level.label}{index + 1}"


def sample_halls(halls: list[HallSpec], n: int, seed: int) -> list[HallSpec]:
    """A uniform sample of ``n`` halls keyed by the seed, kept in network order.

    Each hall keeps its own seed, so a hall in the sample simulates exactly as in the whole
    network: a sample is a true subset, and the level mix is the network's in expectation.
    """
    if n >= len(halls):
        return list(halls)
    chosen = set(sorted(range(len(halls)), key=lambda i: stable_hash(f"{seed}:{halls[i].hall_id}"))[:n])
    return [h for i, h in enumerate(halls) if i in chosen]


def longest_hall_id(net: NetworkScenario) -> int:
    """The longest hall id the network can have (every unit numbered with its level's widest)."""
    length = len(net.network.id)
    for level in net.network.levels[1:]:
        length += 1 + len(level.code) + max(2, len(str(level.count)))
    return length
