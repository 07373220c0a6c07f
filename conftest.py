"""Root of the test session (the tests and the doctests of ``epmt_graph``; not shipped).

* Registers two plugins from ``tests/``: ``graph_fixtures`` (the session's Neo4j server and
  the loaded sample jobs, shared by the tests and the doctests) and ``skip_ledger`` (every
  skip listed with its reason; with ``EPMT_GRAPH_STRICT_SKIPS=1``, as in CI, a skip for any
  reason but a missing optional tool fails the session).
* Runs every doctest against the loaded sample jobs (the API's default graph), with
  ``import epmt_graph.api as eq`` done, and checks that it left them as it found them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _pytest.doctest import DoctestItem

import epmt_graph.api as eq

sys.path.insert(0, str(Path(__file__).resolve().parent / "tests"))
from injection_support import snapshot  # from tests/, put on the path just above

pytest_plugins = ["graph_fixtures", "skip_ledger"]


@pytest.fixture(autouse=True)
def _doctest_graph(request: pytest.FixtureRequest) -> Iterator[None]:
    """For a doctest only: the sample jobs loaded (the default graph) and ``eq`` defined;
    the example must leave the shared graph as it found it (an error at teardown if not)."""
    if not isinstance(request.node, DoctestItem):
        yield
        return
    graph = request.getfixturevalue("loaded_graph")
    request.getfixturevalue("doctest_namespace")["eq"] = eq
    before = snapshot(graph)
    yield
    assert snapshot(graph) == before, "the example changed the shared graph"
