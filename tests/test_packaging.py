"""What pyproject.toml tells setuptools to install matches the folders that exist.

setuptools builds a wheel without complaint when a ``package-data`` entry names a package that
is not there or a glob that matches nothing: the wheel just lacks the files, and the service's
page (``engine/service/static``) or the holiday tables (``engine/contract/data``) go missing
only once installed without ``-e``. So every declared package pattern, package-data package
and glob must match something, and every data file inside a package must be declared.
"""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _packages(root: Path, include: list[str], exclude: list[str]) -> dict[str, Path]:
    """Dotted name -> folder, as ``packages.find`` (namespace packages, the default) sees them."""
    found: dict[str, Path] = {}

    def walk(folder: Path, prefix: str) -> None:
        for d in sorted(p for p in folder.iterdir() if p.is_dir()):
            if "." in d.name or d.name == "__pycache__":  # not importable: setuptools skips the tree
                continue
            name = f"{prefix}{d.name}"
            if any(fnmatch(name, p) for p in include) and not any(fnmatch(name, p) for p in exclude):
                found[name] = d
            walk(d, f"{name}.")

    walk(root, "")
    return found


def packaging_problems(root: Path) -> list[str]:
    """Everything in ``root/pyproject.toml``'s package configuration that matches nothing."""
    tool = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    find = tool.get("packages", {}).get("find", {})
    include, exclude = find.get("include", ["*"]), find.get("exclude", [])
    packages = _packages(root, include, exclude)
    problems = [
        f"pyproject.toml [tool.setuptools.packages.find] include: {pattern!r} matches no package folder"
        for pattern in include
        if not any(fnmatch(name, pattern) for name in packages)
    ]
    declared: set[Path] = set()
    for package, globs in tool.get("package-data", {}).items():
        where = f"pyproject.toml [tool.setuptools.package-data] {package!r}"
        if package not in packages:
            folder = root.joinpath(*package.split("."))
            why = "no such folder" if not folder.is_dir() else "not a package that packages.find includes"
            problems.append(f"{where}: {why} ({folder.relative_to(root)})")
            continue
        for pattern in globs:
            files = {p for p in packages[package].glob(pattern) if p.is_file()}
            if not files:
                problems.append(f"{where}: {pattern!r} matches no file")
            declared |= files
    for folder in {
        d for d in packages.values() if not any(d != o and o in d.parents for o in packages.values())
    }:
        for f in sorted(folder.rglob("*")):
            if (
                f.is_file()
                and f.suffix not in (".py", ".pyc")
                and "__pycache__" not in f.parts
                and f not in declared
            ):
                problems.append(
                    f"{f.relative_to(root)}: a data file inside a package but not in package-data"
                )
    return problems


def test_the_package_configuration_matches_the_tree() -> None:
    assert packaging_problems(ROOT) == []


def test_the_service_page_and_holiday_tables_are_declared() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"
    ]
    declared = {f"{pkg.replace('.', '/')}/{g}" for pkg, globs in data.items() for g in globs}
    assert {"engine/service/static/*", "engine/contract/data/holidays/*.yaml"} <= declared


def _tree(tmp_path: Path, package_data: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.setuptools.packages.find]\ninclude = ["engine*", "gone*"]\n\n'
        f"[tool.setuptools.package-data]\n{package_data}\n"
    )
    (tmp_path / "engine" / "service" / "static").mkdir(parents=True)
    (tmp_path / "engine" / "__init__.py").write_text("")
    (tmp_path / "engine" / "service" / "__init__.py").write_text("")
    (tmp_path / "engine" / "service" / "static" / "centre.html").write_text("<html></html>")
    (tmp_path / "engine" / "service" / "openapi.yaml").write_text("{}")
    return tmp_path


def test_a_tree_that_matches_its_configuration_has_no_problems(tmp_path: Path) -> None:
    root = _tree(tmp_path, '"engine.service" = ["static/*", "*.yaml"]')
    (root / "gone").mkdir()
    assert packaging_problems(root) == []


def test_absent_packages_globs_and_undeclared_files_are_named(tmp_path: Path) -> None:
    root = _tree(
        tmp_path, '"engine.static" = ["*"]\n"engine.service" = ["static/*.css"]\n"engine.nope" = ["*"]'
    )
    (root / "engine" / "nope.txt").write_text("")  # a file where a package folder was expected
    problems = packaging_problems(root)
    assert problems == [
        "pyproject.toml [tool.setuptools.packages.find] include: 'gone*' matches no package folder",
        "pyproject.toml [tool.setuptools.package-data] 'engine.static': no such folder (engine/static)",
        "pyproject.toml [tool.setuptools.package-data] 'engine.service': 'static/*.css' matches no file",
        "pyproject.toml [tool.setuptools.package-data] 'engine.nope': no such folder (engine/nope)",
        "engine/nope.txt: a data file inside a package but not in package-data",
        "engine/service/openapi.yaml: a data file inside a package but not in package-data",
        "engine/service/static/centre.html: a data file inside a package but not in package-data",
    ]
