"""Imports run one way: the layout's rooms are layered, and no module imports back up.

Every import in the tree counts, wherever it stands (top of a module, inside a function,
under ``TYPE_CHECKING``): a cycle hidden behind a local import is still a cycle. The graph
is built from the source with :mod:`ast`, so the check needs nothing installed.

The rooms, lowest first (a room may import only rooms to its left, and itself):

* engine: ``contract`` < ``runtime`` < ``rules`` < ``admission`` < ``release`` <
  ``core``/``scoring`` < ``replay`` < ``vectorised``/``service``
* sim: ``common`` < ``floor``, ``complaints``, ``inspections`` < ``hall`` < ``queueing``, ``network``;
  ``common`` < ``market``, ``quality``
* reports: ``evaluation`` < ``render``; supsim: ``experiments`` < ``cli``; ``loadtests``

and across the top level: ``sim`` sees only ``engine.contract``; ``engine`` sees nothing of
``sim``, ``reports``, ``supsim`` or ``loadtests``; ``reports`` never runs a world.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP = ("engine", "sim", "reports", "supsim", "loadtests")

#: Rooms and their layer: an import may go only to a strictly lower layer of the same top-level
#: package, or stay inside its own room. Across top-level packages, :data:`ALLOWED_ACROSS` rules.
LAYERS: dict[str, int] = {
    "engine.contract": 0,
    "engine.runtime": 1,
    "engine.rules": 2,
    "engine.admission": 3,
    "engine.release": 4,
    "engine.core": 5,
    "engine.scoring": 5,
    "engine.replay": 6,
    "engine.vectorised": 7,
    "engine.service": 7,
    "sim.common": 0,
    "sim.floor": 1,
    "sim.market": 1,
    "sim.quality": 1,
    "sim.complaints": 1,
    "sim.inspections": 1,
    "sim.hall": 2,
    "sim.queueing": 3,
    "sim.network": 3,
    "reports.evaluation": 0,
    "reports.render": 1,
    "supsim.experiments": 0,
    "supsim.cli": 1,
    "loadtests": 0,
}

#: Which top-level packages (or rooms) each top-level package may import at all.
ALLOWED_ACROSS: dict[str, tuple[str, ...]] = {
    "engine": (),
    "sim": ("engine.contract",),
    "loadtests": ("engine.contract",),
    "reports": ("engine", "sim"),
    "supsim": ("engine", "sim", "reports", "loadtests"),
}


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for top in TOP for p in sorted((ROOT / top).rglob("*.py"))}


def imported(tree: ast.AST, known: Iterable[str]) -> set[str]:
    """Project modules ``tree`` imports; ``from pkg import mod`` counts as importing ``pkg.mod``."""
    known = set(known)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                names.add(sub if sub in known else node.module)
    return {n for n in names if n in known}


def graph() -> dict[str, set[str]]:
    mods = project_modules()
    return {
        m: imported(ast.parse(p.read_text(encoding="utf-8"), filename=str(p)), mods) - {m}
        for m, p in mods.items()
    }


def room(module: str) -> str | None:
    best = None
    for r in LAYERS:
        if (module == r or module.startswith(r + ".")) and (best is None or len(r) > len(best)):
            best = r
    return best


def back_edges(g: dict[str, set[str]]) -> list[str]:
    bad: list[str] = []
    for src, targets in g.items():
        for dst in targets:
            top_s, top_d = src.split(".")[0], dst.split(".")[0]
            if top_s != top_d:
                if not any(dst == a or dst.startswith(a + ".") for a in ALLOWED_ACROSS[top_s]):
                    bad.append(f"{src} -> {dst}")
                continue
            rs, rd = room(src), room(dst)
            if rs is None or rd is None:  # a package's own entry points sit above its rooms
                if rd is not None and rs is None and src not in (top_s, f"{top_s}.__main__"):
                    bad.append(f"{src} -> {dst} (module outside every room)")
                continue
            if rs != rd and LAYERS[rd] >= LAYERS[rs]:
                bad.append(f"{src} -> {dst} ({rs} may not import {rd})")
    return sorted(bad)


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for start in sorted(g):
        if start in index:
            continue
        work = [(start, iter(sorted(g[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            node, it = work[-1]
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(g.get(nxt, ())))))
                    break
                if nxt in on:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_every_module_lives_in_a_room() -> None:
    homeless = [m for m in project_modules() if room(m) is None and m.removesuffix(".__main__") not in TOP]
    assert homeless == []


def test_no_import_goes_back_up_the_layers() -> None:
    assert back_edges(graph()) == []


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_the_checks_catch_what_they_are_for() -> None:
    g = {
        "engine.contract.events": {"engine.runtime.cases"},  # contract reaching up
        "engine.runtime.cases": {"engine.contract.events"},
        "sim.hall.world": {"engine.rules.base"},  # the simulator using a rule
        "engine.core": {"engine.service.app"},  # the core reaching the service
        "engine.service.app": set(),
        "engine.rules.base": set(),
        "reports.evaluation.run": {"supsim.experiments.run"},  # the judge running worlds
        "supsim.experiments.run": set(),
    }
    bad = back_edges(g)
    assert (
        "engine.contract.events -> engine.runtime.cases (engine.contract may not import engine.runtime)"
        in bad
    )
    assert "sim.hall.world -> engine.rules.base" in bad
    assert any(b.startswith("engine.core -> engine.service.app") for b in bad)
    assert "reports.evaluation.run -> supsim.experiments.run" in bad
    assert cycles(g) == [["engine.contract.events", "engine.runtime.cases"]]
    tree = ast.parse("def f():\n    from engine.contract import events\n")  # a local import counts
    assert imported(tree, {"engine.contract", "engine.contract.events"}) == {"engine.contract.events"}


def _loaded_after_importing(prefixes: tuple[str, ...], watch: str) -> list[str]:
    mods = [m for m in project_modules() if m.startswith(prefixes)]
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}:\n"
        "    importlib.import_module(m)\n"
        f"print('\\n'.join(sorted(m for m in sys.modules if {watch})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_reports_never_run_a_world() -> None:
    loaded = _loaded_after_importing(("reports",), "m == 'simpy' or m.startswith(('sim.hall', 'sim.floor'))")
    assert loaded == []


@pytest.mark.parametrize(
    ("prefixes", "watch"),
    [
        (
            (
                "engine.contract",
                "engine.runtime",
                "engine.rules",
                "engine.admission",
                "engine.release",
                "engine.core",
            ),
            "m.startswith('engine.service')",
        ),
        (("engine",), "m.split('.')[0] in ('sim', 'reports', 'supsim', 'loadtests')"),
        (
            ("sim",),
            "m.startswith(('engine.runtime', 'engine.rules', 'engine.admission', 'engine.release',"
            " 'engine.core', 'engine.service'))",
        ),
    ],
    ids=["core-without-service", "engine-alone", "sim-contract-only"],
)
def test_importing_a_layer_loads_nothing_above_it(prefixes: tuple[str, ...], watch: str) -> None:
    assert _loaded_after_importing(prefixes, watch) == []
