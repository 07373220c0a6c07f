"""The schema set-up, ``Graph.ensure_schema``: a database set up already costs one read
(``schema-state``); one that lacks an index, or still has a constraint the schema drops, is
brought back to ``schema.cypher``. Checked against the server's own ``SHOW INDEXES``."""

from __future__ import annotations

import pytest

from epmt_graph import cypher
from epmt_graph.db import Graph

CREATED = {
    "jobhead_jobid",
    "job_version",
    "process_uid_lookup",
    "process_jobid_depth",
    "process_jobid_start",
    "process_jobid",
    "job_start",
    "refmodel_id",
    "refmodel_name",
}
DROPPED = {"job_jobid", "process_uid"}


def index_states(graph: Graph) -> dict[str, str]:
    found = graph.driver.execute_query("SHOW INDEXES YIELD name, state RETURN name, state")
    return {record["name"]: record["state"] for record in found.records}


def set_up_again(graph: Graph) -> None:
    with Graph(graph.connection) as fresh:
        fresh.ensure_schema()


def test_the_names_are_those_schema_cypher_creates_and_drops() -> None:
    assert cypher.schema_names() == (CREATED, DROPPED)


def test_a_database_set_up_already_runs_no_schema_statement(
    graph: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert all(index_states(graph)[name] == "ONLINE" for name in CREATED)

    def refused(name: str) -> list[str]:
        raise AssertionError(f"{name}.cypher run on a database that has its schema")

    monkeypatch.setattr(cypher, "statements", refused)
    set_up_again(graph)


def test_a_missing_index_is_made_again(graph: Graph) -> None:
    graph.driver.execute_query("DROP INDEX job_start")
    try:
        assert "job_start" not in index_states(graph)
        set_up_again(graph)
        assert index_states(graph)["job_start"] == "ONLINE"
    finally:
        graph.driver.execute_query("CREATE INDEX job_start IF NOT EXISTS FOR (j:Job) ON (j.start)")


def test_a_constraint_the_schema_drops_is_dropped(graph: Graph) -> None:
    graph.driver.execute_query(
        "CREATE CONSTRAINT job_jobid IF NOT EXISTS FOR (o:OldStyleJob) REQUIRE o.jobid IS UNIQUE"
    )
    try:
        assert "job_jobid" in index_states(graph)
        set_up_again(graph)
        assert "job_jobid" not in index_states(graph)
        assert all(index_states(graph)[name] == "ONLINE" for name in CREATED)
    finally:
        graph.driver.execute_query("DROP CONSTRAINT job_jobid IF EXISTS")
