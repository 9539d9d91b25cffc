"""The centre page itself: one self-contained HTML file and the headers that pin it.

Why one loader for both deployments: ``supsim serve`` and the cluster's ingest processes
serve the same page, so both must send the same bytes under the same Content-Security-Policy
(which admits exactly the page's own inline script and style, by hash).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from engine.service.edge.guards import page_headers

__all__ = ["centre_page"]


@cache
def centre_page() -> tuple[str, dict[str, str]]:
    """The page's HTML and its response headers (read once per process)."""
    html = resources.files("engine.service").joinpath("static/centre.html").read_text(encoding="utf-8")
    return html, page_headers(html)
