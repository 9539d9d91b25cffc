"""supsim: simulate electronic-supervision worlds, detect violations, measure accuracy.

The version has one source, the installed package's metadata (``pyproject.toml``), so the
number printed by ``supsim --version`` and the one written into every run's ``metrics.json``
cannot drift apart. A source tree that was never installed has no metadata; it reports
``0+unknown`` rather than a number it cannot vouch for.
"""

from __future__ import annotations

from importlib import metadata

__all__ = ["__version__"]

try:
    __version__ = metadata.version("supsim")
except metadata.PackageNotFoundError:  # pragma: no cover - only in a never-installed checkout
    __version__ = "0+unknown"
