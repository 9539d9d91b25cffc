"""The engine must not see the simulator or its labels: that keeps accuracy figures honest.

Checked statically over every module in ``engine/`` (imports, identifiers, string
literals; prose in comments and docstrings may *talk* about the other side) and
dynamically (importing the engine loads none of the forbidden packages).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "engine"
FORBIDDEN = ("sim", "reports", "supsim", "loadtests")
MODULES = sorted(ENGINE.rglob("*.py"))


def _imports(tree: ast.AST, module: str) -> list[str]:
    names: list[str] = []
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names.append(".".join([*base, node.module] if node.module else base))
            else:
                names.append(node.module or "")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in {
            "import_module",
            "__import__",
        }:
            names += [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return names


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _truth_references(tree: ast.AST) -> list[str]:
    docs = _docstrings(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        words: list[str] = []
        if isinstance(node, ast.Name):
            words.append(node.id)
        elif isinstance(node, ast.Attribute):
            words.append(node.attr)
        elif isinstance(node, ast.alias):
            words += [node.name, node.asname or ""]
        elif isinstance(node, ast.arg):
            words.append(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            words.append(node.name)
        elif isinstance(node, ast.ImportFrom):
            words.append(node.module or "")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            words.append(node.value)
        found += [
            w for w in words if "truth" in w.lower() or w in {"Episode", "VIOLATION_KINDS", "LOOKALIKE_KINDS"}
        ]
    return found


def test_the_engine_package_has_modules() -> None:
    names = {p.relative_to(ENGINE).as_posix() for p in MODULES}
    assert {"core.py", "rules/rulebook.py", "scoring.py", "rules/__init__.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_engine_module_imports_the_simulator_or_reports(path: Path) -> None:
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    bad = [n for n in _imports(tree, module) if n.split(".")[0] in FORBIDDEN]
    assert bad == [], f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_engine_module_refers_to_ground_truth(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    assert _truth_references(tree) == []


def test_the_checks_catch_what_they_are_for() -> None:
    src = "from sim.common.truth import Episode\nimport reports.match\nx = 'read_truth'\n"
    tree = ast.parse(src)
    assert [n.split(".")[0] for n in _imports(tree, "engine.x")] == ["sim", "reports"]
    assert "read_truth" in _truth_references(tree) and "Episode" in _truth_references(tree)


def test_importing_the_engine_loads_no_forbidden_package() -> None:
    modules = [".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__") for p in MODULES]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    try:\n"
        "        importlib.import_module(m)\n"
        "    except ImportError as exc:\n"  # an optional dependency of a module under construction
        "        print('skip', m, exc, file=sys.stderr)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
