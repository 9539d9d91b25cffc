"""Provenance of a report: everything a reader needs to reproduce the runs it shows.

A figure in a supervision bureau's report is only worth citing if someone else can make it
again. So each report carries the supsim version, the git commit of the checkout (when there
is one), the scenario and rulebook digests, the seeds, the digests of the three data files,
and the Python and package versions. Nothing here depends on the wall clock, so the same runs
give the same provenance block (and the same report bytes).
"""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import msgspec

__all__ = ["PACKAGES", "Provenance", "RunProvenance", "git_commit", "package_versions", "provenance"]

#: Packages whose versions can change a run's numbers or a report's figures.
PACKAGES = ("supsim", "numpy", "scipy", "simpy", "msgspec", "faker", "matplotlib", "pyyaml")


class RunProvenance(msgspec.Struct, frozen=True, kw_only=True):
    run: str
    supsim_version: str | None
    scenario: str | None
    scenario_file: str | None
    scenario_sha256: str | None
    rulebook_sha256: str | None
    seed: int | None
    start: str | None
    end: str | None
    events_sha256: str | None
    truth_sha256: str | None
    alerts_sha256: str | None


class Provenance(msgspec.Struct, frozen=True, kw_only=True):
    git_commit: str | None
    git_dirty: bool | None
    python: str
    packages: dict[str, str]
    runs: tuple[RunProvenance, ...]


def git_commit(where: Path) -> tuple[str | None, bool | None]:
    """``(commit, dirty)`` of the checkout holding ``where``; ``(None, None)`` outside one.

    Read-only git queries; a report built from a release tarball simply has no commit.
    """
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return head or None, bool(status.strip())


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _run_provenance(name: str, metrics: dict[str, Any]) -> RunProvenance:
    def s(key: str) -> str | None:
        v = metrics.get(key)
        return None if v is None else str(v)

    seed = metrics.get("seed")
    return RunProvenance(
        run=name,
        supsim_version=s("supsim_version"),
        scenario=s("scenario"),
        scenario_file=s("scenario_file"),
        scenario_sha256=s("scenario_sha256"),
        rulebook_sha256=s("rulebook_sha256"),
        seed=int(seed) if isinstance(seed, int) else None,
        start=s("start"),
        end=s("end"),
        events_sha256=s("events_sha256"),
        truth_sha256=s("truth_sha256"),
        alerts_sha256=s("alerts_sha256"),
    )


def provenance(runs: list[tuple[str, dict[str, Any]]], *, source_dir: Path | None = None) -> Provenance:
    """Provenance of the runs ``(name, metrics.json content)``, with the checkout of ``source_dir``."""
    where = source_dir if source_dir is not None else Path(__file__).resolve().parent
    commit, dirty = git_commit(where)
    return Provenance(
        git_commit=commit,
        git_dirty=dirty,
        python=f"{platform.python_implementation()} {platform.python_version()}",
        packages=package_versions(),
        runs=tuple(_run_provenance(name, m) for name, m in runs),
    )
