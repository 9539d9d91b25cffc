"""The service's OpenAPI document names every route the app serves, and no other, node or not."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.routing import Route

from engine.service.app import create_app
from engine.service.auth import TokenSpec
from engine.service.config import ServiceConfig
from engine.service.node.layout import NodeLayout
from engine.service.openapi import openapi_document

_TOKEN = TokenSpec(token="openapi-admin-token-0", role="admin")


def _served(node: NodeLayout | None, tmp_path: Path) -> set[tuple[str, str]]:
    app = create_app(ServiceConfig(db=str(tmp_path / "log.db"), tokens=[_TOKEN]), node=node)
    routes = [r for r in app.routes if isinstance(r, Route)]
    return {(r.path, m.lower()) for r in routes for m in r.methods or () if m != "HEAD"}


@pytest.mark.parametrize("in_node", [False, True])
def test_every_served_route_is_documented(in_node: bool, tmp_path: Path) -> None:
    layout = NodeLayout(processes=2, index=0, host="127.0.0.1", port=8000, peer_base=8001)
    node = layout if in_node else None
    doc = openapi_document(node=node is not None)
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert _served(node, tmp_path) == documented
    events_errors = doc["paths"]["/v1/events"]["post"]["responses"]
    assert ("421" in events_errors) == (node is not None)  # only a node sends a hall to its owner
