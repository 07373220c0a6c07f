"""The Neo4j Browser surface: a guide that walks a job's tree, and the favorites.

See :mod:`epmt_graph.browser.guide` (the guide page, built from the named queries),
:mod:`epmt_graph.browser.serve` (the loopback server the Browser fetches it from),
:mod:`epmt_graph.browser.style` (the style that captions every node) and
:mod:`epmt_graph.browser.favorites` (the named queries as Browser favorites).
"""

from epmt_graph.browser.favorites import favorite_names, favorite_text, write_favorites
from epmt_graph.browser.guide import GuideSpec, guide_html
from epmt_graph.browser.serve import DEFAULT_GUIDE_PORT, GuideServer
from epmt_graph.browser.style import grass

__all__ = [
    "DEFAULT_GUIDE_PORT",
    "GuideServer",
    "GuideSpec",
    "favorite_names",
    "favorite_text",
    "grass",
    "guide_html",
    "write_favorites",
]
