"""What the command line does after starting a new local server: warm it up for a fast first
load (:func:`epmt_graph.loader.warmup.warm_up`), then have its heap collected
(:meth:`~epmt_graph.server.LocalServer.collect_garbage`) so that the first load does not pay
for the warm-up's garbage; for ``epmt-graph server start`` and ``epmt-graph demo`` alike. A
failed warm-up costs only that: it is reported, the start stands.
"""

from __future__ import annotations

import sys

from epmt_graph.db import Graph
from epmt_graph.errors import EpmtGraphError
from epmt_graph.loader.warmup import warm_up
from epmt_graph.server import LocalServer

__all__ = ["warm_up_started"]


def warm_up_started(server: LocalServer) -> bool:
    """Warm up the server just started, saying how long it took (or why it failed, on
    stderr).

    Returns
    -------
    bool
        Whether the warm-up ran to its end.

    Examples
    --------
    >>> import tempfile
    >>> warm_up_started(LocalServer(tempfile.mkdtemp()))  # never started: a warning
    False
    """
    try:
        with Graph(server.connection()) as graph:
            seconds = warm_up(graph)
        server.collect_garbage()
    except EpmtGraphError as exc:
        print(
            f"epmt-graph: warning: the warm-up failed, the first load will be slower: {exc}",
            file=sys.stderr,
        )
        return False
    print(f"  ready:   warmed up in {seconds:.1f} s (a synthetic job loaded and deleted)")
    return True
