"""The ``supsim`` command line: one module per command, wired up in :mod:`supsim.cli.main`."""

from __future__ import annotations

from supsim.cli.main import main

__all__ = ["main"]
