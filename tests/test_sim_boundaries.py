"""The simulator may use the contract (events, calendar, JSON Lines I/O) and nothing of the engine's rules."""

from __future__ import annotations

import ast
from pathlib import Path

SIM = Path(__file__).resolve().parents[1] / "sim"
CONTRACT = {"engine.events", "engine.calendar", "engine.jsonl"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            # ``from engine import events`` imports the module engine.events
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_sim_imports_only_the_engine_contract() -> None:
    offending = {
        f"{path.name}: {name}"
        for path in sorted(SIM.glob("*.py"))
        for name in _imports(path)
        if name.startswith("engine.") and not any(name == c or name.startswith(c + ".") for c in CONTRACT)
    }
    assert not offending, offending
    assert any("engine.events" in _imports(p) for p in SIM.glob("*.py"))  # the check sees real imports


def test_sim_never_imports_reports_or_the_command_line() -> None:
    for path in SIM.glob("*.py"):
        for name in _imports(path):
            assert name.split(".")[0] not in {"reports", "supsim", "loadtests"}, (path.name, name)
