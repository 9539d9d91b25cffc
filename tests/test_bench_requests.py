"""The performance suite's HTTP clients send what the service accepts, checked without running them.

A bench that posts batches the service refuses fails only after minutes of setup (a cluster of
NATS servers, workers), so the headers are checked here against the service's own list.
"""

from __future__ import annotations

from engine.service.edge.guards import EVENT_TYPES
from tests.bench import test_bench_cluster


def test_the_cluster_bench_says_its_batches_are_json() -> None:
    media = test_bench_cluster.HEADERS.get("Content-Type", "").split(";", 1)[0].strip().lower()
    assert media in EVENT_TYPES
    assert test_bench_cluster.HEADERS["Authorization"] == f"Bearer {test_bench_cluster.TOKEN}"
