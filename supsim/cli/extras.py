"""Optional extras: which command needs which, and the one-line message when one is missing.

Why extras at all: the service (Starlette, uvicorn), the load generator (Locust, gevent), the
classifier behind ``screens --evaluate`` (scikit-learn), the Dask client and the NATS cluster are large and
only five commands use them. A core install (``pip install supsim``) therefore leaves them
out, and every import of them sits inside the command or module that needs it, so ``run``,
``detect``, ``validate``, ``schema`` and ``report`` never load them.

When a command reaches an import that is not installed, the command line turns the
``ModuleNotFoundError`` into one line naming the extra (exit status 2, no traceback) through
:func:`missing_extra`. :func:`require` checks a module up front without importing it, for
commands that would otherwise find out late (``loadtest`` simulates first and starts Locust
in a subprocess).
"""

from __future__ import annotations

import importlib.util
from types import MappingProxyType

__all__ = ["EXTRA_OF", "install_hint", "missing_extra", "require"]

#: Top-level module → the extra that installs it.
EXTRA_OF = MappingProxyType(
    {
        "starlette": "live",
        "uvicorn": "live",
        "locust": "load",
        "gevent": "load",
        "httpx": "load",
        "sklearn": "screens",
        "dask": "dask",
        "distributed": "dask",
        "nats": "cluster",
        "cloudpickle": "cluster",
    }
)


def install_hint(extra: str) -> str:
    """The pip command that installs ``extra``."""
    return f"pip install 'supsim[{extra}]'"


def missing_extra(exc: ModuleNotFoundError) -> str | None:
    """The extra whose absence raised ``exc``, or ``None`` when it is not an optional module."""
    if not exc.name:
        return None
    return EXTRA_OF.get(exc.name.partition(".")[0])


def require(*modules: str) -> None:
    """Raise ``ModuleNotFoundError`` for the first of ``modules`` that is not installed.

    ``find_spec`` looks the module up without running it: importing Locust would patch the
    standard library with gevent in this process.
    """
    for name in modules:
        if importlib.util.find_spec(name) is None:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
