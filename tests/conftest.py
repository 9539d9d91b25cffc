"""Test-suite configuration: benchmarks run only with ``--bench`` (``make bench``)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--bench", action="store_true", help="run the performance suite in tests/bench")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # The default run disables pytest-benchmark (pyproject addopts); ``--bench`` means
    # "measure", so it turns timing back on without a second flag.
    if config.getoption("--bench"):
        config.option.benchmark_disable = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--bench"):
        return
    skip = pytest.mark.skip(reason="performance suite: run with `make bench`")
    for item in items:
        if "bench" in item.keywords or "bench" in item.path.parent.parts:
            item.add_marker(skip)
