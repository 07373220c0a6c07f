"""The API through a routing URI (``neo4j://``), as on a cluster or Aura, against the test server.

A routing driver asks the server for a routing table and sends ``execute_read`` work to a
reader and ``execute_write`` work to the writer; a single server is its own router, reader
and writer, so the same code answers the same. Checked against EPMT 5.0.1's recorded answers.
"""

from __future__ import annotations

from collections.abc import Iterator

import neo4j
import pytest
from epmt_answers import answers, key, workbook

import epmt_graph.api as eq
from epmt_graph.config import Connection
from epmt_graph.db import Graph, set_default_graph
from epmt_graph.loader import compute_trees

QUERY_JOBS = ["685000", "685003", "685016"]
#: Direct schemes and their routing counterparts (TLS settings kept).
ROUTING = {"bolt": "neo4j", "bolt+s": "neo4j+s", "bolt+ssc": "neo4j+ssc"}


def routing_uri(uri: str) -> str:
    """``uri`` with a routing scheme: ``bolt://h:p`` -> ``neo4j://h:p``; routing URIs as they are.

    Examples
    --------
    >>> routing_uri("bolt://127.0.0.1:7687"), routing_uri("neo4j+s://x.databases.neo4j.io")
    ('neo4j://127.0.0.1:7687', 'neo4j+s://x.databases.neo4j.io')
    """
    scheme, _, rest = uri.partition("://")
    return f"{ROUTING.get(scheme, scheme)}://{rest}"


@pytest.fixture(scope="module")
def routed(loaded_graph: Graph) -> Iterator[Graph]:
    """A Graph on a routing URI to the test server (sample jobs loaded), installed as the
    API's default graph; the session's graph is back afterwards."""
    c = loaded_graph.connection
    with Graph(Connection(routing_uri(c.uri), c.user, c.password, c.database)) as handle:
        old = set_default_graph(handle)
        try:
            yield handle
        finally:
            set_default_graph(old)


def test_the_driver_routes(routed: Graph) -> None:
    assert routed.connection.uri.partition("://")[0] in ROUTING.values()
    assert isinstance(routed.driver, neo4j.Neo4jDriver)  # routing, not a direct BoltDriver

    def table(tx: neo4j.ManagedTransaction) -> dict[str, list[str]]:
        record = tx.run(
            "CALL dbms.routing.getRoutingTable({}, $db) YIELD servers RETURN servers",
            db=routed.connection.database,
        ).single(strict=True)
        return {s["role"]: s["addresses"] for s in record["servers"]}

    roles = routed.execute_read(table)
    assert {"ROUTE", "READ", "WRITE"} <= set(roles)
    assert all(roles[role] for role in ("ROUTE", "READ", "WRITE"))


def test_writes_go_through_the_router(routed: Graph) -> None:
    before = eq.root("685000", fmt="dict")
    compute_trees(routed, "685000")  # execute_write: the walks again, the same values
    assert eq.root("685000", fmt="dict", graph=routed) == before


def test_roots_and_root_tree_match_epmt(routed: Graph) -> None:
    roots = eq.get_roots("685000", fmt="terse")  # the default graph: the routed one
    assert len(roots) == workbook("get_roots(['685000'], fmt='orm').count()") == 32
    root = eq.root("685000", fmt="orm", graph=routed)
    assert (root.pid, root.exename) == (6098, "tcsh")
    expected = answers()["facts"]["685000 pid 6098 [len(children), len(descendants)]"]
    assert [len(root.children), len(root.descendants)] == expected["expected"] == [735, 3448]
    assert [eq.root("685016", fmt="orm").pid, "tcsh"] == workbook("root('685016') [pid, exename]")


def test_jobs_and_op_roots_match_epmt(routed: Graph) -> None:
    assert eq.get_jobs("685016, 685000", fmt="terse") == workbook(
        "get_jobs('685016, 685000', fmt='terse')"
    )
    latest_first = eq.get_jobs(
        QUERY_JOBS, order=eq.desc(eq.Job.start), limit=2, offset=1, fmt="terse", graph=routed
    )
    fact = "get_jobs(query_jobs, order=desc(Job.start), limit=2, offset=1, fmt='terse')"
    assert latest_first == answers()["facts"][fact]["expected"] == ["685003", "685000"]
    assert sorted(eq.get_jobs(QUERY_JOBS, fmt="terse")) == QUERY_JOBS
    ops = eq.op_roots(QUERY_JOBS, "op:hsmget", fmt="dict")
    call = "op_roots(['685000', '685003', '685016'], 'op:hsmget', fmt='orm') [brief, "
    epmt = {row["key"] for row in workbook(call + "order as returned]")}
    # EPMT 5.0.1 drops tagged processes without a parent; we keep them (see the README)
    assert {key(row) for row in ops if row["parent"] is not None} == epmt
    assert len(epmt) == 277 and len(ops) == 306
